"""Each strategy's own view on the web page, in a real headless Chromium, driven by scripted models
through the real strategies and server: structure checks on a desktop and on a 390 px phone (no
sideways scrolling, no header broken over two lines), and screenshots of both under test-artifacts/."""

from __future__ import annotations

import json

import pytest
from web_support import DESKTOP, PHONE, broken_headers, collect_errors, launch_browser, overflow, shoot

from reasonlab.context import RunContext
from reasonlab.problem import Prediction, Problem
from reasonlab.server import ServerConfig
from reasonlab.server.app import create_app
from reasonlab.server.testing import LiveServer
from reasonlab.strategies.base import REGISTRY, Options, Strategy, register

pytestmark = [pytest.mark.browser, pytest.mark.server]

QUESTION = "A pen costs 3 dollars. How much do 4 pens cost?"
PAL_CODE = ("```python\ndef solution():\n    pens = 4\n    price = 3\n    total = pens * price\n"
            "    print('total', total)\n    return total\n```")
GRAPH = {"nodes": [{"id": "pens", "ask": "How many pens are bought?"},
                   {"id": "price", "ask": "What does one pen cost?"},
                   {"id": "total", "ask": "What is the total cost?", "after": ["pens", "price"]}], "output": "total"}
CYCLE = {"nodes": [{"id": "pens", "ask": "How many pens are bought?", "after": ["total"]},
                   {"id": "total", "ask": "What is the total cost?", "after": ["pens"]}], "output": "total"}
FLOW = {"steps": [{"id": "cost", "ask": "How much do 4 pens at 3 dollars each cost?", "answer": "number", "set": "cost"},
                  {"id": "check", "branch": "cost > 10", "then": "big", "else": "small"},
                  {"id": "big", "output": "{cost}"}, {"id": "small", "output": "{cost}"}]}

# model file name → what it replies (scripted model format); the file's stem is the model's id
SCRIPTS = {
    "m-cot": {"default": "Each pen costs **3 dollars**.\n\n1. Pens: `4`\n2. Total: 4 × 3 = 12\n\n"
                         "<img src=x onerror=alert(1)> The answer is 12."},
    "m-sc": {"by_prompt": {"": ["4 × 3 = 12. The answer is 12.", "I think 11. The answer is 11.",
                                "4 pens cost 12. The answer is 12."]}},
    "m-diverse": {"by_prompt": {"": ["4 × 3 = 12. The answer is 12.", "The answer is 11."]},
                  "logprobs": {"correct": [-0.2], "incorrect": [-1.5]}},
    "m-pal": {"default": PAL_CODE},
    "m-repair": {"replies": ["```python\ndef solution():\n    return pens * 3\n```", PAL_CODE]},
    "m-graph": {"by_prompt": {"sub-question: What is the total cost": "4 × 3 = 12. The answer is 12. "
                                                                     "The answer is not immediately apparent from the rest.",
                              "sub-question: How many pens": "There are 4 pens. The answer is 4.",
                              "sub-question: What does one pen": "The answer is 3."},
                "default": json.dumps(GRAPH)},
    "m-cycle": {"by_prompt": {"Let's think step by step": "4 pens at 3 dollars: 12. The answer is 12.",
                              "Therefore": "12"}, "default": json.dumps(CYCLE)},
    "m-flow": {"by_prompt": {"Think briefly": "The answer is 12."}, "default": json.dumps(FLOW)},
    "m-react": {"replies": ['Thought: I need 4 times 3.\nAction: calculator[{"expression": "4 * 3"}]',
                           "Thought: 4 pens cost 12.\nFinal Answer: 12"]},
    "m-l2m": {"replies": ["1. How much does one pen cost?\n2. How many pens are bought?",
                          "One pen costs 3 dollars. The answer is 3.", "4 pens. The answer is 4.",
                          "4 × 3 = 12. The answer is 12."]},
    # round 1: three candidates, none valid (the first performs but misses the goal); round 2 continues
    # from the performable prefix and reaches the goal
    "m-plan": {"replies": ["(pick-up a)\n(stack a b)\n[PLAN END]", "(stack b a)\n[PLAN END]", "(stack b a)\n[PLAN END]"],
               "default": "(unstack a b)\n(put-down a)\n(pick-up b)\n(stack b a)\n[PLAN END]"},
}


@register
class _PlanOnBlocks(Strategy):
    """plan-modulo on a fixed 3-block Blocksworld task (a chat question carries no PDDL)."""

    name = "test-web-plan"
    description = "test only: plan-modulo on a generated Blocksworld task"
    Options = Options

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        from reasonlab.planning import blocksworld as bw
        from reasonlab.planning.task import make_problem

        task = bw.generate(3, 1, seed=0)[0].task("web")
        return REGISTRY["plan-modulo"](rounds=3).solve(ctx, make_problem(task))


@pytest.fixture(scope="module")
def browser():
    yield from launch_browser()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("views")
    specs = []
    for name, script in SCRIPTS.items():
        (folder / f"{name}.json").write_text(json.dumps(script), encoding="utf-8")
        specs.append(f"scripted:{folder / name}.json")
    app = create_app(ServerConfig(models=specs, default_strategy="direct"))
    with LiveServer(app) as srv:
        yield srv
    REGISTRY.pop(_PlanOnBlocks.name, None)


def ask(browser, server, strategy: str, model: str, options: dict | None = None, question: str = QUESTION):
    page = browser.new_page(viewport=DESKTOP)
    errors = collect_errors(page)
    page.goto(server.url + "/")
    page.wait_for_selector(f"#strategy option[value='{strategy}']", state="attached")
    page.select_option("#model", model)
    page.select_option("#strategy", strategy)
    if options:
        page.click("#toggle-options")
        for k, v in options.items():
            if isinstance(v, bool):
                page.set_checked(f"#opt-{k}", v)
            else:
                page.fill(f"#opt-{k}", str(v))
        page.click("#toggle-options")
    page.fill("#input", question)
    page.click("#send")
    page.wait_for_selector(".turn.assistant .answer:not(.pending)", timeout=60_000)
    return page, page.locator(".turn.assistant").last, errors


def both_sizes(page, name: str, errors: list[str]) -> None:
    """Desktop screenshot, then the same conversation at 390 px: nothing wider than the screen."""
    shoot(page, f"web_{name}_desktop")
    assert broken_headers(page) == []
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)
    shoot(page, f"web_{name}_phone")
    assert overflow(page) == []
    assert broken_headers(page) == []
    assert not errors, errors


def answer_of(turn) -> str:
    return turn.locator(".answer .value").inner_text()


def test_zero_shot_cot_reasoning_as_markdown(browser, server):
    page, turn, errors = ask(browser, server, "zero-shot-cot", "m-cot")
    assert answer_of(turn) == "12"
    assert turn.locator(".answer .badge").inner_text() == "strict"
    assert turn.locator(".thought").inner_text().startswith("Thought for")
    md = turn.locator(".reasoning .md")
    assert md.locator("strong").first.inner_text() == "3 dollars"
    assert md.locator("ol > li").count() == 2 and md.locator("code").first.inner_text() == "4"
    assert md.locator("img").count() == 0 and "<img src=x" in md.inner_text()  # hostile text stays text
    assert turn.locator(".calls-box > summary").inner_text().startswith("2 model calls")
    assert turn.locator(".panel.plans, .panel.program").count() == 0
    both_sizes(page, "zero_shot_cot", errors)


def test_self_consistency_votes(browser, server):
    page, turn, errors = ask(browser, server, "self-consistency", "m-sc", {"samples": 3})
    assert answer_of(turn) == "12"
    votes = turn.locator(".panel.votes")
    assert votes.locator("tr.winner td").first.inner_text() == "12"
    assert votes.locator(".vote-table tr").count() == 3  # header + two answers
    assert "3 samples drawn" in votes.inner_text()
    assert "verifier weight" not in votes.inner_text()
    both_sizes(page, "self_consistency", errors)


def test_diverse_votes_with_verifier_weights(browser, server):
    page, turn, errors = ask(browser, server, "diverse", "m-diverse", {"prompts": 2, "samples": 2})
    votes = turn.locator(".panel.votes")
    assert "verifier weight" in votes.locator(".vote-table tr").first.inner_text()
    assert votes.locator("tr.winner").count() == 1
    turn.locator(".paths > summary").click()
    assert turn.locator(".paths tr").count() == 5  # header + 2 prompts × 2 samples
    both_sizes(page, "diverse", errors)


def test_pal_program_shown_once_and_no_plan_rounds(browser, server):
    page, turn, errors = ask(browser, server, "pal", "m-pal")
    assert answer_of(turn) == "12"
    assert turn.locator(".panel.plans").count() == 0  # PAL's rounds are program attempts, not plan rounds
    program = turn.locator(".panel.program")
    assert program.count() == 1
    assert turn.inner_text().count("total = pens * price") == 1  # the program once (the calls are folded)
    assert "total 12" in program.locator("pre.out").inner_text()
    fields = [f.inner_text() for f in program.locator(".field").all()]
    assert any(f.startswith("answer read") and f.endswith("12") and "read12" not in f for f in fields), fields
    both_sizes(page, "pal", errors)


def test_pal_repair_folds_the_failed_attempt(browser, server):
    page, turn, errors = ask(browser, server, "pal", "m-repair")
    assert answer_of(turn) == "12"
    program = turn.locator(".panel.program")
    folded = program.locator("details.attempts")
    assert folded.locator("summary").inner_text().startswith("1 earlier attempt:")
    assert "NameError" not in program.inner_text()  # folded away until asked for
    folded.locator("summary").click()
    assert "NameError" in folded.inner_text() and "return pens * 3" in folded.inner_text()
    assert program.locator(".card.final").count() == 1
    assert not errors, errors


def test_graph_nodes_are_clickable(browser, server):
    page, turn, errors = ask(browser, server, "graph", "m-graph")
    graph = turn.locator(".panel.graph")
    assert graph.locator("svg g.node.done").count() == 3
    assert graph.locator("svg path.edge").count() == 2
    total = graph.locator("svg g.node[data-id='total']")
    assert "= 12" in total.inner_html()  # the first explicit answer statement, not a later hedge
    graph.locator("svg g.node[data-id='pens']").click()
    detail = graph.locator(".node-detail")
    assert "node pens" in detail.inner_text() and "There are 4 pens" in detail.inner_text()
    detail.locator("details > summary").click()
    assert "Answer this sub-question: How many pens are bought?" in detail.inner_text()
    both_sizes(page, "graph", errors)


def test_graph_invalid_drawing_shows_the_validator_message_on_its_node(browser, server):
    page, turn, errors = ask(browser, server, "graph", "m-cycle")
    assert answer_of(turn) == "12"
    invalid = turn.locator(".panel.invalid-drawing").first
    assert invalid.locator("svg g.node").count() == 2  # the graph the model drew, although invalid
    bad = invalid.locator("svg g.node.invalid")
    assert bad.count() >= 1
    assert "cycle outside a loop" in bad.first.locator("text.problem").inner_html()
    assert "cycle outside a loop" in invalid.locator(".problems").inner_text()
    assert "fell back to zero-shot CoT" in turn.inner_text()
    both_sizes(page, "graph_invalid", errors)


def test_flow_branch_is_a_diamond(browser, server):
    page, turn, errors = ask(browser, server, "flow", "m-flow")
    assert answer_of(turn) == "12"
    graph = turn.locator(".panel.graph")
    assert graph.locator("h3").inner_text().lower() == "flowchart"
    assert graph.locator("svg g.node.kind-branch polygon").count() == 1
    assert graph.locator("svg g.node").count() == 4
    both_sizes(page, "flow", errors)


def test_react_tool_calls(browser, server):
    page, turn, errors = ask(browser, server, "react", "m-react", {"native": "off"})
    tools = turn.locator(".panel.tools")
    assert tools.locator(".card.tool").count() == 1
    assert "calculator(" in tools.locator(".card.tool code").first.inner_text()
    assert "12" in tools.locator(".observation").inner_text()
    assert answer_of(turn) == "12"
    both_sizes(page, "react", errors)


def test_least_to_most_chain(browser, server):
    page, turn, errors = ask(browser, server, "least-to-most", "m-l2m")
    graph = turn.locator(".panel.graph")
    assert graph.locator("svg g.node").count() == 3
    assert graph.locator("svg path.edge").count() == 2
    both_sizes(page, "least_to_most", errors)


def test_plan_rounds_with_critiques(browser, server):
    page, turn, errors = ask(browser, server, _PlanOnBlocks.name, "m-plan")
    plans = turn.locator(".panel.plans")
    assert plans.count() == 1
    assert plans.locator(".card.round").count() >= 1
    assert plans.locator(".badge.valid").count() >= 1
    text = plans.inner_text()
    assert "validated plan" in text
    assert "critique sent back" in text and "not valid" in text  # the first round failed, its critique went back
    both_sizes(page, "plan_modulo", errors)


def test_tree_of_thoughts_tree(browser, server):
    name = next((n for n in ("tree", "tree-of-thoughts") if n in REGISTRY.loaded()), None)
    if name is None:
        pytest.skip("no tree-of-thoughts strategy registered")
    page, turn, errors = ask(browser, server, name, "m-cot")
    tree = turn.locator(".panel.tree")
    assert tree.locator("li.tree-node").count() >= 2
    assert tree.locator("li.tree-node.chosen").count() >= 1
    assert "answer 12" in tree.inner_text()
    assert turn.locator(".reasoning .md").count() == 0  # the chosen path is the reasoning, shown in the tree
    both_sizes(page, "tree", errors)


HOSTILE = """# Title <script>alert(1)</script>
**bold <img src=x onerror=alert(1)>** and *it* and `<b>code</b>` [click](javascript:alert(1))
[ok](https://example.org/a) <iframe src=x></iframe>

| a <svg onload=alert(1)> | b |
|---|---|
| <b>x</b> | 2 |

```html
<script>alert(2)</script>
```
- item <a href=x>y</a>
  - nested
1. one
2. two
> quote <style>*{display:none}</style>
"""


def test_markdown_renderer_keeps_hostile_text_as_text(browser, server):
    page = browser.new_page()
    errors = collect_errors(page)
    page.goto(server.url + "/")
    out = page.evaluate("""async (text) => {
      const { renderMarkdown } = await import('/static/markdown.js');
      const root = renderMarkdown(text);
      document.body.append(root);
      return { tags: [...new Set([...root.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()))].sort(),
               hrefs: [...root.querySelectorAll('a')].map((a) => a.getAttribute('href')),
               attrs: [...root.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name)),
               text: root.textContent };
    }""", HOSTILE)
    allowed = {"h3", "p", "strong", "em", "code", "pre", "a", "div", "table", "thead", "tbody", "tr", "th", "td",
               "ul", "ol", "li", "blockquote", "br"}
    assert set(out["tags"]) <= allowed, out["tags"]
    assert out["hrefs"] == ["https://example.org/a"]  # no javascript: link
    assert not [a for a in out["attrs"] if a.startswith("on") or a in ("src", "style")], out["attrs"]
    for raw in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<b>code</b>", "<iframe src=x>"):
        assert raw in out["text"]  # shown, not interpreted
    assert page.evaluate("document.querySelectorAll('script:not([type=module]), img, iframe, svg').length") == 0
    assert not errors, errors
