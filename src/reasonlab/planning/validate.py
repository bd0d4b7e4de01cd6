"""Plan validation with pddl-pyvalidator (a pure-Python VAL), turned into critiques in words.

`validate(task, actions)` runs the validator on the task's PDDL and a plan file and returns a
`Verdict`: valid or not, the first failing step with each unmet precondition, or the goals
left unmet — and `critique`, the same in words (through a `Vocabulary`) for back-prompting.
`Verdict.valid` is the validator's own answer; nothing else in reasonlab sets it.
"""

from __future__ import annotations

import re
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .pddl import Atom, GroundAction, Literal, Task, plan_text
from .render import Vocabulary

_EXPR = re.compile(r"^\(?\s*(not\s+)?([^\s()]+)\s*(?:\((.*)\))?\s*\)?$")


@dataclass
class Verdict:
    valid: bool
    status: str  # "valid" | "inapplicable" | "goal_not_reached" | "bad_plan" | "bad_pddl"
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


def _run_pyval(task: Task, plan_path: str) -> Any:
    from pyval import PDDLValidator

    domain, problem = task.paths
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return PDDLValidator().validate(domain_path=domain, problem_path=problem, plan_path=plan_path)


def validate(task: Task, actions: list[GroundAction], vocab: Vocabulary | None = None) -> Verdict:
    """Validate `actions` on `task` with pddl-pyvalidator; the critique uses `vocab` when given."""
    t0 = time.perf_counter()
    folder = Path(task.paths[0]).parent
    with tempfile.NamedTemporaryFile("w", suffix=".plan", dir=folder, delete=False, encoding="utf-8") as f:
        f.write(plan_text(actions))
        plan_path = f.name
    try:
        r = _run_pyval(task, plan_path)
    finally:
        Path(plan_path).unlink(missing_ok=True)
    v = _verdict(r, actions)
    v.critique = critique(v, vocab)
    v.seconds = time.perf_counter() - t0
    return v


def _verdict(r: Any, actions: list[GroundAction]) -> Verdict:
    if r.status == "SYNTAX_ERROR":
        return Verdict(False, "bad_pddl", errors=list(r.phases.get("syntax", {}).get("errors", [])))
    if r.status == "STRUCTURE_ERROR":
        return Verdict(False, "bad_plan", errors=list(r.phases.get("structure", {}).get("errors", [])))
    steps_ok = sum(1 for s in r.steps if s.status == "OK")
    if r.is_valid:
        return Verdict(True, "valid", steps_ok=steps_ok)
    if r.failed_step is not None:
        step = next(s for s in r.steps if s.index == r.failed_step)
        return Verdict(False, "inapplicable", failed_step=r.failed_step,
                       failed_action=actions[r.failed_step - 1] if r.failed_step <= len(actions) else None,
                       unmet_preconditions=[u.expression for u in step.unsatisfied], steps_ok=steps_ok)
    return Verdict(False, "goal_not_reached", unmet_goals=[g.expression for g in r.unsatisfied_goals],
                   steps_ok=steps_ok)


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
    if v.status == "bad_plan":
        return "The plan is not valid: " + "; ".join(v.errors) + "."
    return "The planning task itself could not be read: " + "; ".join(v.errors)
