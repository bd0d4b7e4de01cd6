"""LLM-Modulo on the real embedded model: structure only (the tiny model's words are not pinned)."""

import pytest

from reasonlab.api import run
from reasonlab.planning import blocksworld as bw
from reasonlab.planning.builtin import blocksworld_example
from reasonlab.planning.task import make_problem


@pytest.mark.embedded
def test_modulo_on_three_blocks_with_the_embedded_model():
    insts = bw.generate(3, 1, seed=0)
    task = insts[0].task("bw-3")
    problem = make_problem(task, example=blocksworld_example(3, 0, {insts[0].key}))
    r = run(problem, "plan-modulo", "smollm2", cache=False, rounds=2, max_tokens=96)
    d = r.details
    assert 1 <= d["rounds_used"] <= 2 and len(d["rounds"]) == d["rounds_used"] == len(r.calls)
    for rd in d["rounds"]:
        assert isinstance(rd["output"], str) and rd["critique"]
        assert rd["valid"] == bool(rd["verdict"] and rd["verdict"]["valid"])
    assert (r.answer is not None) == d["valid"]  # an answer only with the validator's approval
    assert r.usage.completion_tokens > 0
