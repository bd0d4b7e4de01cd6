"""A small STRIPS simulator over a `StripsView`: how far a plan gets, and whether the goals held
at some point along the way. Used for smooth metrics (executable prefix, goal reached); the
validity verdict always comes from the validator (validate.py), never from here."""

from __future__ import annotations

from dataclasses import dataclass

from .pddl import Atom, GroundAction, Literal, StripsView


@dataclass
class Trace:
    executable: int  # how many leading steps can be performed
    failed_step: int | None  # 1-based index of the first inapplicable step
    goal_reached_at: int | None  # fewest steps after which all goals held (0 = initially)
    goal_at_end: bool  # goals hold after the executable prefix

    @property
    def valid(self) -> bool:
        return self.failed_step is None and self.goal_at_end


def _ground(atom: Atom, binding: dict[str, str]) -> Atom:
    return Atom(atom.pred, tuple(binding.get(a, a) for a in atom.args))


def _true(atom: Atom, state: set[Atom]) -> bool:
    if atom.pred == "=":
        return atom.args[0] == atom.args[1]
    return atom in state


def _holds(lits: list[Literal], state: set[Atom]) -> bool:
    return all(_true(lit.atom, state) == lit.positive for lit in lits)


def simulate(view: StripsView, plan: list[GroundAction]) -> Trace:
    state = set(view.init)
    reached = 0 if _holds(view.goal, state) else None
    for i, act in enumerate(plan, start=1):
        schema = view.actions.get(act.name)
        if schema is None or len(schema.params) != len(act.args):
            return Trace(i - 1, i, reached, _holds(view.goal, state))
        binding = dict(zip(schema.params, act.args, strict=True))
        pre = [Literal(_ground(lit.atom, binding), lit.positive) for lit in schema.pre]
        if not _holds(pre, state):
            return Trace(i - 1, i, reached, _holds(view.goal, state))
        state -= {_ground(a, binding) for a in schema.delete}
        state |= {_ground(a, binding) for a in schema.add}
        if reached is None and _holds(view.goal, state):
            reached = i
    return Trace(len(plan), None, reached, _holds(view.goal, state))
