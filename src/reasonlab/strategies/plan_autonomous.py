"""plan-autonomous (PlanBench's autonomous mode): one plan attempt by the model alone. The plan
is still checked by the validator so it can be scored; it is the answer only if it is valid."""

from __future__ import annotations

from dataclasses import dataclass

from ..context import RunContext
from ..problem import Prediction, Problem
from .base import Options, Strategy, opt, register
from .plan_modulo import plan_prediction


@dataclass
class PlanAutonomousOptions(Options):
    max_tokens: int = opt(256, "token limit of the plan")


@register
class PlanAutonomous(Strategy):
    name = "plan-autonomous"
    description = "One plan attempt by the model alone (validated afterwards, never repaired)."
    Options = PlanAutonomousOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        return plan_prediction(ctx, problem, self.options, 1, plain=True)
