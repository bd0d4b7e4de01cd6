"""self-consistency (Wang et al. 2022): sample k reasoning paths, normalise answers, majority vote.

The k samples of the chain-of-thought prompt are one batched request (`ctx.generate(n=k)`), so
a backend that batches decodes the shared prompt once. Answers are grouped by
`reasonlab.answers.vote_key` (numbers by value, text case-folded).

Confidence (after DeepConf, Fu et al. 2025; ``confidence=lowest|mean|tail``): each sample's
confidence comes from its token log-probabilities (see `confidence.py`); the `keep` most confident
share votes, each vote weighted exp(confidence). A sample the model layer stopped as a loop
(finish reason ``repetition``) never votes.

Tie rule: among answers with the same (highest) count, the one whose first path has the lowest
sample index wins — deterministic, and independent of how the samples were batched.

Online stop (``online=true``, DeepConf's online mode; needs ``confidence=lowest``): the warm-up
wave is drawn in full and sets a floor (`confidence.warmup_floor`: the least confident warm-up
sample the `keep` filter keeps); every later sample is ended by the model layer as soon as a window
of `window` tokens averages below it (finish reason ``low_confidence``; the llama engine stops
decoding it, other backends mark it after the fact), and only samples at or above the floor vote.

Stopping early (``settle`` > 0, or ``early_stop=true``): samples are drawn in waves (sample indices
continue across waves through `sample_offset`, so sample i has the seed and cache entry it has in a
full run), and drawing stops once the vote is settled: ``settle_rule=safe`` (the leader holds
`settle` of the weight and the samples still to come cannot overtake it), ``share`` (the share
alone, DeepConf's consensus stop) or ``beta`` (Adaptive-Consistency, Aggarwal et al. 2023: the
probability that the leader is the majority answer reaches `settle`, e.g. 0.95); ``early_stop``
alone stops once no assignment of the remaining samples could change the winner. Where samples are
drawn one call at a time (a server) the waves are `warmup` samples, then `round_size` at a time. On
a backend that decodes a call's samples together (`ctx.can_settle`: the llama engine) there are two
waves — `warmup` samples, then the rest as one batch — and within each the remaining samples stop
the moment the ended ones settle the vote (`settle_check`), so a settled vote costs a small batch
and an unsettled one a single extra batch. Where a sample depends only on its index (cached
samples, the scripted model) early stop with the ``safe`` rule gives exactly the full-k answer;
llama.cpp's numerics vary with the number of sequences decoded together, so there a sample drawn in
a small wave can differ from the same index drawn in a batch of k.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ..answers import vote_key
from ..context import RunContext
from ..models.base import FINISH_LOW_CONFIDENCE
from ..problem import Prediction, Problem
from ..prompts import answer_kind, cue
from .base import Strategy, StrategyError, opt, register
from .confidence import (
    check_measure,
    check_online,
    check_rule,
    failed,
    keep_at_floor,
    keep_most_confident,
    sample_record,
    settled,
    warmup_floor,
    weight_of,
)
from .few_shot_cot import FewShotOptions, fewshot_messages, pick_exemplars, read_answer


@dataclass
class Sample:
    """One sampled reasoning path and the answer read from it."""

    index: int  # position in draw order (the sample index for self-consistency)
    text: str
    answer: str | None
    strict: str | None
    key: str | None
    weight: float = 1.0
    variant: int = 0  # prompt variant (DiVeRSe)
    confidence: float | None = None  # from token log-probabilities (None: the backend gave none)
    kept: bool = True  # survived the confidence filter
    finish: str = "stop"  # the completion's finish reason ("repetition": stopped as a loop)
    tokens: int = 0  # completion tokens of this sample

    def summary(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("text")
        return d


@dataclass
class Vote:
    """Outcome of a (weighted) vote over paths."""

    winner: str | None  # vote key of the winning answer
    answer: str | None  # the winner as first written by a path
    counts: dict[str, int] = field(default_factory=dict)  # key -> number of paths
    weights: dict[str, float] = field(default_factory=dict)  # key -> summed weight
    share: float = 0.0  # winner's weight / total weight of all paths (answered or not)
    tied: list[str] = field(default_factory=list)  # keys tied for first place, when the rule decided


def make_paths(texts: list[Any], kind: str, start: int = 0, variant: int = 0,
               measure: str = "none", window: int = 16) -> list[Sample]:
    """Samples from completions (or plain texts); a looping completion gives a sample with no answer."""
    out = []
    for j, c in enumerate(texts):
        text = c if isinstance(c, str) else c.text
        conf, loop = (None, False) if isinstance(c, str) else sample_record(c, measure, window)
        answer, strict = (None, None) if loop else read_answer(text, kind)
        out.append(Sample(start + j, text, answer, strict, vote_key(answer, kind), variant=variant,
                          confidence=None if conf is None else round(conf, 6),
                          finish=getattr(c, "finish_reason", "stop") or "stop",
                          tokens=getattr(c, "completion_tokens", 0)))
    return out


def confidence_vote(paths: list[Sample], keep: float, floor: float | None = None) -> Vote:
    """Filter to the most confident `keep` share (or, with the online stop's `floor`, to the paths at or
    above it), weight each kept vote by exp(confidence)."""
    confs = [p.confidence for p in paths]
    flags = keep_most_confident(confs, keep) if floor is None else keep_at_floor(confs, floor)
    for p, flag in zip(paths, flags, strict=True):
        p.kept = flag
        p.weight = round(weight_of(p.confidence), 6) if flag else 0.0
    return tally([p for p in paths if p.kept], weighted=True)


def tally(paths: list[Sample], weighted: bool = False) -> Vote:
    """Majority (or weight) vote. Ties: more paths first (weighted votes), then the lowest first index."""
    counts: dict[str, int] = {}
    weights: dict[str, float] = {}
    first: dict[str, tuple[int, str]] = {}
    for p in sorted(paths, key=lambda p: p.index):
        if p.key is None:
            continue
        counts[p.key] = counts.get(p.key, 0) + 1
        weights[p.key] = weights.get(p.key, 0.0) + (p.weight if weighted else 1.0)
        first.setdefault(p.key, (p.index, p.answer or p.key))
    total = sum(p.weight if weighted else 1.0 for p in paths)
    if not counts:
        return Vote(None, None, {}, {}, 0.0)
    best = max(weights.values())
    top = [k for k in weights if math.isclose(weights[k], best, rel_tol=1e-9, abs_tol=1e-12)]
    winner = min(top, key=lambda k: (-counts[k], first[k][0]))
    share = weights[winner] / total if total > 0 else 0.0
    return Vote(winner, first[winner][1], counts, {k: round(v, 6) for k, v in weights.items()},
                round(share, 4), sorted(top) if len(top) > 1 else [])


def decided(paths: list[Sample], remaining: int) -> bool:
    """True when no outcome of `remaining` further samples could change the majority winner."""
    if remaining <= 0:
        return True
    vote = tally(paths)
    if vote.winner is None:
        return False
    lead = vote.counts[vote.winner]
    first = {}
    for p in sorted(paths, key=lambda p: p.index):
        if p.key is not None:
            first.setdefault(p.key, p.index)
    lead_first = first[vote.winner]
    # An answer not seen yet would appear after every drawn sample: it wins only by passing the leader.
    if remaining > lead:
        return False
    for key, count in vote.counts.items():
        if key == vote.winner:
            continue
        if count + remaining > lead or (count + remaining == lead and first[key] < lead_first):
            return False
    return True


def vote_settled(paths: list[Sample], remaining: int, settle: float, rule: str, keep: float = 1.0,
                 weighted: bool = True, floor: float | None = None) -> bool:
    """Whether the vote of `paths` (confidence-weighted, or counts) is settled at `settle` under
    `rule` with `remaining` samples still to draw (`confidence.settled`); self-consistency, PAL's
    program vote and the benchmark's replay all ask this."""
    vote = confidence_vote(paths, keep, floor) if weighted else tally(paths)
    kept = [p for p in paths if p.kept and p.key is not None]
    top = max((weight_of(p.confidence) for p in paths), default=1.0) if weighted else 1.0
    return settled(vote.weights, sum(p.weight if weighted else 1.0 for p in kept), remaining, top,
                   settle, rule, votes=len(kept))


def stop_now(paths: list[Sample], o: Any, weighted: bool, in_order: bool = True, floor: float | None = None) -> bool:
    """Whether drawing can stop with `paths` drawn of `o.samples` (the stopping options):

    settle > 0: the vote (confidence-weighted, or counts) meets `settle` under `settle_rule`
    (safe | share | beta, `confidence.settled`); else early_stop: no answer can still overtake the
    leader (`decided`; when samples end out of index order a tie counts as not settled)."""
    remaining = o.samples - len(paths)
    if remaining <= 0:
        return True
    if o.settle > 0:
        return vote_settled(paths, remaining, o.settle, o.settle_rule, o.keep, weighted, floor)
    if not o.early_stop:
        return False
    if in_order:
        return decided(paths, remaining)
    counts = [*sorted(tally(paths).counts.values(), reverse=True), 0, 0]
    return counts[0] > counts[1] + remaining


def settle_check(o: Any, kind: str, weighted: bool, first: int, before: list[Sample] | None = None,
                 floor: float | None = None) -> Any:
    """`settle` for a backend that stops a batch's other samples (`ctx.can_settle`): asked as each
    sample of the wave ends (`done`: index -> completion), with the samples of earlier waves
    (`before`); never before `first` samples in all have ended."""
    prior = list(before or [])

    def check(done: dict[int, Any]) -> bool:
        if len(prior) + len(done) < first:
            return False
        paths = prior + [p for i in sorted(done) for p in make_paths([done[i]], kind, start=i,
                                                                     measure=o.confidence, window=o.window)
                         if p.finish != "settled"]
        return stop_now(paths, o, weighted, in_order=False, floor=floor)
    return check


def round_sizes(k: int, round_size: int, first: int = 0) -> list[int]:
    """Sizes of the early-stop rounds (waves): a first wave of `first` samples (0: round_size, or half
    of k), then round_size each (0: k/8 at a time)."""
    if first <= 0 and round_size > 0:
        first = round_size
    first = min(k, first) if first > 0 else math.ceil(k / 2)
    step = round_size if round_size > 0 else max(1, k // 8)
    sizes = [first]
    while sum(sizes) < k:
        sizes.append(min(step, k - sum(sizes)))
    return sizes


def wave_sizes(k: int, round_size: int, first: int = 0) -> list[int]:
    """Waves on a backend that decodes a call's samples together and stops them once settled: the
    first wave as in `round_sizes`, then all the rest as one batch (whose samples stop as soon as the
    vote settles), so an unsettled vote costs one more batch, not k - first more rounds."""
    head = round_sizes(k, round_size, first)[0]
    return [head] if head >= k else [head, k - head]


@dataclass
class SelfConsistencyOptions(FewShotOptions):
    samples: int = opt(8, "number of sampled reasoning paths (k)")
    temperature: float = opt(0.7, "sampling temperature of the reasoning paths")
    exemplars: str = opt("auto", "built-in set name or .jsonl path; auto = the set for the answer kind; "
                                 "none = zero-shot 'Let's think step by step.' prompt")
    early_stop: bool = opt(False, "draw in rounds and stop once the remaining samples cannot change the winner")
    round_size: int = opt(0, "samples per early-stop round; 0 = half of k first, then k/8 per round")
    warmup: int = opt(0, "samples in the first early-stop round (DeepConf's warm-up); 0 = round_size, or half of k")
    confidence: str = opt("none", "confidence-weighted vote (DeepConf): none | lowest (sliding-window group) "
                                  "| mean | tail, from token log-probabilities")
    window: int = opt(16, "tokens per sliding window of the lowest/tail confidence")
    keep: float = opt(1.0, "share of the most confident samples that vote (DeepConf filter; 1 = all)")
    settle: float = opt(0.0, "stop drawing once the vote (confidence-weighted, or counts) is settled at this level "
                             "under settle_rule (0 = draw all k)")
    settle_rule: str = opt("safe", "safe = the leader holds `settle` of the weight and the remaining samples cannot "
                                   "overtake it; share = on the share alone (DeepConf's consensus stop); beta = "
                                   "P(leader is the majority) >= settle under a Beta posterior (Adaptive-Consistency)")
    online: bool = opt(False, "DeepConf online: the warm-up samples set a floor (the least confident one `keep` "
                              "keeps) and every later sample stops as soon as `window` tokens average below it "
                              "(needs confidence=lowest; with warmup)")


def cot_prompt(problem: Problem, o: Any) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The chain-of-thought prompt every path samples: few-shot, or zero-shot when exemplars=none."""
    if o.exemplars == "none":
        return [{"role": "user", "content": f"{problem.render()}\n\n{cue(problem, 'reason')}"}], {"set": "none"}
    exemplars, info = pick_exemplars(problem, o.exemplars, o.shots, o.selection, o.similarity)
    return fewshot_messages(exemplars, problem), info


@register
class SelfConsistency(Strategy):
    name = "self-consistency"
    description = "k sampled chain-of-thought paths in one batched request; majority vote over normalised answers."
    Options = SelfConsistencyOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        if o.samples < 1:
            raise StrategyError(f"option samples must be at least 1, got {o.samples}")
        check_measure(o)
        if not 0 < o.keep <= 1:
            raise StrategyError(f"option keep must be in (0, 1], got {o.keep}")
        check_rule(o)
        check_online(o)
        weighted = o.confidence != "none"
        kind = answer_kind(problem)
        msgs, ex_info = cot_prompt(problem, o)
        in_rounds = o.samples > 1 and (o.early_stop or o.settle > 0 or o.online)
        batched = in_rounds and ctx.can_settle  # waves whose samples stop as soon as the vote settles
        # without a stop rule the online stop needs only two waves: the warm-up, then the rest
        two_waves = batched or not (o.early_stop or o.settle > 0)
        sizes = ((wave_sizes if two_waves else round_sizes)(o.samples, o.round_size, o.warmup) if in_rounds
                 else [o.samples])
        paths: list[Sample] = []
        rounds = 0
        floor: float | None = None
        for size in sizes:
            stop = settle_check(o, kind, weighted, sizes[0], paths, floor) if batched else None
            outs = ctx.generate(msgs, n=size, sample_offset=len(paths), label="sample",
                                temperature=o.temperature, max_tokens=o.max_tokens, settle=stop,
                                min_confidence=floor, confidence_window=o.window)
            paths += [p for p in make_paths(outs, kind, start=len(paths), measure=o.confidence, window=o.window)
                      if p.finish != "settled"]
            rounds += 1
            if o.online and rounds == 1:
                floor = warmup_floor([p.confidence for p in paths if not failed(p.finish)], o.keep)
            vote = confidence_vote(paths, o.keep, floor) if weighted else tally(paths)
            ctx.emit("vote", {"counts": vote.counts, "weights": vote.weights, "winner": vote.winner,
                              "drawn": len(paths), "of": o.samples})
            if in_rounds and (stop_now(paths, o, weighted, in_order=not batched, floor=floor)
                              or len(paths) < sum(sizes[:rounds])):  # a wave stopped early: settled
                break
        vote = confidence_vote(paths, o.keep, floor) if weighted else tally(paths)
        extra: dict[str, Any] = {"exemplars": ex_info, "loops": sum(p.finish == "repetition" for p in paths)}
        if in_rounds:
            extra["early_stop"] = {"drawn": len(paths), "saved": o.samples - len(paths), "rounds": rounds,
                                   "round_sizes": sizes[:rounds]}
        if weighted:
            extra["confidence"] = {"measure": o.confidence, "window": o.window, "keep": o.keep, "settle": o.settle,
                                   "settle_rule": o.settle_rule,
                                   "kept": sum(p.kept for p in paths),
                                   "scored": sum(p.confidence is not None for p in paths)}
            if o.online:
                extra["confidence"].update(online=True, floor=None if floor is None else round(floor, 6),
                                           cut=sum(p.finish == FINISH_LOW_CONFIDENCE for p in paths))
        return conclude(paths, vote, kind, extra, weighted=weighted)


def conclude(paths: list[Sample], vote: Vote, kind: str, extra: dict[str, Any],
             weighted: bool = False) -> Prediction:
    """Prediction from a vote: answer, strict answer (vote over strict extractions), vote table, paths."""
    strict_paths = [Sample(p.index, p.text, p.strict, p.strict, vote_key(p.strict, kind), p.weight, p.variant)
                    for p in paths if p.kept]
    strict = tally(strict_paths, weighted).answer
    answered = sum(1 for p in paths if p.key is not None)
    details: dict[str, Any] = {
        "votes": vote.counts, "winner": vote.winner, "share": vote.share, "samples": len(paths),
        "answered": answered, "tie": vote.tied, "paths": [p.summary() for p in paths], **extra,
    }
    if weighted:
        details["weights"] = vote.weights
    if vote.winner is None:
        return Prediction(answer=None, strict=None, reasoning=paths[0].text if paths else "", details=details,
                          note=f"none of the {len(paths)} sampled paths gave an answer")
    best = next(p for p in sorted(paths, key=lambda p: p.index) if p.key == vote.winner)
    return Prediction(answer=vote.answer, strict=strict, reasoning=best.text, details=details)
