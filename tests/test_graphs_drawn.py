"""Model-drawn graphs and flowcharts: robust parsing, validation, repair, fallback, and the strategies."""

import json

import pytest

from reasonlab.api import run
from reasonlab.graphs.drawn import DrawnError, extract_json, normalize_graph, spec_from_reply
from reasonlab.models.scripted import ScriptedModel

PLAN = {"nodes": [
    {"id": "anna", "ask": "How many apples does Anna have?", "after": []},
    {"id": "total", "ask": "How many apples in all?", "after": ["anna"]},
], "output": "total"}


@pytest.mark.parametrize("text", [
    json.dumps(PLAN),
    "Sure! Here is the plan:\n```json\n" + json.dumps(PLAN, indent=2) + "\n```\nHope it helps.",
    "The graph is " + json.dumps(PLAN) + " and that is all.",
    '{"nodes": [{"id": "anna", "ask": "How many apples does Anna have?",},\n'
    ' {"id": "total", "ask": "How many apples in all?", "after": ["anna",]},], "output": "total",}',
    "{nodes: [{id: anna, ask: 'How many apples does Anna have?'}, "
    "{id: total, ask: 'How many apples in all?', after: [anna]}], output: total}",  # unquoted (YAML)
])
def test_extract_json_tolerates_prose_fences_and_slips(text):
    data = extract_json(text)
    assert [n["id"] for n in data["nodes"]] == ["anna", "total"]


def test_extract_json_bare_list_and_failures():
    assert extract_json('[{"id": "a", "ask": "x"}]') == {"nodes": [{"id": "a", "ask": "x"}]}
    with pytest.raises(DrawnError, match="empty"):
        extract_json("   ")
    with pytest.raises(DrawnError, match="no JSON object"):
        extract_json("First find Anna's apples, then add them up.")


def test_normalize_graph_accepts_common_spellings():
    data = {"subquestions": [
        {"id": 1, "question": "How many apples does Anna have?"},
        {"id": "step-2", "question": "How many in all?", "depends_on": [1]},
    ], "final": "step-2"}
    g = normalize_graph(data, "number")
    assert [n["id"] for n in g["nodes"]] == ["n1", "step_2"]
    assert g["nodes"][1]["after"] == ["n1"] and g["output"] == "step_2"
    assert g["nodes"][1]["answer"] == "number" and g["nodes"][0]["answer"] == "text"
    assert "{facts}" in g["nodes"][1]["ask"] and "{facts}" not in g["nodes"][0]["ask"]


def test_flat_list_becomes_chain_and_loose_ends_feed_the_last_node():
    flat = normalize_graph({"nodes": [{"id": "a", "ask": "x"}, {"id": "b", "ask": "y"}, {"id": "c", "ask": "z"}]})
    assert [n["after"] for n in flat["nodes"]] == [[], ["a"], ["b"]]
    loose = normalize_graph({"nodes": [{"id": "a", "ask": "x"}, {"id": "b", "ask": "y"},
                                       {"id": "c", "ask": "z", "after": ["b"]}]})
    assert [n["after"] for n in loose["nodes"]] == [[], [], ["b", "a"]]
    wrong_output = normalize_graph({"nodes": [{"id": "a", "ask": "x"}, {"id": "b", "ask": "y", "after": ["a"]}],
                                    "output": "12"})  # a model that put its answer where the id goes
    assert "output" not in wrong_output
    named = normalize_graph({"nodes": [{"id": "question", "ask": "x"}]})
    assert named["nodes"][0]["id"] == "question_node"  # never shadows the input


def test_braces_in_model_text_are_not_references():
    data = {"nodes": [{"id": "a", "ask": "What is {x} in the set {1, 2}?"}]}
    spec, _ = spec_from_reply(json.dumps(data), "graph")
    assert spec.nodes[0].ask.endswith("What is {{x}} in the set {{1, 2}}?")


@pytest.mark.parametrize("plan, fragment", [
    ({"nodes": [{"id": "a", "ask": "x", "after": ["b"]}, {"id": "b", "ask": "y", "after": ["a"]}]}, "cycle"),
    ({"nodes": [{"id": "a", "ask": "x", "after": ["zzz"]}]}, "unknown reference 'zzz'"),
    ({"nodes": []}, "empty"),
    ({"nodes": [{"id": "a"}]}, "has no 'ask'"),
    ({"nodes": [{"id": f"n{i}", "ask": "x", "after": [f"n{i - 1}"] if i else []} for i in range(20)]},
     "too many nodes"),
])
def test_invalid_plans_are_rejected_with_reason(plan, fragment):
    with pytest.raises(DrawnError) as e:
        spec_from_reply(json.dumps(plan), "graph", max_nodes=8)
    assert fragment in str(e.value)


def answers(prompt_map, **kw):
    return ScriptedModel(by_prompt=prompt_map, **kw)


def test_graph_strategy_runs_drawn_graph(tmp_path, monkeypatch):
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "c.sqlite"))
    q = "Elsa has 5 apples. Anna has 2 more apples than Elsa. How many apples do they have together?"
    model = ScriptedModel(replies=[json.dumps(PLAN)], by_prompt={
        "Answer this sub-question: How many apples does Anna have?": "Anna has 7. The answer is 7.",
        "Answer this sub-question: How many apples in all?": "5 + 7 = 12. The answer is 12.",
    })
    events = []
    r = run(q, "graph", model, cache=False, listeners=[lambda e, p: events.append((e, p))])
    assert r.answer == "12" and r.strict_answer == "12" and r.note is None
    assert [c.label for c in r.calls] == ["plan", "node:anna", "node:total"]
    g = r.details["graph"]
    assert g["status"] == "ok" and g["mode"] == "graph"
    assert [n["id"] for n in g["nodes"]] == ["anna", "total"]
    assert g["edges"] == [{"from": "anna", "to": "total", "label": ""}]
    assert g["nodes"][0]["answer"] == "7" and g["nodes"][1]["seconds"] is not None
    last = r.calls[-1].messages[-1]["content"]
    assert "Main question: " + q in last and "How many apples does Anna have? → 7" in last
    assert [p["status"] for e, p in events if e == "node"] == ["running", "done", "running", "done"]
    assert json.loads(json.dumps(r.to_dict(), default=str))["details"]["graph"]["nodes"]


def test_graph_strategy_repairs_once_with_the_error():
    cyclic = {"nodes": [{"id": "a", "ask": "x?", "after": ["b"]}, {"id": "b", "ask": "y?", "after": ["a"]}]}
    model = ScriptedModel(replies=[json.dumps(cyclic), "```json\n" + json.dumps(PLAN) + "\n```"],
                          by_prompt={"Answer this sub-question": "The answer is 3."})
    r = run("Elsa has 5 apples and Anna 2 more. Total?", "graph", model, cache=False)
    assert [c.label for c in r.calls][:2] == ["plan", "repair"]
    repair_prompt = r.calls[1].messages[-1]["content"]
    assert "cycle outside a loop" in repair_prompt
    assert r.calls[0].meta["invalid"].startswith("node 'a': cycle") or "cycle" in r.calls[0].meta["invalid"]
    assert r.details["graph"]["attempts"][1]["error"] is None and r.note is None
    assert r.answer == "3"


def test_graph_strategy_falls_back_to_cot_with_reason():
    model = ScriptedModel(replies=["I would first find Anna's apples.", "{not json at all"],
                          by_prompt={"step by step": "5 + 7 = 12", "arabic numerals": "12"})
    r = run("Elsa has 5 apples. Anna has 2 more. How many together?", "graph", model, cache=False)
    assert [c.label for c in r.calls] == ["plan", "repair", "reasoning", "extract"]
    assert r.answer == "12"
    assert r.note.startswith("fell back to zero-shot CoT: the drawn graph was unusable: ")
    assert r.details["graph"]["fallback"] == r.calls[0].meta["fallback"]
    assert len(r.details["graph"]["attempts"]) == 2


def test_graph_strategy_without_repair_falls_back_at_once():
    model = ScriptedModel(replies=["no plan"], by_prompt={"step by step": "it is 4", "arabic": "4"})
    r = run("What is 2 + 2?", "graph", model, cache=False, repair=False)
    assert [c.label for c in r.calls] == ["plan", "reasoning", "extract"]


def test_graph_strategy_falls_back_when_the_run_fails():
    plan = {"nodes": [{"id": "a", "ask": "x?"}, {"id": "b", "ask": "y?", "after": ["a"]}]}
    model = ScriptedModel(replies=[json.dumps(plan)], by_prompt={"step by step": "so 4", "arabic": "4",
                                                                 "Answer this sub-question": "The answer is 1."})
    r = run("What is 2 + 2?", "graph", model, cache=False, max_steps=1)
    assert r.note.startswith("fell back to zero-shot CoT: the graph failed while running: step budget of 1")
    assert r.details["graph"]["nodes"][0]["status"] == "done"  # the partial run is kept
    assert r.details["graph"]["failed_node"] == "b"
    assert r.answer == "4"


FLOW = {"steps": [
    {"id": "cost", "ask": "How much do 4 pens at 3 dollars cost?", "answer": "number", "set": "cost"},
    {"id": "check", "branch": "cost > 20", "then": "over", "else": "change"},
    {"id": "change", "compute": {"change": "20 - cost"}},
    {"id": "done", "output": "{change}"},
    {"id": "over", "output": "0"},
]}


def test_flow_strategy_runs_drawn_flowchart():
    model = ScriptedModel(replies=["Here:\n" + json.dumps(FLOW)], by_prompt={"4 pens": "The answer is 12."})
    r = run("A pen costs 3 dollars. Tom buys 4 and pays 20. Change?", "flow", model, cache=False)
    assert r.answer == "8" and r.note is None
    g = r.details["graph"]
    assert g["kind"] == "flowchart" and g["path"] == ["cost", "check", "change", "done"]
    assert g["state"] == {"cost": 12, "change": 8}
    assert {"from": "check", "to": "over", "label": "yes"} in g["edges"]


def test_flow_strategy_falls_back_on_bad_reference():
    bad = {"steps": [{"id": "a", "compute": {"x": "y + 1"}}, {"id": "o", "output": "{x}"}]}
    model = ScriptedModel(replies=[json.dumps(bad), json.dumps(bad)],
                          by_prompt={"step by step": "so 4", "arabic": "4"})
    r = run("What is 2 + 2?", "flow", model, cache=False)
    assert "unknown reference 'y'" in r.note and r.answer == "4"
    assert "unknown reference 'y'" in r.calls[1].messages[-1]["content"]


def test_dry_run_shows_plan_prompt():
    from reasonlab.api import preview

    call = preview("What is 2 + 2?", "graph")
    assert call.label == "plan" and '"nodes"' in call.messages[-1]["content"]


@pytest.mark.parametrize("text", [
    '{"steps": [{"id": "c", "compute": {"c": "20 - 3"}}, {"id": "done", "output": "{c}"}}]}',  # one } too many
    '{"steps": [{"id": "c", "compute": {"c": "20 - 3"}}, {"id": "done", "output": "{c}"',  # cut off
    'Sure: {"steps": [{"id": "c", "compute": {"c": "20 - 3"}}, {"id": "done", "output": "the answer is',
])
def test_extract_json_repairs_brackets(text):
    data = extract_json(text, ("steps",))
    assert [s["id"] for s in data["steps"]] == ["c", "done"]
    assert data["steps"][0]["compute"] == {"c": "20 - 3"}


def test_flow_answer_value_in_place_of_kind_is_dropped():
    from reasonlab.graphs.drawn import normalize_flow

    data = normalize_flow({"steps": [{"id": "a", "ask": "How many?", "answer": "15"},
                                     {"id": "o", "output": "{a_answer}"}]})
    assert "answer" not in data["steps"][0] and data["steps"][0]["set"] == "a_answer"
    spec, _ = spec_from_reply(json.dumps({"steps": data["steps"]}), "flow")
    assert spec.nodes[0].answer == "text"


def test_graph_plan_call_carries_grammar_unless_unconstrained(tmp_path, monkeypatch):
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "c.sqlite"))
    from reasonlab.graphs.grammar import graph_grammar

    def model():
        return ScriptedModel(replies=[json.dumps(PLAN)], default="The answer is 7.")

    r = run("Elsa has 5 apples. Anna has 2 more. How many together?", "graph", model(), cache=False)
    plan = r.calls[0]
    assert plan.label == "plan" and plan.params["grammar"] == graph_grammar(8) and plan.meta["constrained"]
    assert all("grammar" not in c.params for c in r.calls[1:])  # node calls are free text
    r = run("Elsa has 5 apples. Anna has 2 more. How many together?", "graph", model(), cache=False,
            constrained=False)
    assert "grammar" not in r.calls[0].params and r.calls[0].meta["constrained"] is False


def test_flow_plan_call_carries_flow_grammar(tmp_path, monkeypatch):
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "c.sqlite"))
    from reasonlab.graphs.grammar import flow_grammar

    r = run("A pen costs 3 dollars. How much do 4 pens cost?", "flow",
            ScriptedModel(replies=[json.dumps(FLOW)], default="The answer is 12."), cache=False, max_nodes=5)
    assert r.calls[0].params["grammar"] == flow_grammar(5)

