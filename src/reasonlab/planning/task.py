"""The planning task a planning `Problem` carries: the PDDL parsed once, its wording, and the
one-shot example — built once (by `reasonlab plan`, the planning datasets, or `make_problem`)
and read by every strategy call and every score without re-parsing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import product
from typing import Any

from ..errors import InputError
from ..problem import Problem
from .pddl import GroundAction, Task
from .render import Example, Vocabulary, prompt, statement, vocabulary


@dataclass
class PlanningTask:
    """A planning problem, parsed once: the task (domain + problem), its vocabulary, the example."""

    task: Task
    vocab: Vocabulary
    example: Example | None = None
    info: dict[str, Any] = field(default_factory=dict)  # dataset extras (variant, planner, …)
    demos: list[Example] = field(default_factory=list)  # other solved instances: guided's worked choices

    @classmethod
    def of(cls, task: Task, vocab_style: str = "auto", example: Example | None = None,
           demos: list[Example] | None = None) -> PlanningTask:
        return cls(task, vocabulary(task, vocab_style), example, demos=list(demos or []))

    def first_prompt(self) -> str:
        return prompt(self.task, self.vocab, self.example)

    def statement(self) -> str:
        return statement(self.task, self.vocab)

    @cached_property
    def arguments(self) -> dict[str, list[tuple[str, ...]]]:
        """action name -> every tuple of objects it can take (types respected), for the simulator."""
        problem = self.task.up_problem
        out: dict[str, list[tuple[str, ...]]] = {}
        for name in self.task.strips.actions:
            schema = problem.action(name)
            pools = [[o.name for o in problem.all_objects if p.type.is_compatible(o.type)]
                     for p in schema.parameters]
            out[name] = [tuple(args) for args in product(*pools)]
        return out

    def ground_actions(self) -> list[GroundAction]:
        """Every grounding of every action (small domains: the guided search enumerates these)."""
        return [GroundAction(n, args) for n, tuples in self.arguments.items() for args in tuples]


def make_problem(task: Task, vocab_style: str = "auto", example: Example | None = None,
                 meta: dict[str, Any] | None = None, demos: list[Example] | None = None) -> Problem:
    """A `Problem` carrying `task` as a `PlanningTask` (parsed once) for the planning strategies;
    `demos`: other solved instances of the domain, for the guided search's worked choices."""
    planning = PlanningTask.of(task, vocab_style, example, demos)
    m: dict[str, Any] = {"planning": True, "task_name": task.name, "vocabulary": planning.vocab.kind,
                         **(meta or {})}
    return Problem(text=planning.statement(), kind="plan", language="en", meta=m, planning=planning)


def planning_task(problem: Problem) -> PlanningTask:
    """The problem's `PlanningTask`; InputError for a problem that is not a planning task."""
    planning = problem.planning
    if not isinstance(planning, PlanningTask):
        raise InputError("planning strategies need a planning problem (one that carries a PDDL task): "
                         "use `reasonlab plan` or a planning dataset (blocksworld:N, pddl:DIR)")
    return planning
