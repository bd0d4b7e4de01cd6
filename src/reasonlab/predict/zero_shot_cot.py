"""zero-shot-cot (Kojima et al. 2022): a reasoning call with a step-by-step cue, then an
answer-extraction call that includes the reasoning. Cues follow the question's language."""

from __future__ import annotations

from dataclasses import dataclass

from ..answers import extract
from ..answers.filters import first_number
from ..context import RunContext
from ..prompts import answer_kind, cue
from ..result import Prediction, Problem
from .base import Options, Strategy, opt, register


@dataclass
class ZeroShotCoTOptions(Options):
    extract_tokens: int = opt(32, "token limit of the answer-extraction call")


@register
class ZeroShotCoT(Strategy):
    name = "zero-shot-cot"
    description = "Two calls: 'Let's think step by step.' reasoning, then an answer-extraction cue."
    Options = ZeroShotCoTOptions

    def reasoning_messages(self, problem: Problem) -> list[dict[str, str]]:
        return [{"role": "user", "content": f"{problem.render()}\n\n{cue(problem, 'reason')}"}]

    def extraction_messages(self, problem: Problem, reasoning: str) -> list[dict[str, str]]:
        return [*self.reasoning_messages(problem),
                {"role": "assistant", "content": reasoning},
                {"role": "user", "content": cue(problem, "extract")}]

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        kind = answer_kind(problem)
        reasoning = ctx.complete(self.reasoning_messages(problem), label="reasoning",
                                 temperature=o.temperature, max_tokens=o.max_tokens)
        said = ctx.complete(self.extraction_messages(problem, reasoning), label="extract",
                            temperature=0.0, max_tokens=o.extract_tokens)
        return finish(said, reasoning, kind)


def finish(said: str, reasoning: str, kind: str) -> Prediction:
    """Answer from the extraction call; strict = its explicit answer, flexible falls back to the reasoning."""
    ex = extract(said, kind)
    if kind == "number":
        # Kojima's answer cleansing: the first number after the extraction cue.
        strict = ex.strict or first_number(said)
    else:
        strict = ex.strict or ex.flexible
    flexible = strict or extract(reasoning, kind).flexible
    return Prediction(answer=flexible, strict=strict, reasoning=reasoning,
                      details={"extraction_output": said})
