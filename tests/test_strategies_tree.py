"""tree (Tree of Thoughts): beam search over steps, scoring, execution pruning, budget, the tree in details."""

from __future__ import annotations

import pytest

from reasonlab.api import run
from reasonlab.models.base import Completion, Model
from reasonlab.sandbox import detect
from reasonlab.strategies import StrategyError

needs_sandbox = pytest.mark.skipif(detect().backend == "none", reason="no sandbox on this machine")
Q = "A farmer has 17 sheep and buys 3 pens of 4 sheep each. How many sheep does he have?"


class Fake(Model):
    """`table(steps_so_far, index)` → (text, token log-probabilities); steps are read from the prompt."""

    spec = identity = "fake"

    def __init__(self, table, scores=None):
        self.table, self.scores = table, scores
        self.requests = []

    def generate(self, messages, params, n=1, sample_offset=0, tools=None):
        content = messages[-1]["content"]
        so_far = content.split("so far:\n", 1)[1].rsplit("\n\n", 1)[0] if "so far:\n" in content else ""
        steps = [ln for ln in so_far.replace("```python", "").replace("```", "").split("\n")
                 if ln.strip() and not ln.startswith("def solution")]
        self.requests.append((len(steps), n, sample_offset, params.temperature, content))
        out = []
        for i in range(sample_offset, sample_offset + n):
            text, lp = self.table(steps, i - sample_offset, content)
            out.append(Completion(text, 10, len(lp), "stop", token_logprobs=lp))
        return out

    def logprobs(self, messages, continuation):
        if self.scores is None:
            from reasonlab.models.base import NotSupported

            raise NotSupported("no scores")
        return self.scores(messages, continuation)


def text_table(steps, j, content):
    depth = len(steps)
    if depth == 0:
        return [("Pens hold 3 * 4 = 12 sheep.", [-0.1] * 8), ("Pens hold 3 + 4 = 7 sheep.", [-1.5] * 8),
                ("I like sheep.", [-2.5] * 8)][j]
    if "12" in steps[0]:
        return [("17 + 12 = 29. The answer is 29.", [-0.1] * 10), ("The answer is 28.", [-2.0] * 5),
                ("So 17 + 12 = 29 sheep.", [-0.3] * 8)][j]
    if "7" in steps[0]:
        return ("17 + 7 = 24. The answer is 24.", [-0.2] * 10)
    return ("The answer is 5.", [-3.0] * 4)


def test_text_beam_search_by_logprob_keeps_the_best_states_and_records_the_tree():
    fake = Fake(text_table)
    r = run(Q, "tree", fake, cache=False, beam=2, expand=3, depth=3)
    assert r.answer == "29"
    tree = r.details["tree"]
    assert tree["mode"] == "text" and tree["scoring"] == "logprob"
    nodes = {n["id"]: n for n in tree["nodes"]}
    assert nodes[0]["parent"] is None and nodes[0]["depth"] == 0
    level1 = [n for n in tree["nodes"] if n["depth"] == 1]
    assert len(level1) == 3 and sorted(n["status"] for n in level1) == ["kept", "kept", "pruned"]
    assert next(n for n in level1 if n["step"].startswith("I like"))["status"] == "pruned"
    best = [nodes[i] for i in tree["best"]]
    assert best[0]["id"] == 0 and best[-1]["answer"] == "29" and best[-1]["status"] == "complete"
    assert all(set(n) >= {"id", "parent", "depth", "step", "score", "step_score", "status", "answer", "error"}
               for n in tree["nodes"])
    assert fake.requests[0][1] == 3 and fake.requests[0][3] == 0.7  # expand = 3 samples, one request
    assert r.details["votes"]["29"] > r.details["votes"].get("24", 0)


def test_self_evaluation_scoring_uses_the_models_judgement():
    def scores(messages, continuation):
        good = "3 * 4" in messages[-1]["content"] or "17 + 12" in messages[-1]["content"]
        return [-0.1] if (continuation == "yes") == good else [-3.0]

    r = run(Q, "tree", Fake(text_table, scores), cache=False, beam=1, expand=3, depth=3, scoring="self")
    assert r.answer == "29" and r.details["tree"]["scoring"] == "self"
    assert any(c.label == "judge" for c in r.calls)


def test_budget_stops_the_search_and_an_unfinished_state_is_completed():
    def table(steps, j, content):
        if "Continue to the end" in content:
            return ("17 + 12 = 29. The answer is 29.", [-0.1] * 8)
        return (f"Step {len(steps) + 1}: thinking about part {j}.", [-0.5] * 6)

    r = run(Q, "tree", Fake(table), cache=False, beam=2, expand=2, depth=8, call_budget=3)
    assert r.answer == "29"
    gen = [c for c in r.calls if c.label.startswith("expand")]
    assert len(gen) <= 3 and r.calls[-1].label == "finish"
    assert r.details["tree"]["budget"]["call_budget"] == 3


@needs_sandbox
@pytest.mark.sandbox
def test_code_steps_are_executed_and_failing_steps_pruned():
    def table(steps, j, content):
        depth = len(steps)
        if depth == 0:
            return [("    pens = 3 * 4", [-0.5] * 5), ("    pens = 3 * cows", [-0.1] * 5)][j]
        if depth == 1:
            return [("    sheep = 17 + pens", [-0.3] * 5), ("    sheep = 17 + pens / 0", [-0.1] * 5)][j]
        return [("    return sheep", [-0.1] * 3), ("    return sheep + 0", [-0.2] * 3)][j]

    r = run(Q, "tree", Fake(table), cache=False, mode="code", beam=2, expand=2, depth=4)
    assert r.answer == "29"
    nodes = r.details["tree"]["nodes"]
    failed = [n for n in nodes if n["status"] == "failed"]
    assert {n["step"].strip() for n in failed} == {"pens = 3 * cows", "sheep = 17 + pens / 0"}
    assert any("NameError" in (n["error"] or "") for n in failed)
    assert any("ZeroDivisionError" in (n["error"] or "") for n in failed)
    assert r.details["tree"]["scoring"] == "execute" and "return sheep" in r.reasoning


def test_bad_options():
    with pytest.raises(StrategyError):
        run(Q, "tree", Fake(text_table), cache=False, scoring="execute")  # text mode cannot execute
    with pytest.raises(StrategyError):
        run(Q, "tree", Fake(text_table), cache=False, beam=0)
