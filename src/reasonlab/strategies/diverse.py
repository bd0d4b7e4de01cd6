"""diverse (DiVeRSe, Li et al. 2022): several prompts × several samples, a verifier, a weighted vote.

1. Prompt variants: `prompts` few-shot prompts, each with a different exemplar set drawn from a
   pool — `selection=random` deals a seeded shuffle of the pool into disjoint sets (while the pool
   lasts); `selection=similar` deals the pool's most procedure-similar exemplars round-robin.
2. Each variant is sampled `samples` times in one batched request.
3. A verifier scores every path that reached an answer: the model judges the solution, and the
   score is P("correct") / (P("correct") + P("incorrect")) from `ctx.logprobs`. A backend without
   log-probabilities gets a sampled judgement instead: `verifier_samples` short replies, score =
   share judged correct (0.5 when none is readable).
4. Weighted vote: each answer's score is the sum of its paths' scores. Ties go to the answer with
   more paths, then to the one whose first path came first. `verifier=false` gives a plain vote.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Any

from ..context import RunContext
from ..exemplars import Exemplar, resolve, select
from ..models.base import NotSupported
from ..problem import Prediction, Problem
from ..prompts import answer_kind
from .base import Strategy, StrategyError, opt, register
from .few_shot_cot import FewShotOptions, fewshot_messages
from .self_consistency import Sample, conclude, make_paths, tally

MODES = ("auto", "logprobs", "sample")
_JUDGEMENT = re.compile(r"\b(incorrect|not correct|wrong|no|correct|right|yes)\b", re.IGNORECASE)


@dataclass
class DiverseOptions(FewShotOptions):
    prompts: int = opt(3, "number of prompt variants (different exemplar sets)")
    samples: int = opt(4, "samples per prompt variant")
    temperature: float = opt(0.7, "sampling temperature of the reasoning paths")
    exemplars: str = opt("auto", "pool to draw exemplar sets from: built-in name or .jsonl path")
    shots: int = opt(3, "exemplars per prompt variant")
    selection: str = opt("random", "random = disjoint seeded draws from the pool; similar = most similar, dealt out")
    verifier: bool = opt(True, "score each path with the model as verifier and weight the vote")
    verifier_mode: str = opt("auto", "auto | logprobs | sample (auto: logprobs where the backend has them)")
    verifier_samples: int = opt(3, "sampled judgements per path when log-probabilities are unavailable")


def variant_sets(problem: Problem, pool: list[Exemplar], prompts: int, shots: int, selection: str,
                 seed: int, similarity: str = "tfidf") -> list[list[Exemplar]]:
    """`prompts` exemplar sets of `shots` each, disjoint while the pool lasts."""
    if selection == "random":
        order = list(pool)
        random.Random(seed).shuffle(order)
        return [[order[(v * shots + j) % len(order)] for j in range(shots)] for v in range(prompts)]
    if selection == "similar":
        ranked = select(problem.render(), pool, min(len(pool), prompts * shots), method=similarity).exemplars
        ranked.reverse()  # most similar first
        sets = [[ranked[(j * prompts + v) % len(ranked)] for j in range(shots)] for v in range(prompts)]
        return [list(reversed(s)) for s in sets]  # closest exemplar next to the question
    raise StrategyError(f"option selection must be random or similar, got {selection!r}")


def verifier_messages(problem: Problem, solution: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": (
        "Here is a question and a proposed step-by-step solution.\n\n"
        f"Question: {problem.render()}\n\nSolution: {solution.strip()}\n\n"
        "Is the solution correct? Reply with one word: correct or incorrect.")}]


def judgement(text: str) -> float | None:
    """1.0 for a reply judging the solution correct, 0.0 for incorrect, None when unreadable."""
    m = _JUDGEMENT.search(text or "")
    if not m:
        return None
    return 1.0 if m.group(1).lower() in ("correct", "right", "yes") else 0.0


class Verifier:
    """Scores paths with the model; falls back from log-probabilities to sampled judgements."""

    def __init__(self, ctx: RunContext, problem: Problem, mode: str, samples: int) -> None:
        if mode not in MODES:
            raise StrategyError(f"option verifier_mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.ctx, self.problem, self.samples = ctx, problem, samples
        self.mode = mode if mode != "auto" else "logprobs"
        self.fallback_reason: str | None = None
        self._scores: dict[str, float] = {}

    def score(self, text: str) -> float:
        if text not in self._scores:
            self._scores[text] = self._score(text)
        return self._scores[text]

    def _score(self, text: str) -> float:
        msgs = verifier_messages(self.problem, text)
        if self.mode == "logprobs":
            try:
                yes = sum(self.ctx.logprobs(msgs, "correct", label="verify"))
                no = sum(self.ctx.logprobs(msgs, "incorrect", label="verify"))
                return 1.0 / (1.0 + math.exp(max(-50.0, min(50.0, no - yes))))
            except NotSupported as e:
                self.mode = "sample"
                self.fallback_reason = str(e)
        outs = self.ctx.generate(msgs, n=self.samples, label="verify", temperature=0.7, max_tokens=8)
        votes = [j for j in (judgement(c.text) for c in outs) if j is not None]
        return sum(votes) / len(votes) if votes else 0.5


@register
class Diverse(Strategy):
    name = "diverse"
    description = "DiVeRSe: several exemplar sets × samples each, a model verifier, a score-weighted vote."
    Options = DiverseOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        if o.prompts < 1 or o.samples < 1 or o.shots < 0:
            raise StrategyError("options prompts and samples must be at least 1, shots at least 0")
        kind = answer_kind(problem)
        name, pool = resolve(o.exemplars, kind, pool=True)
        sets = variant_sets(problem, pool, o.prompts, o.shots, o.selection, ctx.seed, o.similarity)
        paths: list[Sample] = []
        for v, exemplars in enumerate(sets):
            outs = ctx.generate(fewshot_messages(exemplars, problem), n=o.samples, label=f"sample v{v}",
                                temperature=o.temperature, max_tokens=o.max_tokens, meta={"variant": v})
            paths += make_paths(outs, kind, start=len(paths), variant=v)  # a looping sample gets no answer
        verifier_info: dict[str, Any] = {"enabled": o.verifier}
        if o.verifier:
            ver = Verifier(ctx, problem, o.verifier_mode, o.verifier_samples)
            for p in paths:
                p.weight = round(ver.score(p.text), 6) if p.key is not None else 0.0
                ctx.emit("verify", {"index": p.index, "answer": p.answer, "score": p.weight})
            verifier_info.update(mode=ver.mode, fallback=ver.fallback_reason)
        vote = tally(paths, weighted=o.verifier)
        ctx.emit("vote", {"counts": vote.counts, "weights": vote.weights, "winner": vote.winner})
        return conclude(paths, vote, kind, {
            "exemplars": {"set": name, "selection": o.selection, "variants": [[e.id for e in s] for s in sets]},
            "verifier": verifier_info,
        }, weighted=o.verifier)
