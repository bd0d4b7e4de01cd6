"""flow: the model writes a flowchart (JSON: ask / compute / branch / output steps over named
state keys), which is validated (repaired once), executed step by step — the model called at each
ask step and yes/no branch — and the output step's value is the answer. Falls back to zero-shot
CoT with the reason in `Prediction.note`; `details["graph"]` holds the steps, path and state."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..context import RunContext
from ..problem import Prediction, Problem
from .base import opt, register
from .graph import GraphOptions, GraphStrategy, draw_and_run

PLAN = (
    "Write a small flowchart that solves the problem below, as JSON. Steps run in order. Step kinds:\n"
    '- ask the model: {{"id": "x", "ask": "a simple question", "answer": "number", "set": "x"}} '
    "(the answer is stored under the name x)\n"
    '- compute: {{"id": "y", "compute": {{"y": "x * 2"}} (arithmetic on stored names)\n'
    '- branch: {{"id": "check", "branch": "y > 10", "then": "big", "else": "small"}}\n'
    '- output: {{"id": "done", "output": "{{y}}"}} (the final answer)\n'
    "Write {{name}} inside a question to insert a stored value. Reply with JSON only: "
    '{{"steps": [...]}}\n\nProblem: {problem}'
)

EXAMPLE_Q = "A pen costs 3 dollars. Tom buys 4 pens and pays with a 20-dollar bill. How much change does he get?"
EXAMPLE_A = json.dumps({"steps": [
    {"id": "cost", "ask": "How much do 4 pens at 3 dollars each cost?", "answer": "number", "set": "cost"},
    {"id": "change", "compute": {"change": "20 - cost"}},
    {"id": "done", "output": "{change}"},
]})


@dataclass
class FlowOptions(GraphOptions):
    plan_tokens: int = opt(384, "token limit of the call that writes the flowchart")


@register
class FlowStrategy(GraphStrategy):
    name = "flow"
    description = ("The model writes a flowchart (ask/compute/branch/output steps, JSON); it is validated "
                   "(repaired once) and executed step by step; falls back to zero-shot CoT.")
    Options = FlowOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        return draw_and_run(self, ctx, problem, "flow", PLAN, (EXAMPLE_Q, EXAMPLE_A))
