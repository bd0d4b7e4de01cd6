"""Each strategy end to end on the real embedded model (tiny k and token limits; structure only)."""

from __future__ import annotations

import pytest

from reasonlab.api import run
from reasonlab.models import load_model

pytestmark = pytest.mark.embedded

Q = "Tom has 3 apples and buys 2 more. How many apples does he have?"


@pytest.fixture(scope="module")
def model():
    m = load_model("smollm2")
    yield m
    m.close()


def _check(res, n_calls_at_least: int) -> None:
    assert res.status in ("ok", "no_answer")
    assert len(res.calls) >= n_calls_at_least and all(c.output is not None for c in res.calls)
    assert res.usage.completion_tokens > 0


def test_few_shot_cot(model):
    res = run(Q, "few-shot-cot", model, cache=False, shots=2, max_tokens=16)
    _check(res, 1)
    assert res.details["exemplars"]["ids"] == ["arithmetic-1", "arithmetic-2"]
    assert res.calls[0].completion_tokens <= 16


def test_self_consistency(model):
    res = run(Q, "self-consistency", model, cache=False, samples=3, shots=1, max_tokens=16)
    _check(res, 3)
    assert [c.sample_index for c in res.calls] == [0, 1, 2]
    assert sum(res.details["votes"].values()) == res.details["answered"]


def test_diverse(model):
    res = run(Q, "diverse", model, cache=False, prompts=2, samples=2, shots=1, max_tokens=16,
              verifier_samples=1)
    _check(res, 4)
    assert res.details["verifier"]["mode"] in ("logprobs", "sample")
    assert len(res.details["paths"]) == 4


def test_least_to_most(model):
    res = run(Q, "least-to-most", model, cache=False, max_tokens=16, decompose_tokens=40, max_subquestions=2)
    _check(res, 2)
    assert res.calls[0].label == "decompose"
    assert ("subquestions" in res.details) != ("fallback" in res.details)


def test_confidence_weighted_self_consistency_scores_every_sample(model):
    res = run(Q, "self-consistency", model, cache=False, samples=3, max_tokens=24, exemplars="none",
              confidence="lowest", window=8)
    _check(res, 3)
    paths = res.details["paths"]
    assert res.details["confidence"]["scored"] == 3
    assert all(p["confidence"] is not None and p["confidence"] <= 0 for p in paths)
    assert all(0 < p["weight"] <= 1 or not p["kept"] or p["key"] is None for p in paths)


def test_tree_search_records_its_tree(model):
    res = run(Q, "tree", model, cache=False, beam=1, expand=2, depth=2, max_tokens=16, finish_tokens=24)
    _check(res, 2)
    tree = res.details["tree"]
    assert tree["nodes"][0]["parent"] is None and len(tree["nodes"]) >= 2
    assert all(n["status"] in ("kept", "pruned", "complete", "failed", "open") for n in tree["nodes"])
