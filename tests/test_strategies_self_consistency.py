"""self-consistency: one batched request, normalised majority vote, tie rule, early stop."""

from __future__ import annotations

import random

import pytest

from reasonlab.api import run
from reasonlab.cache import Cache
from reasonlab.models.scripted import ScriptedModel
from reasonlab.strategies.self_consistency import Sample, decided, round_sizes, tally

Q = "A box has 6 rows of 5 eggs. How many eggs are in the box?"


def by_index(replies):
    """A scripted model whose reply depends only on the sample index (like a seeded backend)."""
    return ScriptedModel(fn=lambda messages, params, i: replies[i])


def test_k_samples_are_one_batched_request_and_all_paths_are_traced():
    replies = ["6 × 5 = 30. The answer is 30."] * 5 + ["The answer is $30.00"] + ["The answer is 11."] * 2
    model = by_index(replies)
    res = run(Q, "self-consistency", model, cache=False)
    assert len(model.received) == 1  # one request for all eight samples
    assert [c.sample_index for c in res.calls] == list(range(8))
    assert all(c.label == "sample" and c.params["temperature"] == 0.7 for c in res.calls)
    assert [c.output for c in res.calls] == replies
    assert res.calls[0].messages == model.received[0]
    d = res.details
    assert res.answer == "30" and d["votes"] == {"30": 6, "11": 2} and d["share"] == 0.75
    assert d["winner"] == "30" and d["samples"] == 8 and d["answered"] == 8 and d["tie"] == []
    assert [p["answer"] for p in d["paths"]] == ["30"] * 5 + ["30.00"] + ["11"] * 2


def test_samples_option_and_zero_shot_prompt():
    model = by_index(["The answer is 4."] * 16)
    res = run(Q, "self-consistency", model, cache=False, samples="16", exemplars="none", temperature=0.5)
    assert len(res.calls) == 16 and res.calls[0].params["temperature"] == 0.5
    assert res.calls[0].messages == [{"role": "user", "content": f"{Q}\n\nLet's think step by step."}]


def test_tie_goes_to_the_answer_seen_first():
    res = run(Q, "self-consistency", by_index(["The answer is 7."] * 2 + ["The answer is 9."] * 2), cache=False,
              samples=4)
    assert res.answer == "7" and res.details["tie"] == ["7", "9"]
    res = run(Q, "self-consistency", by_index(["The answer is 9.", "The answer is 7."] * 2), cache=False,
              samples=4)
    assert res.answer == "9"


def test_paths_without_answers_do_not_vote_but_count_in_the_share():
    replies = ["I am not sure.", "The answer is 5.", "hmm", "The answer is 5."]
    res = run(Q, "self-consistency", by_index(replies), cache=False, samples=4)
    assert res.answer == "5" and res.details["share"] == 0.5 and res.details["answered"] == 2


def test_no_sample_yields_an_answer():
    model = by_index(["I cannot tell."] * 8)
    res = run(Q, "self-consistency", model, cache=False)
    assert res.answer is None and res.status == "no_answer"
    assert "none of the 8 sampled paths" in res.note
    assert len(res.calls) == 8 and res.details["votes"] == {} and len(res.details["paths"]) == 8


def test_strict_answer_is_the_vote_over_explicit_answers():
    replies = ["so 12", "so 12", "The answer is 13.", "so 12"]
    res = run(Q, "self-consistency", by_index(replies), cache=False, samples=4)
    assert res.answer == "12" and res.strict_answer == "13"


def test_early_stop_when_the_first_round_agrees():
    model = by_index(["The answer is 30."] * 8)
    res = run(Q, "self-consistency", model, cache=False, early_stop=True)
    assert len(model.received) == 1 and len(res.calls) == 4
    assert res.answer == "30"
    assert res.details["early_stop"] == {"drawn": 4, "saved": 4, "rounds": 1, "round_sizes": [4]}


def test_early_stop_rounds_use_distinct_sample_offsets_and_stop_on_the_tie_rule():
    seq = [7, 7, 3, 7, 7, 3, 3, 3]  # full k: 4–4 tie, 7 seen first wins
    replies = [f"The answer is {a}." for a in seq]
    full = run(Q, "self-consistency", by_index(replies), cache=False)
    early = run(Q, "self-consistency", by_index(replies), cache=False, early_stop=True)
    assert full.answer == early.answer == "7"
    # after 5 samples 7 leads 4–1; 3 can at best tie at 4 and 7 came first
    assert [c.sample_index for c in early.calls] == [0, 1, 2, 3, 4]
    assert early.details["early_stop"]["saved"] == 3


def test_early_stop_samples_are_the_full_runs_samples(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    model = by_index(["The answer is 2."] * 8)
    run(Q, "self-consistency", model, cache=cache, early_stop=True)
    full = run(Q, "self-consistency", model, cache=cache)
    assert [c.cached for c in full.calls] == [True] * 4 + [False] * 4


def test_early_stop_never_changes_the_winner():
    rng = random.Random(1)
    saved = 0
    for _ in range(300):
        k = rng.choice([4, 5, 8, 12])
        seq = [rng.choice(["1", "1", "2", "3", None]) for _ in range(k)]
        replies = [f"The answer is {a}." if a else "no idea" for a in seq]
        full = run(Q, "self-consistency", by_index(replies), cache=False, samples=k)
        early = run(Q, "self-consistency", by_index(replies), cache=False, samples=k, early_stop=True,
                    round_size=rng.choice([0, 1, 2]))
        assert early.answer == full.answer, seq
        saved += early.details["early_stop"]["saved"]
    assert saved > 0


def test_decided_and_round_sizes():
    def paths(keys):
        return [Sample(i, "", k, k, k) for i, k in enumerate(keys)]

    assert decided(paths(["a"] * 4), 4)  # an unseen answer can only tie, and 'a' came first
    assert not decided(paths(["a"] * 3), 4)
    assert not decided(paths(["a", "b", "b"]), 1)  # a could tie b at 2, and a came first
    assert decided(paths(["b", "b", "a"]), 1)  # a could tie b at 2, but b came first
    assert decided(paths(["a", "b", "b"]), 0)
    assert not decided(paths([None, None]), 2)
    assert round_sizes(8, 0) == [4, 1, 1, 1, 1]
    assert round_sizes(16, 0) == [8, 2, 2, 2, 2]
    assert round_sizes(7, 3) == [3, 3, 1]
    assert round_sizes(5, 1, 2) == [2, 1, 1, 1]  # a warm-up wave, then one at a time
    assert round_sizes(8, 0, 3) == [3, 1, 1, 1, 1, 1]
    assert round_sizes(4, 2, 9) == [4]


def test_weighted_tally_breaks_ties_by_count_then_order():
    ps = [Sample(0, "", "a", "a", "a", 0.0), Sample(1, "", "b", "b", "b", 0.0), Sample(2, "", "b", "b", "b", 0.0)]
    assert tally(ps, weighted=True).winner == "b"
    assert tally(ps).winner == "b"


def test_bad_samples_option():
    from reasonlab.strategies import StrategyError

    with pytest.raises(StrategyError, match="at least 1"):
        run(Q, "self-consistency", by_index([]), cache=False, samples=0)
