"""Confidence of sampled paths from token log-probabilities, and DeepConf-style voting (Fu et al. 2025).

A sample's confidence comes from the log-probabilities of the tokens it generated
(`Completion.token_logprobs`, filled by the llama backend):

- ``mean``   — the mean token log-probability of the whole sample;
- ``lowest`` — the lowest *group* confidence: the mean over a sliding window of `window` tokens,
  minimised over the sample (DeepConf's "lowest group confidence": one confused stretch is
  enough to distrust a path);
- ``tail``   — the mean over the last `window` tokens (where the answer is written).

DeepConf defines token confidence as the negative mean log-probability of the top-k candidate
tokens; llama.cpp hands us the logits of the chosen token cheaply, so here a token's confidence
is its own log-probability (higher = surer). A vote weight is ``exp(confidence)``: the geometric
mean probability of the tokens in question, in (0, 1].

Filtering keeps the `keep` most confident share of the samples (DeepConf's top-η%); the settle
rule stops drawing once the weighted leader holds ``settle`` of the weight drawn so far and —
rule ``safe`` — the samples still to come (each at most as heavy as the heaviest seen) cannot
overtake it, or — rule ``share``, DeepConf's consensus stop — on the share alone, or — rule
``beta``, Adaptive-Consistency's stopping criterion (Aggarwal et al. 2023) — once the probability
that the leader is the majority answer of the model's distribution, P(p1 > p2) under a
Beta(v1 + 1, v2 + 1) posterior over the two leading answers' votes, reaches ``settle`` (e.g. 0.95:
4 agreeing samples of 4, or 6 of 7). Weighted votes count as weight / mean weight (their sum is the
number of votes), so confidence shifts the odds without inventing samples.

Online stop (``online=true``, DeepConf's online mode): the warm-up samples are drawn in full and set
a floor — the confidence of the least confident sample the `keep` filter would keep among them
(`warmup_floor`) — and every later sample is ended by the model layer as soon as a window of
`window` tokens averages below it (finish reason ``low_confidence``: a failed sample that never
votes; the llama engine stops decoding it at once). The final vote keeps the samples at or above
the floor (`keep_at_floor`), so a warm-up sample and a later one are judged by the same bar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..models.base import FINISH_LOW_CONFIDENCE, lowest_window_mean
from .base import StrategyError

MEASURES = ("none", "mean", "lowest", "tail")
RULES = ("safe", "share", "beta")
DEFAULT_WINDOW = 16
# finish reasons that make a sample a failure, whatever it says: a loop, or ended below the confidence floor
FAILED_FINISHES = ("repetition", FINISH_LOW_CONFIDENCE)


def check_measure(options: Any) -> None:
    """StrategyError unless `options.confidence` is one of MEASURES."""
    if options.confidence not in MEASURES:
        raise StrategyError(f"option confidence must be one of {', '.join(MEASURES)}, got {options.confidence!r}")


def confidence(logprobs: Sequence[float] | None, measure: str = "lowest",
               window: int = DEFAULT_WINDOW) -> float | None:
    """A sample's confidence (a mean log-probability, ≤ 0), or None when there are no token scores."""
    if not logprobs or measure == "none":
        return None
    lp = [float(x) for x in logprobs]
    if measure == "mean":
        return sum(lp) / len(lp)
    w = max(1, min(window, len(lp)))
    if measure == "tail":
        return sum(lp[-w:]) / w
    if measure != "lowest":
        raise ValueError(f"unknown confidence measure {measure!r} (use {', '.join(MEASURES)})")
    return lowest_window_mean(lp, w)


def check_rule(options: Any) -> None:
    """StrategyError unless `options.settle_rule` is one of RULES and `options.settle` is in [0, 1]."""
    if options.settle_rule not in RULES:
        raise StrategyError(f"option settle_rule must be one of {', '.join(RULES)}, got {options.settle_rule!r}")
    if not 0 <= options.settle <= 1:
        raise StrategyError(f"option settle must be in [0, 1], got {options.settle}")


def beta_majority(lead: float, second: float) -> float:
    """P(p1 > p2) for p1 ~ Beta(lead + 1, second + 1): the chance the leading answer is the majority
    (Adaptive-Consistency's Beta stopping criterion), by Simpson's rule on [1/2, 1]."""
    a, b = lead + 1.0, second + 1.0
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    n = 400  # even; the integrand is smooth, the error is far below any threshold's precision

    def f(x: float) -> float:
        if x >= 1.0:
            return math.exp(log_norm) if b == 1.0 else 0.0
        return math.exp(log_norm + (a - 1) * math.log(x) + (b - 1) * math.log1p(-x))

    h = 0.5 / n
    total = f(0.5) + f(1.0) + sum((4 if i % 2 else 2) * f(0.5 + i * h) for i in range(1, n))
    return min(1.0, total * h / 3)


def weight_of(conf: float | None) -> float:
    """Vote weight of a sample: exp(confidence), 1.0 when the backend gave no scores."""
    return 1.0 if conf is None else math.exp(max(-50.0, conf))


def keep_most_confident(confs: Sequence[float | None], keep: float) -> list[bool]:
    """Which samples survive the filter: the `keep` share with the highest confidence (ties kept).

    Samples without a confidence are always kept (nothing to judge them by).
    """
    floor = None if keep >= 1.0 else warmup_floor(confs, keep)
    return [True] * len(confs) if floor is None else keep_at_floor(confs, floor)


def warmup_floor(confs: Sequence[float | None], keep: float) -> float | None:
    """The lowest confidence the `keep` filter keeps among `confs` (None when none has one): the
    filter's bar, and the online stop's floor when `confs` are the warm-up samples'."""
    known = sorted((c for c in confs if c is not None), reverse=True)
    if not known:
        return None
    return known[max(1, math.ceil(min(1.0, keep) * len(known))) - 1]


def keep_at_floor(confs: Sequence[float | None], floor: float) -> list[bool]:
    """Which samples vote under the online stop: those at or above `floor` (and those without a confidence)."""
    return [c is None or c >= floor for c in confs]


def check_online(options: Any) -> None:
    """StrategyError unless the online stop's options fit: it needs confidence=lowest (the floor is a
    sliding-window mean, as that measure's) and more than one sample."""
    if not getattr(options, "online", False):
        return
    if options.confidence != "lowest":
        raise StrategyError("option online needs confidence=lowest (the floor is a sliding-window mean), "
                            f"got confidence={options.confidence}")
    if options.samples < 2:
        raise StrategyError("option online needs samples of at least 2 (a warm-up and later samples)")
    if options.window < 1:
        raise StrategyError(f"option window must be at least 1, got {options.window}")


def settled(weights: dict[str, float], total: float, remaining: int, max_weight: float,
            settle: float, rule: str = "safe", votes: int | None = None) -> bool:
    """True when the weighted vote is decided: the leader holds `settle` of the weight so far and
    (rule "safe") `remaining` samples of at most `max_weight` each could not put another answer
    ahead; rule "share" (DeepConf's consensus threshold) stops on the share alone; rule "beta"
    stops once `beta_majority` of the two leaders (weights as votes: weight / mean weight) reaches
    `settle`. `weights` holds the answered votes (answer -> weight), `total` all kept votes' weight,
    `votes` how many answered votes make up `weights` (None: the weights are counts)."""
    if remaining <= 0:
        return True
    if not weights or total <= 0 or settle <= 0:
        return False
    ranked = sorted(weights.values(), reverse=True)
    lead = ranked[0]
    second = ranked[1] if len(ranked) > 1 else 0.0
    if rule == "beta":
        scale = votes / sum(weights.values()) if votes else 1.0  # weights as votes: weight / mean weight
        return beta_majority(lead * scale, second * scale) >= settle
    if lead / total < settle:
        return False
    return rule == "share" or second + remaining * max_weight < lead


def failed(finish_reason: str | None) -> bool:
    """A sample stopped as a loop (the model layer's degeneration guard) counts as a failure."""
    return finish_reason in FAILED_FINISHES


def sample_record(completion: Any, measure: str, window: int) -> tuple[float | None, bool]:
    """(confidence, failed) of one completion."""
    lp = getattr(completion, "token_logprobs", None)
    return confidence(lp, measure, window), failed(getattr(completion, "finish_reason", None))
