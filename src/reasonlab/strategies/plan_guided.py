"""plan-guided, plan-random-guided and plan-greedy-guided: a depth-first search over the simulator's
states where the model (or, as the honest controls at the same step budget, a uniform random choice,
or the greedy count of goals achieved minus undone) ranks the actions applicable now; repeated
states and dead ends backtrack to the next-ranked action; the final plan is returned only when the
validator accepted it."""

from __future__ import annotations

from dataclasses import dataclass

from ..context import RunContext
from ..errors import InputError
from ..problem import Prediction, Problem
from .base import Options, Strategy, opt, register


@dataclass
class PlanGuidedOptions(Options):
    scorer: str = opt("logprobs", "model choice: 'logprobs' scores every listed action as the reply (no text "
                      "generated; ranking kept for backtracking) or 'generate' (the model writes one)")
    norm: str = opt("mean", "logprobs: per-token 'mean' or total 'sum' of an option's log-probabilities")
    effects: bool = opt(False, "list with each action the goals it achieves or undoes (computed by the simulator)")
    goals_first: bool = opt(False, "scorer 'logprobs': rank by the simulator's count of goals achieved minus undone "
                            "first; the model's scores order the actions within a tie (compare plan-greedy-guided)")
    max_tokens: int = opt(48, "token limit of each written choice (scorer 'generate')")
    budget: int = opt(40, "most moves (choices and forced moves); backtracking is free")
    max_depth: int = opt(30, "a path this long counts as a dead end")
    grammar: bool = opt(True, "scorer 'generate': constrain each reply to the listed actions (GBNF, where supported)")
    example: bool = opt(True, "show the solved example in every choice prompt")
    demos: int = opt(0, "worked choices shown before each question: states of other solved instances (or of "
                     "the example's plan) with the action an optimal plan takes there")


def guided_prediction(ctx: RunContext, problem: Problem, o: PlanGuidedOptions, chooser: str) -> Prediction:
    from ..planning.guided import NORMS, SCORERS, GuidedOptions, guided_search
    from ..planning.render import plan_lines
    from ..planning.task import planning_task

    if o.scorer not in SCORERS:
        raise InputError(f"scorer must be one of {', '.join(SCORERS)}, not {o.scorer!r}")
    if o.norm not in NORMS:
        raise InputError(f"norm must be one of {', '.join(NORMS)}, not {o.norm!r}")
    planning = planning_task(problem)
    out = guided_search(ctx, planning, GuidedOptions(budget=o.budget, max_depth=o.max_depth, chooser=chooser,
                                                     scorer=o.scorer, norm=o.norm, effects=o.effects,
                                                     goals_first=o.goals_first,
                                                     grammar=o.grammar, max_tokens=o.max_tokens, seed=ctx.seed,
                                                     example=o.example, demos=o.demos))
    details = out.to_dict()
    details["plan_words"] = plan_lines(out.plan, planning.vocab).splitlines() if out.plan else None
    answer = "\n".join(a.pddl() for a in out.plan) if out.valid and out.plan else None
    note = None if out.valid else f"no valid plan in {out.moves} move(s) ({out.status})"
    return Prediction(answer=answer, strict=answer, reasoning="\n".join(s.choice or "" for s in out.steps),
                      details=details, note=note)


@register
class PlanGuided(Strategy):
    name = "plan-guided"
    description = ("Verifier-guided planning: the model ranks the actions the simulator says are applicable "
                   "(log-probability of each); repeated states and dead ends backtrack; the plan is validated.")
    Options = PlanGuidedOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        return guided_prediction(ctx, problem, self.options, "model")


@register
class PlanRandomGuided(Strategy):
    name = "plan-random-guided"
    description = ("The control for plan-guided: the same search with uniform random choices (no model calls; "
                   "the run's seed seeds them).")
    Options = PlanGuidedOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        return guided_prediction(ctx, problem, self.options, "random")


@register
class PlanGreedyGuided(Strategy):
    name = "plan-greedy-guided"
    description = ("The control for plan-guided with effects: the same search ranking actions by goals achieved "
                   "minus goals undone (the simulator's annotation alone, no model; ties in seeded random order).")
    Options = PlanGuidedOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        return guided_prediction(ctx, problem, self.options, "greedy")
