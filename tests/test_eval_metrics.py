"""Metrics with hand-computed expectations, and interval math."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest

from reasonlab.context import Cancelled, RunContext
from reasonlab.eval import metrics as metrics_module
from reasonlab.eval.intervals import bootstrap_mean, wilson
from reasonlab.eval.metrics import (
    brier,
    edit_distance,
    is_rate,
    mean_logprob,
    option_metrics,
    smooth_metrics,
    step_correct,
    summarize,
    token_edit_distance,
    tokens,
)
from reasonlab.models.scripted import ScriptedModel


def test_tokens_split_words_and_punctuation():
    assert tokens("The answer is 42.") == ["the", "answer", "is", "42", "."]


def test_edit_distance_hand_computed():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["a", "b"]) == 2
    assert edit_distance(["a", "b"], ["a", "b"]) == 0


def test_token_edit_distance():
    # "finding nemo" vs "finding dory": one substitution
    assert token_edit_distance("Finding Nemo", "finding dory") == 1
    # "the shining" vs "finding nemo": two substitutions
    assert token_edit_distance("the shining", "finding nemo") == 2
    # empty prediction: every gold token inserted
    assert token_edit_distance("", "a b c") == 3


def test_step_correct_by_value_and_text():
    assert step_correct("68", "First 23 + 45 = 68, then 68 * 3 = 204.")
    assert not step_correct("68", "First 23 + 45 = 67.")
    assert step_correct("0.5", "the slope is 1/2")
    assert step_correct("blue ball", "Alice now has the Blue Ball.")
    assert not step_correct("7", "")


def test_mean_logprob():
    assert mean_logprob([-0.5, -1.5]) == pytest.approx(-1.0)
    assert mean_logprob([]) is None


def test_brier_and_grade_hand_computed():
    # probabilities 0.5, 0.25, 0.25 from log-probabilities; gold option 0
    m = option_metrics([math.log(0.5), math.log(0.25), math.log(0.25)], 0)
    assert m["brier"] == pytest.approx((0.5 - 1) ** 2 + 0.25 ** 2 + 0.25 ** 2)  # 0.375
    assert m["mc_grade"] == 1.0
    assert m["gold_prob"] == pytest.approx(0.5)
    # gold option 1 is not the argmax
    m = option_metrics([math.log(0.5), math.log(0.25), math.log(0.25)], 1)
    assert m["brier"] == pytest.approx(0.25 + 0.5625 + 0.0625)  # 0.875
    assert m["mc_grade"] == 0.0
    # unnormalised totals are normalised over the options: -1 and -1 → 0.5 each
    assert option_metrics([-1.0, -1.0], 1)["brier"] == pytest.approx(0.5)
    assert brier([1.0, 0.0], 0) == 0.0


def _ask(question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


def test_smooth_metrics_with_scripted_logprobs():
    lp = {"42": [-0.1, -0.3], "41": [-2.0], "cat": [-1.0], "dog": [-3.0]}
    ctx = RunContext(ScriptedModel(default="x", logprobs=lp))
    out = smooth_metrics(ctx, _ask("What is 6*7?"), "42")
    assert out == {"gold_logprob": pytest.approx(-0.2)}
    out = smooth_metrics(ctx, _ask("Which pet?"), "cat", options=["cat", "dog"], gold_index=0)
    p_cat = math.exp(-1) / (math.exp(-1) + math.exp(-3))
    assert out["gold_logprob"] == pytest.approx(-1.0)
    assert out["gold_prob"] == pytest.approx(p_cat)
    assert out["brier"] == pytest.approx(2 * (1 - p_cat) ** 2)
    assert out["mc_grade"] == 1.0
    # every scoring call went through the context: traced with its prompt and continuation
    assert [(c.kind, c.output) for c in ctx.calls] == [("logprobs", "42"), ("logprobs", "cat"),
                                                       ("logprobs", "cat"), ("logprobs", "dog")]
    assert ctx.calls[0].messages == _ask("What is 6*7?")


def test_smooth_metrics_are_cancellable():
    cancel = threading.Event()
    cancel.set()
    ctx = RunContext(ScriptedModel(default="x", logprobs={"42": [-0.1]}), cancel=cancel)
    with pytest.raises(Cancelled):
        smooth_metrics(ctx, _ask("What is 6*7?"), "42")


def test_metrics_never_call_the_model_directly():
    source = Path(metrics_module.__file__).read_text(encoding="utf-8")
    assert "model.logprobs" not in source and "model.generate" not in source


def test_smooth_metrics_missing_not_zero_without_logprobs():
    ctx = RunContext(ScriptedModel(default="x"))  # no log-probabilities configured
    out = smooth_metrics(ctx, _ask("Which pet?"), "cat", options=["cat", "dog"], gold_index=0)
    assert out == {"gold_logprob": None, "brier": None, "mc_grade": None, "gold_prob": None}


def test_wilson_hand_computed():
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4)
    assert hi == pytest.approx(0.9433, abs=1e-4)
    lo, hi = wilson(0, 20)
    assert lo == 0.0 and hi == pytest.approx(0.1611, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    lo, hi = wilson(20, 20)
    assert hi == 1.0 and lo == pytest.approx(0.8389, abs=1e-4)


def test_bootstrap_interval():
    vals = [1.0, 2.0, 3.0, 4.0, 5.0] * 10
    lo, hi = bootstrap_mean(vals, seed=1)
    assert lo < 3.0 < hi
    assert (lo, hi) == bootstrap_mean(vals, seed=1)  # deterministic
    assert bootstrap_mean([2.0, 2.0, 2.0]) == (2.0, 2.0)
    assert math.isnan(bootstrap_mean([])[0])


def test_summarize_rate_and_mean():
    s = summarize("flexible", [1, 0, 1, 1, None, 1, 1, 1, 0, 1, 1])  # None skipped: 8/10
    assert s.rate and s.n == 10 and s.mean == pytest.approx(0.8)
    assert (s.lo, s.hi) == pytest.approx(wilson(8, 10))
    d = summarize("token_edit_distance", [0, 1, 1, 0])
    assert not d.rate and d.mean == pytest.approx(0.5)
    assert summarize("gold_logprob", [None, None]).mean is None
    assert is_rate("valid_plan", [1.0, 0.0]) and not is_rate("plan_length", [1.0])
    assert not is_rate("rounds_used", [1.0, 1.0]) and not is_rate("gold_prob", [1.0])
