"""Per-item metrics and their aggregation.

Strict/flexible match live in `datasets.base.match_answer`; this module holds the smooth metrics
of Schaeffer et al. 2023 (token edit distance, log-probability of the gold answer, Brier score
and multiple-choice grade from option log-probabilities, scored through a `RunContext`),
intermediate-step checks, and the aggregation of any metric dict into mean ± 95% interval.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..answers import answers_match, parse_number
from ..answers.normalize import NUMBER_RE
from ..context import RunContext
from ..models.base import Message, NotSupported
from .intervals import bootstrap_mean, wilson

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)

# Metrics that are never proportions, even when every value happens to be 0 or 1.
CONTINUOUS_HINTS = ("distance", "length", "logprob", "prob", "brier", "tokens", "seconds", "calls", "rounds",
                    "prefix", "ratio", "count", "steps_taken")


def tokens(text: str) -> list[str]:
    """Word and punctuation tokens, case-folded: the unit of the token edit distance."""
    return _TOKEN.findall((text or "").casefold())


def edit_distance(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Levenshtein distance between two sequences (insert, delete, substitute cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def token_edit_distance(pred: str, gold: str) -> int:
    """Edit distance between the token sequences of a prediction and the gold answer."""
    return edit_distance(tokens(pred), tokens(gold))


def step_correct(gold: str, text: str, tol: float = 0.0) -> bool:
    """Is an intermediate result `gold` stated in `text` (any number in it equal by value, else substring)?"""
    if not text:
        return False
    target = parse_number(gold)
    if target is not None:
        for raw in NUMBER_RE.findall(text.replace("−", "-")):
            value = parse_number(raw)
            if value is not None and (value == target or (tol and answers_match(raw, gold, "number", tol))):
                return True
    if not NUMBER_RE.fullmatch(gold.strip()):
        return gold.strip().casefold() in text.casefold()
    return False


def mean_logprob(scores: Sequence[float]) -> float | None:
    """Mean per-token log-probability; None for no tokens."""
    return sum(scores) / len(scores) if scores else None


def softmax(xs: Sequence[float]) -> list[float]:
    m = max(xs)
    es = [math.exp(x - m) for x in xs]
    s = sum(es)
    return [e / s for e in es]


def brier(probs: Sequence[float], gold_index: int) -> float:
    """Multi-class Brier score: sum over options of (p_i - y_i)^2 (0 best, 2 worst)."""
    return sum((p - (1.0 if i == gold_index else 0.0)) ** 2 for i, p in enumerate(probs))


def option_metrics(option_logprobs: Sequence[float], gold_index: int) -> dict[str, float]:
    """Brier score and multiple-choice grade from each option's total log-probability.

    Options are scored as continuations of the same prompt; their probabilities are normalised
    over the options (softmax of the total log-probabilities). The grade is 1 when the gold
    option has the highest score (ties go to the first option, as argmax does).
    """
    probs = softmax(list(option_logprobs))
    best = max(range(len(probs)), key=lambda i: option_logprobs[i])
    return {"brier": brier(probs, gold_index), "mc_grade": float(best == gold_index),
            "gold_prob": probs[gold_index]}


def smooth_metrics(ctx: RunContext, messages: list[Message], gold: str, options: Sequence[str] | None = None,
                   gold_index: int | None = None) -> dict[str, float | None]:
    """Log-probability metrics of one item, scored through the run context after `messages`.

    `messages` is the prompt after which an answer is expected (a strategy's own prompt).
    gold_logprob: mean per-token log-probability of the gold answer after it.
    brier, mc_grade, gold_prob: from the options' log-probabilities (multiple choice only).
    Every value is None when the backend cannot score log-probabilities.
    """
    keys = ["gold_logprob"] + (["brier", "mc_grade", "gold_prob"] if options else [])
    out: dict[str, float | None] = dict.fromkeys(keys)
    try:
        out["gold_logprob"] = mean_logprob(ctx.logprobs(messages, gold.strip(), label="score gold"))
        if options and gold_index is not None:
            totals = [sum(ctx.logprobs(messages, o.strip(), label="score option")) for o in options]
            out.update(option_metrics(totals, gold_index))
    except NotSupported:
        return dict.fromkeys(keys)
    return out


# -- aggregation ------------------------------------------------------------------------------


@dataclass
class Summary:
    """One metric over many rows: mean, 95% interval, n (values present), and whether it is a rate."""

    name: str
    mean: float | None
    lo: float | None
    hi: float | None
    n: int
    rate: bool

    def fmt(self, digits: int = 1) -> str:
        if self.mean is None:
            return "–"
        if self.rate:
            return (f"{100 * self.mean:.{digits}f}% [{100 * (self.lo or 0):.{digits}f}, "
                    f"{100 * (self.hi or 0):.{digits}f}] (n={self.n})")
        return f"{self.mean:.3g} [{self.lo:.3g}, {self.hi:.3g}] (n={self.n})"


def is_rate(name: str, values: Iterable[float]) -> bool:
    """A 0/1 metric (accuracy-like): every value is 0 or 1 and the name is not a known continuous one."""
    if any(h in name for h in CONTINUOUS_HINTS):
        return False
    return all(v in (0.0, 1.0) for v in values)


def summarize(name: str, values: Iterable[float | None]) -> Summary:
    """Mean with a Wilson interval for 0/1 metrics, a bootstrap interval otherwise; None values skipped."""
    vals = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not vals:
        return Summary(name, None, None, None, 0, is_rate(name, []))
    mean = sum(vals) / len(vals)
    if is_rate(name, vals):
        lo, hi = wilson(sum(vals), len(vals))
        return Summary(name, mean, lo, hi, len(vals), True)
    lo, hi = bootstrap_mean(vals)
    return Summary(name, mean, lo, hi, len(vals), False)
