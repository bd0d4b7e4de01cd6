"""Ground truth from classical planners: Fast Downward (the compiled one shipped by the
up-fast-downward wheel, through unified-planning) and pyperplan (pure Python) as fallback.

`solve(task)` returns a `PlannerResult` whose status is "solved", "unsolvable" (the search
proved there is no plan), "timeout" or "error". With `optimal=True` (the default) the
planners run A* with the admissible LM-cut heuristic, so the plan length is the optimum.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from .pddl import GroundAction, Task

ENGINES = ("auto", "fast-downward", "pyperplan")


@dataclass
class PlannerResult:
    status: str  # "solved" | "unsolvable" | "timeout" | "error"
    plan: list[GroundAction] | None
    engine: str
    optimal: bool
    seconds: float
    message: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def solved(self) -> bool:
        return self.status == "solved"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "engine": self.engine, "optimal": self.optimal,
                "plan": [a.pddl() for a in self.plan] if self.plan is not None else None,
                "length": len(self.plan) if self.plan is not None else None,
                "seconds": round(self.seconds, 4), "message": self.message, "notes": self.notes}


def _fast_downward(task: Task, optimal: bool, timeout: float) -> PlannerResult:
    import up_fast_downward  # noqa: F401 - registers the engines with unified-planning
    from unified_planning.engines import PlanGenerationResultStatus as S
    from unified_planning.shortcuts import OneshotPlanner, get_environment

    get_environment().credits_stream = None
    name = "fast-downward-opt" if optimal else "fast-downward"
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with OneshotPlanner(name=name) as planner:
            res = planner.solve(task.up_problem, timeout=timeout)
    secs = time.perf_counter() - t0
    if res.status in (S.SOLVED_SATISFICING, S.SOLVED_OPTIMALLY):
        plan = [GroundAction(a.action.name, tuple(str(p) for p in a.actual_parameters)) for a in res.plan.actions]
        return PlannerResult("solved", plan, name, optimal, secs)
    if res.status in (S.UNSOLVABLE_PROVEN, S.UNSOLVABLE_INCOMPLETELY):
        return PlannerResult("unsolvable", None, name, optimal, secs, "the planner proved that no plan exists"
                             if res.status == S.UNSOLVABLE_PROVEN else "the planner found no plan")
    if res.status == S.TIMEOUT:
        return PlannerResult("timeout", None, name, optimal, secs, f"no plan within {timeout:g} s")
    return PlannerResult("error", None, name, optimal, secs, f"planner status {res.status.name}")


def _pyperplan(task: Task, optimal: bool, timeout: float) -> PlannerResult:
    from pyperplan.planner import HEURISTICS, SEARCHES, search_plan

    domain, problem = task.paths
    search, heur = (SEARCHES["astar"], HEURISTICS["lmcut"]) if optimal else (SEARCHES["gbf"], HEURISTICS["hff"])
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["plan"] = search_plan(domain, problem, search, heur)
        except Exception as e:  # noqa: BLE001 - reported as an error result
            box["error"] = e

    logging.getLogger().setLevel(max(logging.getLogger().level, logging.WARNING))
    t0 = time.perf_counter()
    th = threading.Thread(target=work, daemon=True)
    th.start()
    th.join(timeout)
    secs = time.perf_counter() - t0
    if th.is_alive():  # pyperplan cannot be interrupted: the daemon thread is abandoned
        return PlannerResult("timeout", None, "pyperplan", optimal, secs, f"no plan within {timeout:g} s")
    if "error" in box:
        return PlannerResult("error", None, "pyperplan", optimal, secs, f"pyperplan failed: {box['error']}")
    ops = box.get("plan")
    if ops is None:
        return PlannerResult("unsolvable", None, "pyperplan", optimal, secs,
                             "the planner's complete search found that no plan exists")
    plan = []
    for op in ops:
        name, *args = op.name.strip("()").split()
        plan.append(GroundAction(name, tuple(args)))
    return PlannerResult("solved", plan, "pyperplan", optimal, secs)


def solve(task: Task, engine: str = "auto", optimal: bool = True, timeout: float = 60.0) -> PlannerResult:
    """Plan for `task`. 'auto' tries Fast Downward, then pyperplan if Fast Downward is unavailable or fails."""
    if engine not in ENGINES:
        raise InputError(f"unknown planner {engine!r} (use {', '.join(ENGINES)})")
    task.up_problem  # noqa: B018 - malformed PDDL raises PDDLError here, before any planner runs
    if engine == "pyperplan":
        return _pyperplan(task, optimal, timeout)
    try:
        res = _fast_downward(task, optimal, timeout)
    except Exception as e:  # noqa: BLE001 - fall back below, or report
        if engine == "fast-downward":
            return PlannerResult("error", None, "fast-downward", optimal, 0.0, f"Fast Downward failed: {e}")
        res = _pyperplan(task, optimal, timeout)
        res.notes.append(f"Fast Downward unavailable ({type(e).__name__}: {e}); used pyperplan")
        return res
    if res.status == "error" and engine == "auto":
        fallback = _pyperplan(task, optimal, timeout)
        fallback.notes.append(f"Fast Downward: {res.message}; used pyperplan")
        return fallback
    return res
