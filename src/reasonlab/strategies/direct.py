"""direct: ask the question, read the answer."""

from __future__ import annotations

from dataclasses import dataclass

from ..answers import extract
from ..answers.filters import bare_answer
from ..context import RunContext
from ..problem import Prediction, Problem
from ..prompts import answer_kind, cue
from .base import Options, Strategy, opt, register


@dataclass
class DirectOptions(Options):
    max_tokens: int = opt(64, "token limit of the answer")


@register
class Direct(Strategy):
    name = "direct"
    description = "Ask the question and read the answer (no reasoning cue)."
    Options = DirectOptions

    def messages(self, problem: Problem) -> list[dict[str, str]]:
        return [{"role": "user", "content": f"{problem.render()}\n\n{cue(problem, 'direct')}"}]

    def prompt(self, problem: Problem) -> list[dict[str, str]]:
        return self.messages(problem)

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        text = ctx.complete(self.messages(problem), label="answer", temperature=o.temperature,
                            max_tokens=o.max_tokens)
        kind = answer_kind(problem)
        ex = extract(text, kind)
        strict = ex.strict or bare_answer(text, kind)  # asked for a bare answer: a bare answer is strict
        return Prediction(answer=ex.flexible or strict, strict=strict, reasoning=text,
                          details={"filters": {"strict": ex.strict_filter, "flexible": ex.flexible_filter}})
