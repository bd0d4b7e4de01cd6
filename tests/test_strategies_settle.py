"""Stopping rules of sampled votes: Adaptive-Consistency's Beta criterion (settle_rule=beta), count votes
without confidence, waves on a batching backend, and PAL's program vote under the same rules."""

from __future__ import annotations

import pytest

from reasonlab.api import run
from reasonlab.models.base import Completion, Model
from reasonlab.models.scripted import ScriptedModel
from reasonlab.sandbox import detect
from reasonlab.strategies.base import StrategyError
from reasonlab.strategies.confidence import beta_majority, settled
from reasonlab.strategies.self_consistency import round_sizes, wave_sizes


@pytest.mark.parametrize(("lead", "second", "p"), [
    (0, 0, 0.5), (1, 0, 0.75), (3, 0, 0.9375), (4, 0, 0.96875), (5, 1, 0.9375), (6, 1, 0.96484375),
    (2, 1, 0.6875),
])
def test_beta_majority_matches_the_closed_form(lead, second, p):
    # integer votes: P(X > 1/2), X ~ Beta(a, b) = P(Binomial(a + b - 1, 1/2) >= a), exact
    assert beta_majority(lead, second) == pytest.approx(p, abs=1e-9)


def test_beta_rule_on_counts_and_on_weights():
    assert not settled({"7": 3.0}, 3.0, 5, 1.0, 0.95, "beta")
    assert settled({"7": 4.0}, 4.0, 4, 1.0, 0.95, "beta")
    assert not settled({"7": 5.0, "3": 1.0}, 6.0, 2, 1.0, 0.95, "beta")
    assert settled({"7": 6.0, "3": 1.0}, 7.0, 1, 1.0, 0.95, "beta")
    # weights count as weight / mean weight: 4 votes of weight 0.5 are 4 votes, not 2
    assert settled({"7": 2.0}, 2.0, 4, 0.5, 0.95, "beta", votes=4)
    assert not settled({"7": 1.5}, 1.5, 5, 0.5, 0.95, "beta", votes=3)
    # a heavier minority answer lowers the odds: 4 light votes against 1 heavy one
    assert not settled({"7": 4 * 0.2, "3": 1.0}, 1.8, 3, 1.0, 0.9, "beta", votes=5)
    assert settled({"7": 1.0}, 1.0, 0, 1.0, 0.99, "beta")  # nothing left to draw


def test_wave_sizes_on_a_batching_backend():
    assert wave_sizes(8, 0, 0) == [4, 4]
    assert wave_sizes(8, 1, 3) == [3, 5]
    assert wave_sizes(8, 0, 8) == [8]
    assert round_sizes(8, 1, 3) == [3, 1, 1, 1, 1, 1]


def test_settle_rule_and_level_are_checked():
    model = ScriptedModel(fn=lambda _m, _p, i: "the answer is 7")
    with pytest.raises(StrategyError, match="settle_rule must be one of safe, share, beta"):
        run("What is 3 + 4?", "self-consistency", model, cache=False, samples=4, settle=0.9, settle_rule="vote")


def test_count_vote_beta_stops_one_call_at_a_time_without_confidence():
    answers = ["7", "7", "3", "7", "7", "7", "7", "7"]
    model = ScriptedModel(fn=lambda _m, _p, i: f"the answer is {answers[i]}")  # no settling: one call per round
    r = run("What is 3 + 4?", "self-consistency", model, cache=False, samples=8, exemplars="none",
            settle=0.95, settle_rule="beta", warmup=2, round_size=1)
    # (2,0) 0.875, (2,1) 0.69, (3,1) 0.81, (4,1) 0.89, (5,1) 0.94, (6,1) 0.965: stop at 7 of 8
    assert r.answer == "7" and r.details["early_stop"]["drawn"] == 7
    assert r.details["early_stop"]["round_sizes"] == [2, 1, 1, 1, 1, 1]


def test_the_settled_wave_answer_equals_the_full_vote_where_it_is_unanimous():
    model = ScriptedModel(fn=lambda _m, _p, i: "so the answer is 12", settles=True)
    full = run("q?", "self-consistency", model, cache=False, samples=8, exemplars="none")
    early = run("q?", "self-consistency", model, cache=False, samples=8, exemplars="none",
                settle=0.95, settle_rule="beta", warmup=4)
    assert early.answer == full.answer == "12"
    assert early.details["early_stop"] == {"drawn": 4, "saved": 4, "rounds": 1, "round_sizes": [4]}


# -- PAL's program vote -------------------------------------------------------------------------
needs_sandbox = pytest.mark.skipif(detect().backend == "none", reason="no sandbox on this machine")
Q = "A farmer has 17 sheep and buys 3 pens of 4 sheep each. How many sheep does he have?"
GOOD = "```python\ndef solution():\n    sheep = 17 + 3 * 4\n    return sheep\n```"
OTHER = "```python\ndef solution():\n    return 31\n```"


class Programs(Model):
    spec = identity = "programs"

    def __init__(self, pick):
        self.pick = pick
        self.requests: list[int] = []

    def generate(self, messages, params, n=1, sample_offset=0, tools=None):
        self.requests.append(n)
        return [Completion(self.pick(i), 10, 20, "stop") for i in range(sample_offset, sample_offset + n)]


@needs_sandbox
@pytest.mark.sandbox
def test_program_vote_beta_rule_without_confidence():
    agree = Programs(lambda i: GOOD)
    r = run(Q, "pal", agree, cache=False, samples=8, settle=0.95, settle_rule="beta", warmup=2, rounds=0)
    assert r.answer == "29" and r.details["early_stop"] == {"drawn": 4, "saved": 4}
    assert agree.requests == [2, 1, 1]
    split = Programs(lambda i: OTHER if i == 1 else GOOD)
    r = run(Q, "pal", split, cache=False, samples=8, settle=0.95, settle_rule="beta", warmup=2, rounds=0)
    assert r.answer == "29" and r.details["early_stop"]["drawn"] == 7  # 6 of 7 reach 0.965
