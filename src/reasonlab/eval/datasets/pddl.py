"""`pddl:DIR`: a folder holding one domain file (domain*.pddl) and problem files (*.pddl), or
PlanBench's layout (domain.pddl beside an `instances/` folder).

A problem file named example*.pddl, if present, is not evaluated: the planner solves it and it
becomes the one-shot example shown before every other problem (otherwise prompts are zero-shot).
Gold plans come from the planner; problems it proves unsolvable are kept (optimal_length None)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ._planning import PlanningDataset, planning_item
from .base import Item, register


@register
class PDDLDataset(PlanningDataset):
    prefix = "pddl"
    description = "A folder of PDDL problems beside one domain*.pddl (example*.pddl = one-shot example)."

    def __init__(self, arg: str) -> None:
        from ...planning.builtin import pddl_folder

        super().__init__(arg)
        self.domain, files = pddl_folder(Path(arg).expanduser())
        self.examples = [p for p in files if p.stem.lower().startswith("example")]
        self.problems = [p for p in files if p not in self.examples]
        self._items: list[Item] | None = None

    def items(self) -> Iterator[Item]:
        if self._items is None:
            self._items = self._build()
        yield from self._items

    def _build(self) -> list[Item]:
        from ...planning.builtin import solved_example
        from ...planning.pddl import Task
        from ...planning.planner import solve
        from ...planning.task import make_problem

        example = solved_example(Task.from_files(self.domain, self.examples[0])) if self.examples else None
        out = []
        for p in self.problems:
            task = Task.from_files(self.domain, p)
            gold = solve(task)
            plan = [a.pddl() for a in gold.plan] if gold.plan is not None else None
            out.append(planning_item(p.stem, make_problem(task, "auto", example), plan,
                                     {"planner": gold.engine, "planner_status": gold.status}))
        return out
