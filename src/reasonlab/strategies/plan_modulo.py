"""plan-modulo (LLM-Modulo, Kambhampati et al. 2024): generate plans, check them with a sound
validator, back-prompt with the critique, up to N rounds. By default with well-formed steps (a
grammar from the PDDL), prefix-keeping back-prompts and k candidates per round; `plain=true` is
the paper's loop. The answer is a plan only when the validator accepted it."""

from __future__ import annotations

from dataclasses import dataclass

from ..context import RunContext
from ..problem import Prediction, Problem
from .base import Options, Strategy, opt, register


@dataclass
class PlanModuloOptions(Options):
    max_tokens: int = opt(256, "token limit of each plan attempt")
    rounds: int = opt(15, "most generate-validate-critique rounds")
    retry_temperature: float = opt(0.7, "sampling temperature of later rounds and of k > 1 candidates")
    history: str = opt("last", "plain back-prompts: 'last' attempt + critique, or 'full' history")
    grammar: bool = opt(True, "constrain plan lines to the domain's actions and objects (GBNF, where supported)")
    prefix: bool = opt(True, "keep the valid prefix and ask only for the rest (the reformulator)")
    candidates: int = opt(3, "plans per round, from one batched request")
    max_steps: int = opt(16, "most plan lines the grammar allows per attempt")
    plain: bool = opt(False, "the paper's loop: no grammar, no prefix keeping, one candidate")
    applicable: bool = opt(False, "the first step of each attempt must be an action applicable where it starts "
                                  "(grammar), and back-prompts list those actions: every round gains a step")


def loop_options(o: Options, rounds: int, plain: bool):  # -> planning.modulo.LoopOptions
    from ..planning.modulo import LoopOptions

    lo = LoopOptions(rounds=rounds, max_tokens=o.max_tokens, temperature=o.temperature,
                     retry_temperature=getattr(o, "retry_temperature", 0.7), history=getattr(o, "history", "last"),
                     grammar=getattr(o, "grammar", False), prefix=getattr(o, "prefix", False),
                     candidates=getattr(o, "candidates", 1), max_steps=getattr(o, "max_steps", 16),
                     applicable=getattr(o, "applicable", False))
    return lo.plain() if plain else lo


def plan_prediction(ctx: RunContext, problem: Problem, o: Options, rounds: int, plain: bool) -> Prediction:
    """Run the LLM-Modulo loop on a planning Problem and package its outcome."""
    from ..planning.modulo import run_loop
    from ..planning.render import plan_lines
    from ..planning.task import planning_task

    planning = planning_task(problem)
    out = run_loop(ctx, planning, loop_options(o, rounds, plain))
    last = out.rounds[-1]
    details = out.to_dict()
    details["plan_words"] = plan_lines(out.plan, planning.vocab).splitlines() if out.plan else None
    details["last_attempt"] = [a.pddl() for a in last.best.attempt]
    details["last_critique"] = last.best.critique
    answer = "\n".join(a.pddl() for a in out.plan) if out.valid and out.plan else None
    note = None if out.valid else f"no valid plan in {out.rounds_used} round(s)"
    return Prediction(answer=answer, strict=answer, reasoning=last.best.output, details=details, note=note)


@register
class PlanModulo(Strategy):
    name = "plan-modulo"
    description = ("LLM-Modulo planning: plan, validate with a sound PDDL validator, back-prompt its "
                   "critique, up to N rounds; a plan is returned only if the validator accepted it.")
    Options = PlanModuloOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        return plan_prediction(ctx, problem, o, o.rounds, o.plain)
