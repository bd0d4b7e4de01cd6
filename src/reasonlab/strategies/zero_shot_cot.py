"""zero-shot-cot (Kojima et al. 2022): a reasoning call with a step-by-step cue, then an
answer-extraction call that includes the reasoning. Cues follow the question's language.
A reasoning reply stopped as a loop (finish reason ``repetition``) is drawn again by sampling
(`loop_retries`); if every draw loops there is no answer (no extraction call is made)."""

from __future__ import annotations

from dataclasses import dataclass

from ..answers import extract
from ..answers.filters import first_number
from ..context import RunContext
from ..problem import Prediction, Problem
from ..prompts import answer_kind, cue
from .base import Options, Strategy, opt, register
from .few_shot_cot import complete_without_loops


@dataclass
class ZeroShotCoTOptions(Options):
    extract_tokens: int = opt(32, "token limit of the answer-extraction call")
    loop_retries: int = opt(1, "a reasoning reply stopped as a loop is drawn again this many times (sampling)")


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
        reasoning, loops = complete_without_loops(ctx, self.reasoning_messages(problem), label="reasoning",
                                                  temperature=o.temperature, max_tokens=o.max_tokens,
                                                  retries=o.loop_retries)
        if loops > o.loop_retries:
            return Prediction(answer=None, strict=None, reasoning=reasoning, details={"loops": loops},
                              note="every reasoning reply was stopped as a loop")
        said = ctx.complete(self.extraction_messages(problem, reasoning), label="extract",
                            temperature=0.0, max_tokens=o.extract_tokens)
        pred = finish(said, reasoning, kind)
        pred.details["loops"] = loops
        return pred


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
