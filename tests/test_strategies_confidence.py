"""Confidence-weighted voting with early stop (DeepConf) and loops as failed samples."""

from __future__ import annotations

import math

import pytest

from reasonlab.api import run
from reasonlab.models.base import Completion, Model
from reasonlab.strategies.confidence import confidence, keep_most_confident, settled, weight_of

Q = "A box has 6 rows of 5 eggs. How many eggs are in the box?"


class Fake(Model):
    """Replies by sample index: (text, token log-probabilities, finish reason)."""

    spec = identity = "fake"

    def __init__(self, table):
        self.table = table
        self.requests = []  # (n, sample_offset, temperature) of each request

    def generate(self, messages, params, n=1, sample_offset=0, tools=None):
        self.requests.append((n, sample_offset, params.temperature))
        out = []
        for i in range(sample_offset, sample_offset + n):
            text, lp, finish = self.table(messages, i)
            out.append(Completion(text, 10, len(lp or []) or 1, finish, token_logprobs=lp))
        return out


def test_confidence_measures():
    lp = [-0.1] * 10 + [-3.0] * 4 + [-0.1] * 10
    assert confidence(lp, "mean") == pytest.approx(sum(lp) / len(lp))
    assert confidence(lp, "lowest", window=4) == pytest.approx(-3.0)  # the confused stretch
    assert confidence(lp, "lowest", window=8) == pytest.approx((4 * -3.0 + 4 * -0.1) / 8)
    assert confidence(lp, "tail", window=5) == pytest.approx(-0.1)
    assert confidence(None) is None and confidence([], "mean") is None
    assert weight_of(None) == 1.0 and weight_of(-0.5) == pytest.approx(math.exp(-0.5))


def test_keep_filter_and_settle_rule():
    assert keep_most_confident([-0.1, -2.0, -0.5, None], 0.5) == [True, False, True, True]
    assert keep_most_confident([-0.1, -2.0], 1.0) == [True, True]
    # leader 2.0 of 2.2 (91 %); 2 more samples of at most 0.8 each cannot lift 0.2 past 2.0
    assert settled({"a": 2.0, "b": 0.2}, 2.2, 2, 0.8, 0.8)
    assert not settled({"a": 2.0, "b": 0.2}, 2.2, 2, 0.9, 0.8)  # 0.2 + 1.8 could tie it
    assert not settled({"a": 2.0, "b": 0.2}, 2.2, 3, 0.8, 0.8)
    assert not settled({"a": 1.0, "b": 0.9}, 1.9, 1, 0.1, 0.8)  # share below the threshold
    assert settled({"a": 1.0}, 1.0, 0, 1.0, 0.99)  # nothing left to draw


def sure(answer):
    return f"Six rows of five. The answer is {answer}.", [-0.05] * 12, "stop"


def unsure(answer):
    return f"Maybe this. The answer is {answer}.", [-0.05] * 4 + [-2.5] * 8, "stop"


def test_weighted_vote_beats_a_less_confident_majority():
    table = [unsure(11), unsure(11), unsure(11), sure(30), sure(30), unsure(12), unsure(13), unsure(14)]
    fake = Fake(lambda m, i: table[i])
    plain = run(Q, "self-consistency", fake, cache=False, samples=8)
    assert plain.answer == "11"
    weighted = run(Q, "self-consistency", fake, cache=False, samples=8, confidence="lowest", window=4)
    assert weighted.answer == "30"
    d = weighted.details
    assert d["weights"]["30"] > d["weights"]["11"] and d["votes"] == {"11": 3, "30": 2, "12": 1, "13": 1, "14": 1}
    assert all(p["confidence"] is not None for p in d["paths"]) and d["confidence"]["scored"] == 8


def test_keep_filter_drops_the_least_confident_votes():
    table = [unsure(11)] * 3 + [sure(30)] * 2 + [unsure(11)] * 3
    r = run(Q, "self-consistency", Fake(lambda m, i: table[i]), cache=False, samples=8,
            confidence="mean", keep=0.25)
    assert r.answer == "30" and r.details["confidence"]["kept"] == 2
    assert [p["kept"] for p in r.details["paths"]] == [False] * 3 + [True] * 2 + [False] * 3


def test_settle_stops_drawing_once_the_weighted_vote_is_decided():
    fake = Fake(lambda m, i: sure(30))
    r = run(Q, "self-consistency", fake, cache=False, samples=8, confidence="lowest", settle=0.9)
    assert r.answer == "30"
    assert r.details["early_stop"]["drawn"] == 5 and r.details["early_stop"]["saved"] == 3
    assert [n for n, _, _ in fake.requests] == [4, 1]  # half of k first, then k/8 per round
    assert [off for _, off, _ in fake.requests] == [0, 4]  # sample indices continue across rounds
    # a split vote is never settled: all k are drawn
    split = Fake(lambda m, i: sure(30 if i % 2 else 31))
    r = run(Q, "self-consistency", split, cache=False, samples=8, confidence="lowest", settle=0.9)
    assert r.details["early_stop"]["drawn"] == 8


def test_a_looping_sample_never_votes():
    loop = ("The answer is 99. The answer is 99. The answer is 99.", [-0.01] * 30, "repetition")
    table = [loop, loop, loop, sure(30), unsure(30), loop, loop, loop]
    r = run(Q, "self-consistency", Fake(lambda m, i: table[i]), cache=False, samples=8)
    assert r.answer == "30" and r.details["votes"] == {"30": 2} and r.details["loops"] == 6
    assert [p["finish"] for p in r.details["paths"]].count("repetition") == 6


def test_no_logprobs_means_plain_weights():
    r = run(Q, "self-consistency", Fake(lambda m, i: ("The answer is 4.", None, "stop")), cache=False,
            samples=3, confidence="lowest")
    assert r.answer == "4" and r.details["weights"] == {"4": 3.0} and r.details["confidence"]["scored"] == 0


def test_bad_confidence_option():
    from reasonlab.strategies import StrategyError

    with pytest.raises(StrategyError):
        run(Q, "self-consistency", Fake(lambda m, i: sure(1)), cache=False, confidence="loudest")


@pytest.mark.parametrize("strategy", ["zero-shot-cot", "few-shot-cot"])
def test_cot_redraws_a_looping_reply_by_sampling(strategy):
    def table(messages, i):
        if "Therefore" in messages[-1]["content"]:
            return "30", [-0.1], "stop"
        return ("again and again " * 8, [-0.01] * 40, "repetition") if i == 0 else sure(30)

    fake = Fake(table)
    r = run(Q, strategy, fake, cache=False)
    assert r.answer == "30" and r.details["loops"] == 1
    assert fake.requests[0] == (1, 0, 0.0) and fake.requests[1] == (1, 1, 0.7)  # new seed, sampled
    labels = [c.label for c in r.calls]
    assert labels[:2] == ["reasoning", "reasoning retry 1"]


def test_cot_gives_no_answer_when_every_draw_loops():
    fake = Fake(lambda m, i: ("round and round " * 8, [-0.01] * 40, "repetition"))
    r = run(Q, "zero-shot-cot", fake, cache=False, loop_retries=2)
    assert r.answer is None and r.status == "no_answer" and r.details["loops"] == 3
    assert len(r.calls) == 3  # no extraction call for a loop


def test_share_rule_stops_on_the_consensus_alone():
    table = lambda m, i: sure(31 if i == 3 else 30)  # noqa: E731
    safe = run(Q, "self-consistency", Fake(table), cache=False, samples=8, confidence="lowest", settle=0.7)
    share = run(Q, "self-consistency", Fake(table), cache=False, samples=8, confidence="lowest", settle=0.7,
                settle_rule="share")
    assert safe.details["early_stop"]["drawn"] > 4  # 4 more samples could still overtake 3 votes to 1
    assert share.details["early_stop"]["drawn"] == 4 and share.answer == "30"  # 75 % ≥ 70 %: stop
    assert settled({"a": 3.0, "b": 1.0}, 4.0, 4, 1.0, 0.7, rule="share")
