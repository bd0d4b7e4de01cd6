"""A small STRIPS simulator over a `StripsView`: states, applicable actions, how far a plan gets,
and whether the goals held at some point along the way. Used for smooth metrics (executable
prefix, goal reached), for the state reached after a valid prefix (the reformulator), and by the
guided search. The validity verdict always comes from the validator (validate.py), never from here."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .pddl import Atom, GroundAction, Literal, StripsView

State = frozenset[Atom]


@dataclass
class Trace:
    executable: int  # how many leading steps can be performed
    failed_step: int | None  # 1-based index of the first inapplicable step
    goal_reached_at: int | None  # fewest steps after which all goals held (0 = initially)
    goal_at_end: bool  # goals hold after the executable prefix
    state: State = frozenset()  # the state after the executable prefix

    @property
    def valid(self) -> bool:
        return self.failed_step is None and self.goal_at_end


def _ground(atom: Atom, binding: dict[str, str]) -> Atom:
    return Atom(atom.pred, tuple(binding.get(a, a) for a in atom.args))


def _true(atom: Atom, state: State | set[Atom]) -> bool:
    if atom.pred == "=":
        return atom.args[0] == atom.args[1]
    return atom in state


def holds(lits: list[Literal], state: State | set[Atom]) -> bool:
    return all(_true(lit.atom, state) == lit.positive for lit in lits)


def unmet_goals(view: StripsView, state: State) -> list[Literal]:
    return [g for g in view.goal if _true(g.atom, state) != g.positive]


def initial_state(view: StripsView) -> State:
    return frozenset(view.init)


def step(view: StripsView, state: State, act: GroundAction) -> State | None:
    """The state after `act`, or None when it cannot be performed in `state`."""
    schema = view.actions.get(act.name)
    if schema is None or len(schema.params) != len(act.args):
        return None
    binding = dict(zip(schema.params, act.args, strict=True))
    if not all(_true(_ground(lit.atom, binding), state) == lit.positive for lit in schema.pre):
        return None
    return (state - {_ground(a, binding) for a in schema.delete}) | {_ground(a, binding) for a in schema.add}


def simulate(view: StripsView, plan: list[GroundAction], state: State | None = None) -> Trace:
    """Execute `plan` from `state` (default: the initial state) until a step cannot be performed."""
    state = initial_state(view) if state is None else state
    reached = 0 if holds(view.goal, state) else None
    for i, act in enumerate(plan, start=1):
        nxt = step(view, state, act)
        if nxt is None:
            return Trace(i - 1, i, reached, holds(view.goal, state), state)
        state = nxt
        if reached is None and holds(view.goal, state):
            reached = i
    return Trace(len(plan), None, reached, holds(view.goal, state), state)


def applicable(view: StripsView, actions: list[GroundAction], state: State,
               visited: set[State] | frozenset[State] = frozenset()) -> list[GroundAction]:
    """The actions applicable in `state` (in the order given) whose result is not in `visited`."""
    out = []
    for act in actions:
        nxt = step(view, state, act)
        if nxt is not None and nxt not in visited:
            out.append(act)
    return out


def goal_distance(view: StripsView, actions: list[GroundAction], state: State) -> int | None:
    """Optimal number of steps from `state` to the goals, by breadth-first search over `actions`;
    None when no plan exists. Exhaustive: for small domains (4-block instances) and checks only."""
    seen, todo = {state}, deque([(state, 0)])
    while todo:
        s, d = todo.popleft()
        if not unmet_goals(view, s):
            return d
        for a in actions:
            nxt = step(view, s, a)
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                todo.append((nxt, d + 1))
    return None
