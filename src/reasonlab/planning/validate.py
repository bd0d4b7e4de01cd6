"""Plan validation with pddl-pyvalidator (a pure-Python VAL), turned into critiques in words.

`validate(task, actions)` runs the validator's simulator on the parsed task and returns a
`Verdict`: valid or not, the first failing step with each unmet precondition, or the goals
left unmet — and `critique`, the same in words (through a `Vocabulary`) for back-prompting.
`Verdict.valid` is the validator's own answer; nothing else in reasonlab sets it.
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from .pddl import Atom, GroundAction, Literal, Task
from .render import Vocabulary

_EXPR = re.compile(r"^\(?\s*(not\s+)?([^\s()]+)\s*(?:\((.*)\))?\s*\)?$")


@dataclass
class Verdict:
    valid: bool
    status: str  # "valid" | "inapplicable" | "goal_not_reached" | "bad_plan"
    failed_step: int | None = None  # 1-based
    failed_action: GroundAction | None = None
    unmet_preconditions: list[str] = field(default_factory=list)  # validator's expressions
    unmet_goals: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    steps_ok: int = 0
    critique: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "status": self.status, "failed_step": self.failed_step,
                "failed_action": self.failed_action.pddl() if self.failed_action else None,
                "unmet_preconditions": self.unmet_preconditions, "unmet_goals": self.unmet_goals,
                "errors": self.errors, "steps_ok": self.steps_ok, "critique": self.critique,
                "seconds": round(self.seconds, 4)}


def expr_literal(expr: str) -> Literal | None:
    """'on(a, b)' / 'handempty' / '(not holding(a))' from the validator -> a Literal."""
    m = _EXPR.match(expr.strip())
    if not m:
        return None
    args = tuple(a.strip() for a in (m.group(3) or "").split(",") if a.strip())
    return Literal(Atom(m.group(2), args), positive=not m.group(1))


def in_words(expr: str, vocab: Vocabulary | None) -> str:
    """A validator expression in the vocabulary's words (raw, if it cannot be read)."""
    if vocab is None:
        return expr
    lit = expr_literal(expr)
    if lit is None or lit.atom.pred not in vocab.view.predicates:
        return expr
    try:
        return vocab.literal(lit)
    except (KeyError, IndexError):
        return expr


def _instances(problem: Any, actions: list[GroundAction]) -> tuple[list[Any], list[str]]:
    """unified-planning action instances for the plan, or the reasons it names unknown things
    (the same checks as pyvalidator's plan-structure phase)."""
    from unified_planning.plans import ActionInstance

    out, errors = [], []
    for i, act in enumerate(actions, start=1):
        try:
            schema = problem.action(act.name)
        except Exception:  # noqa: BLE001 - unified-planning raises its own error for unknown names
            errors.append(f"step {i}: there is no action '{act.name}'")
            continue
        if len(schema.parameters) != len(act.args):
            errors.append(f"step {i}: '{act.name}' takes {len(schema.parameters)} objects, got {len(act.args)}")
            continue
        objs = []
        for param, name in zip(schema.parameters, act.args, strict=True):
            try:
                obj = problem.object(name)
            except Exception:  # noqa: BLE001
                errors.append(f"step {i}: there is no object '{name}'")
                break
            if not param.type.is_compatible(obj.type):
                errors.append(f"step {i}: '{name}' is a {obj.type}, '{act.name}' needs a {param.type} there")
                break
            objs.append(obj)
        else:
            out.append(ActionInstance(schema, tuple(objs)))
    return out, errors


def validate(task: Task, actions: list[GroundAction], vocab: Vocabulary | None = None) -> Verdict:
    """Validate `actions` on `task` with pddl-pyvalidator's step simulator; the critique uses
    `vocab` when given.

    The task is parsed once (unified-planning, as pyvalidator's syntax phase does) and the plan
    is executed by pyvalidator's own simulator, which names the failing step, each unmet
    precondition, and each unmet goal.
    """
    from pyval.plan_simulator import simulate

    t0 = time.perf_counter()
    problem = task.up_problem
    instances, errors = _instances(problem, actions)
    if errors:
        v = Verdict(False, "bad_plan", errors=errors)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            steps, _traj, goals, _num, _metric = simulate(problem, instances, {})
        v = _verdict(steps, goals, actions)
    v.critique = critique(v, vocab)
    v.seconds = time.perf_counter() - t0
    return v


def _verdict(steps: list[Any], goals: list[Any], actions: list[GroundAction]) -> Verdict:
    steps_ok = sum(1 for s in steps if s.status == "OK")
    failed = next((s for s in steps if s.status == "FAILED"), None)
    if failed is not None:
        i = failed.index
        return Verdict(False, "inapplicable", failed_step=i, failed_action=actions[i - 1],
                       unmet_preconditions=[u.expression for u in failed.unsatisfied], steps_ok=steps_ok)
    unmet = [g.expression for g in goals if not g.satisfied]
    if unmet:
        return Verdict(False, "goal_not_reached", unmet_goals=unmet, steps_ok=steps_ok)
    return Verdict(True, "valid", steps_ok=steps_ok)


def critique(v: Verdict, vocab: Vocabulary | None = None) -> str:
    """The verdict in words, for the model."""
    def act(a: GroundAction | None) -> str:
        if a is None:
            return "?"
        return vocab.action(a) if vocab is not None else a.pddl()

    if v.valid:
        return "The plan is valid: every step can be performed and all goals are reached."
    if v.status == "inapplicable":
        conds = [in_words(e, vocab) for e in v.unmet_preconditions]
        why = (f"because {'this condition does' if len(conds) == 1 else 'these conditions do'} not hold: "
               f"{'; '.join(conds)}") if conds else "in the state reached by the steps before it"
        done = f" Steps 1 to {v.steps_ok} can be performed." if v.steps_ok > 1 else (
            " Step 1 can be performed." if v.steps_ok == 1 else "")
        return (f"The plan is not valid. Step {v.failed_step} ({act(v.failed_action)}) cannot be "
                f"performed {why}.{done}")
    if v.status == "goal_not_reached":
        goals = [in_words(e, vocab) for e in v.unmet_goals]
        return ("The plan is not valid. Every step can be performed, but after the last step "
                f"{'this goal is' if len(goals) == 1 else 'these goals are'} not met: {'; '.join(goals)}.")
    return "The plan is not valid: " + "; ".join(v.errors) + "."
