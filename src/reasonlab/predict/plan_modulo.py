"""plan-modulo (LLM-Modulo, Kambhampati et al. 2024): generate a plan, check it with a sound
validator, back-prompt with the validator's critique, up to N rounds. The answer is a plan only
when the validator accepted it."""

from __future__ import annotations

from dataclasses import dataclass

from ..context import RunContext
from ..result import Prediction, Problem
from .base import Options, Strategy, opt, register


@dataclass
class PlanModuloOptions(Options):
    max_tokens: int = opt(256, "token limit of each plan attempt")
    rounds: int = opt(15, "most generate-validate-critique rounds")
    retry_temperature: float = opt(0.7, "sampling temperature of rounds after the first")
    history: str = opt("last", "what the model sees on a retry: 'last' attempt + critique, or 'full' history")


def plan_prediction(ctx: RunContext, problem: Problem, o: Options, rounds: int, retry_temperature: float,
                    history: str) -> Prediction:
    """Run the LLM-Modulo loop on a planning Problem and package its outcome."""
    from ..planning.modulo import run_loop, setup_from_problem
    from ..planning.render import plan_lines

    setup = setup_from_problem(problem)
    out = run_loop(ctx, setup, rounds, max_tokens=o.max_tokens, temperature=o.temperature,
                   retry_temperature=retry_temperature, history=history)
    last = out.rounds[-1]
    details = out.to_dict()
    details["plan_words"] = plan_lines(out.plan, setup.vocab).splitlines() if out.plan else None
    details["last_attempt"] = last.parsed.to_dict()["actions"]
    details["last_critique"] = last.critique
    answer = "\n".join(a.pddl() for a in out.plan) if out.valid and out.plan else None
    note = None if out.valid else f"no valid plan in {out.rounds_used} round(s)"
    return Prediction(answer=answer, strict=answer, reasoning=last.output, details=details, note=note)


@register
class PlanModulo(Strategy):
    name = "plan-modulo"
    description = ("LLM-Modulo planning: plan, validate with a sound PDDL validator, back-prompt its "
                   "critique, up to N rounds; a plan is returned only if the validator accepted it.")
    Options = PlanModuloOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        return plan_prediction(ctx, problem, o, o.rounds, o.retry_temperature, o.history)
