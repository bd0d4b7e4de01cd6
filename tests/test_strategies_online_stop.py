"""DeepConf's online stop: warm-up samples set a confidence floor and later samples end below it
(finish reason ``low_confidence``) — in the model layer, in self-consistency and in PAL's vote."""

from __future__ import annotations

import pytest

from reasonlab.api import run
from reasonlab.models.base import Completion, GenParams, Model
from reasonlab.sandbox import detect
from reasonlab.strategies import StrategyError
from reasonlab.strategies.confidence import keep_at_floor, warmup_floor

Q = "A box has 6 rows of 5 eggs. How many eggs are in the box?"


class Fake(Model):
    """Replies by sample index: (text, token log-probabilities); records each request's params."""

    spec = identity = "fake"

    def __init__(self, table):
        self.table = table
        self.requests: list[tuple[int, int, GenParams]] = []

    def generate(self, messages, params, n=1, sample_offset=0, tools=None):
        self.requests.append((n, sample_offset, params))
        out = []
        for i in range(sample_offset, sample_offset + n):
            text, lp = self.table(messages, i)
            out.append(Completion(text, 10, len(lp), "stop", token_logprobs=lp))
        return out


def sure(answer, lp=-0.05):
    return f"Six rows of five. The answer is {answer}.", [lp] * 12


def dips(answer):
    return f"Hmm, maybe. The answer is {answer}.", [-0.05] * 4 + [-2.5] * 4 + [-0.05] * 4


def test_floor_helpers():
    assert warmup_floor([-0.1, -0.5, None], 1.0) == -0.5  # the least confident warm-up sample
    assert warmup_floor([-0.1, -0.5, -0.3, -0.9], 0.5) == -0.3  # the keep share's bar
    assert warmup_floor([None, None], 1.0) is None
    assert keep_at_floor([-0.1, -0.6, None], -0.5) == [True, False, True]


def test_later_samples_below_the_warmup_floor_are_cut_and_never_vote():
    table = [sure(30), sure(30, -0.2), dips(11), dips(11), dips(11), sure(30, -0.1), dips(12), dips(11)]
    fake = Fake(lambda m, i: table[i])
    plain = run(Q, "self-consistency", Fake(lambda m, i: table[i]), cache=False, samples=8)
    assert plain.answer == "11"  # the majority of the dipping paths
    r = run(Q, "self-consistency", fake, cache=False, samples=8, confidence="lowest", window=4, online=True,
            warmup=2)
    assert r.answer == "30"
    (n0, off0, p0), (n1, off1, p1) = fake.requests
    assert (n0, off0, p0.min_confidence) == (2, 0, None)  # the warm-up runs free
    assert (n1, off1) == (6, 2) and p1.min_confidence == pytest.approx(-0.2) and p1.confidence_window == 4
    d = r.details
    assert d["confidence"]["online"] and d["confidence"]["floor"] == pytest.approx(-0.2)
    assert d["confidence"]["cut"] == 5 and d["votes"] == {"30": 3}
    assert [p["finish"] for p in d["paths"]].count("low_confidence") == 5
    assert sum(c.finish_reason == "low_confidence" for c in r.calls) == 5  # in the trace


def test_a_warmup_sample_below_the_keep_bar_does_not_vote():
    table = [sure(30, -0.1), sure(7, -1.0), sure(30, -0.05), sure(7, -1.0)]
    r = run(Q, "self-consistency", Fake(lambda m, i: table[i]), cache=False, samples=4, confidence="lowest",
            window=4, online=True, warmup=2, keep=0.5)
    assert r.details["confidence"]["floor"] == pytest.approx(-0.1)
    assert r.answer == "30" and r.details["votes"] == {"30": 2}
    assert [p["kept"] for p in r.details["paths"]] == [True, False, True, False]


def test_online_settle_still_stops_early():
    fake = Fake(lambda m, i: sure(30))
    r = run(Q, "self-consistency", fake, cache=False, samples=8, confidence="lowest", window=4, online=True,
            warmup=3, settle=0.9, settle_rule="share")
    assert r.answer == "30" and r.details["early_stop"]["drawn"] == 3


@pytest.mark.parametrize("opts", [{"confidence": "mean"}, {"confidence": "none"},
                                  {"confidence": "lowest", "samples": 1}, {"confidence": "lowest", "window": 0}])
def test_online_needs_the_lowest_measure_and_samples(opts):
    with pytest.raises(StrategyError, match="option"):
        run(Q, "self-consistency", Fake(lambda m, i: sure(30)), cache=False, **{"samples": 4, **opts, "online": True})


def test_genparams_floor_is_validated_and_keeps_old_cache_keys():
    assert "min_confidence" not in GenParams().to_dict()
    assert GenParams(min_confidence=-1.0).to_dict()["min_confidence"] == -1.0
    with pytest.raises(ValueError):
        GenParams(min_confidence=float("nan"))
    with pytest.raises(ValueError):
        GenParams(min_confidence=-1.0, confidence_window=0)


PROGRAM = "```python\ndef solution():\n    return 6 * 5\n```"
WRONG = "```python\ndef solution():\n    return 6 + 5\n```"


@pytest.mark.skipif(detect().backend == "none", reason="no sandbox on this machine")
@pytest.mark.sandbox
def test_pal_drops_a_cut_program_without_repairing_it():
    def table(messages, i):
        if i in (0, 1):
            return PROGRAM, [-0.1] * 20
        return WRONG, [-0.1] * 8 + [-3.0] * 12  # dips below the floor: cut

    fake = Fake(table)
    r = run(Q, "pal", fake, cache=False, samples=5, confidence="lowest", window=4, online=True, warmup=2)
    assert r.answer == "30" and r.details["votes"] == {"30": 2}
    assert r.details["online"] == {"floor": pytest.approx(-0.1), "cut": 3} and r.details["loops"] == 0
    assert [(n, off) for n, off, _ in fake.requests] == [(2, 0), (3, 2)]  # no repair round for the cut ones
    assert [s["rounds"][0]["error"] for s in r.details["samples"]][2:] == ["stopped below the confidence floor"] * 3


def test_a_remote_request_may_ask_for_the_online_stop_within_the_caps():
    from reasonlab.strategies.options import Limits, OptionError, validate

    server = Limits.server(1000)
    ok = validate("self-consistency", {"online": True, "warmup": 2, "settle_rule": "share", "confidence": "lowest"},
                  strict=True, limits=server)
    assert ok == {"online": True, "warmup": 2, "settle_rule": "share", "confidence": "lowest"}
    for bad in ({"warmup": 33}, {"settle_rule": "always"}, {"online": "yes"}, {"warmup": -1}):
        with pytest.raises(OptionError):
            validate("self-consistency", bad, strict=True, limits=server)
