"""Planning on the real embedded model: structure only (the tiny model's words are not pinned)."""

import pytest

from reasonlab.api import run
from reasonlab.planning import blocksworld as bw
from reasonlab.planning.builtin import blocksworld_example
from reasonlab.planning.task import make_problem


def _problem(n=3, variant="plain"):
    insts = bw.generate(n, 1, seed=0)
    task = insts[0].task(f"bw-{n}")
    if variant != "plain":
        from reasonlab.planning.mystery import obfuscate

        task = obfuscate(task, variant)[0]
    return make_problem(task, example=blocksworld_example(n, 0, {insts[0].key}, variant))


@pytest.mark.embedded
def test_plain_modulo_on_three_blocks_with_the_embedded_model():
    r = run(_problem(), "plan-modulo", "smollm2", cache=False, rounds=2, max_tokens=96, plain=True)
    d = r.details
    assert 1 <= d["rounds_used"] <= 2 and len(d["rounds"]) == d["rounds_used"] == len(r.calls)
    for rd in d["rounds"]:
        assert isinstance(rd["output"], str) and rd["critique"]
        assert rd["valid"] == bool(rd["verdict"] and rd["verdict"]["valid"])
    assert (r.answer is not None) == d["valid"]  # an answer only with the validator's approval
    assert r.usage.completion_tokens > 0


@pytest.mark.embedded
@pytest.mark.parametrize("variant", ["plain", "mystery"])
def test_grammar_makes_every_line_well_formed(variant):
    """With the grammar from the PDDL, no candidate has an unreadable line."""
    r = run(_problem(variant=variant), "plan-modulo", "smollm2", cache=False, rounds=1, candidates=2, max_tokens=96)
    cands = r.details["rounds"][0]["candidates"]
    assert len(cands) == 2 and "root ::=" in r.calls[0].params["grammar"]
    for c in cands:
        assert c["parsed"]["errors"] == [] and c["parsed"]["actions"], c["output"]
        assert c["verdict"] is not None
    assert (r.answer is not None) == r.details["valid"]


@pytest.mark.embedded
def test_guided_choices_are_always_listed_actions():
    r = run(_problem(), "plan-guided", "smollm2", cache=False, budget=6, scorer="generate")
    d = r.details
    chosen = [s for s in d["steps"] if s["kind"] == "choose"]
    assert d["moves"] <= 6 and len(r.calls) == len(chosen)
    for s in chosen:
        assert s["reply"].strip() == s["choice"] and s["choice"] in s["options"] and not s["critique"]
    assert (r.answer is not None) == d["valid"]


@pytest.mark.embedded
def test_guided_logprob_ranking_takes_the_best_scored_action():
    r = run(_problem(), "plan-guided", "smollm2", cache=False, budget=6)
    d = r.details
    fresh = [s for s in d["steps"] if s["kind"] == "choose" and not s["reused"]]
    assert d["moves"] <= 6 and d["rankings"] == len(fresh)
    assert all(c.kind == "logprobs" for c in r.calls) and len(r.calls) == sum(len(s["options"]) for s in fresh)
    for s in fresh:
        assert all(x is not None and x < 0 for x in s["scores"]) and all(n > 0 for n in s["lengths"])
        assert s["scores"][s["options"].index(s["choice"])] == max(s["scores"])  # the argmax (as rounded)
    assert (r.answer is not None) == d["valid"]
