"""Verifier-guided planning: a depth-first search over the simulator's states in which the model
(or, as a control, a uniform random choice or the greedy goal count) ranks the actions that can
be performed in the current state, described in the task's words (choosers.py).

The simulator lists the applicable actions; an action whose result is a state already visited is
not offered (repeated state); a state with nothing left to offer is a dead end, and so is the
depth limit: the search backtracks to the previous state and takes the next action of the
ranking kept there (a partial ranking is asked again for the remaining actions). Every move (a choice, or a forced move when one action is left) counts against the
step budget, the same for the model and the random control. When the goals hold, the path is
checked by the validator; **only a plan the validator accepted is returned as valid**.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ..context import RunContext
from .choosers import (
    Chooser,
    GenerateChooser,
    GreedyChooser,
    LogprobChooser,
    RandomChooser,
    choice_prompt,
    read_choice,
)
from .pddl import GroundAction
from .simulate import State, initial_state, step, unmet_goals
from .task import PlanningTask
from .validate import Verdict, validate

CHOOSERS = ("model", "random", "greedy")
SCORERS = ("logprobs", "generate")
NORMS = ("mean", "sum")
MODE_NAMES = {"model": "guided", "random": "random-guided", "greedy": "greedy-guided"}
__all__ = ["CHOOSERS", "GuidedOptions", "GuidedOutcome", "Step", "choice_prompt", "guided_search", "read_choice"]


@dataclass
class GuidedOptions:
    budget: int = 40  # most moves (choices and forced moves), backtracking excluded
    max_depth: int = 30  # a path this long is a dead end
    chooser: str = "model"  # "model" | "random" (the control) | "greedy" (the annotation's control)
    scorer: str = "logprobs"  # model chooser: "logprobs" (score every option) | "generate" (write one)
    norm: str = "mean"  # logprobs: per-token "mean" or "sum" of an option's log-probabilities
    goals_first: bool = False  # logprobs: rank by goals achieved minus undone first, the model within ties
    effects: bool = False  # list with each option the goals it achieves / undoes (simulator-computed)
    grammar: bool = True  # generate: constrain the model's reply to the listed actions (where supported)
    max_tokens: int = 48
    seed: int = 0  # the random and greedy choosers' seed
    example: bool = True  # show the solved example in every choice prompt
    demos: int = 0  # worked choices (demos.py) shown before each question
    label: str = "guided"


@dataclass
class Step:
    """One event of the search, for the trace (and the web page)."""

    index: int  # 1-based event number
    kind: str  # "choose" | "forced" | "backtrack" | "goal"
    depth: int  # plan length before this event
    options: list[str] = field(default_factory=list)  # applicable actions offered, in words
    repeated: int = 0  # applicable actions not offered because they lead to a visited state
    choice: str | None = None  # the action taken, in words
    action: str | None = None  # the same in PDDL
    reply: str | None = None  # the model's raw reply (generate scorer)
    critique: str = ""  # what happened, in words
    unmet_goals: list[str] = field(default_factory=list)
    scores: list[float | None] | None = None  # per option: its score (logprobs / greedy), None if unscored
    lengths: list[int] | None = None  # logprobs: tokens scored per option (sum = mean x length)
    reused: bool = False  # the choice is the next one of a ranking made at an earlier visit (no new call)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.index, "kind": self.kind, "depth": self.depth, "options": self.options,
                "repeated": self.repeated, "choice": self.choice, "action": self.action, "reply": self.reply,
                "critique": self.critique, "unmet_goals": self.unmet_goals, "scores": self.scores,
                "lengths": self.lengths, "reused": self.reused}


@dataclass
class GuidedOutcome:
    valid: bool
    plan: list[GroundAction] | None  # the validated plan; None unless valid
    chooser: str
    status: str = "budget"  # "valid" | "budget" (moves used up) | "exhausted" (every state tried)
    moves: int = 0
    backtracks: int = 0
    rankings: int = 0  # times the chooser was asked (the model chooser: one prompt each)
    steps: list[Step] = field(default_factory=list)
    verdict: Verdict | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"mode": MODE_NAMES[self.chooser], "valid": self.valid,
                "status": self.status, "plan": [a.pddl() for a in self.plan] if self.plan else None,
                "moves": self.moves, "backtracks": self.backtracks, "rankings": self.rankings, "chooser": self.chooser,
                "verdict": self.verdict.to_dict() if self.verdict else None,
                "steps": [s.to_dict() for s in self.steps]}


@dataclass
class _Node:
    state: State
    tried: set[GroundAction] = field(default_factory=set)
    ranking: list[GroundAction] = field(default_factory=list)  # the chooser's order here, best first


def guided_search(ctx: RunContext | None, planning: PlanningTask, opts: GuidedOptions | None = None) -> GuidedOutcome:
    """Search with the model (or a control) as the heuristic; see the module docstring.
    `ctx` may be None for the random and greedy choosers (no model, no events)."""
    o = opts or GuidedOptions()
    if o.chooser not in CHOOSERS:
        raise ValueError(f"chooser must be one of {', '.join(CHOOSERS)}")
    if o.scorer not in SCORERS or o.norm not in NORMS:
        raise ValueError(f"scorer must be one of {', '.join(SCORERS)} and norm one of {', '.join(NORMS)}")
    view, vocab = planning.task.strips, planning.vocab
    rng = random.Random(f"{o.seed}:{planning.task.name}:{planning.task.problem_text}")
    chooser: Chooser
    if o.chooser == "model":
        if ctx is None:
            raise ValueError("the model chooser needs a RunContext")
        chooser = (LogprobChooser if o.scorer == "logprobs" else GenerateChooser)(ctx, planning, o)
    elif o.chooser == "greedy":
        chooser = GreedyChooser(planning, rng)
    else:
        chooser = RandomChooser(rng)
    grounded = planning.ground_actions()
    start = initial_state(view)
    visited: set[State] = {start}
    stack = [_Node(start)]
    path: list[GroundAction] = []
    out = GuidedOutcome(False, None, o.chooser)

    def record(s: Step) -> None:
        out.steps.append(s)
        if ctx is not None:
            ctx.emit("plan_step", s.to_dict())

    while True:
        node = stack[-1]
        unmet = unmet_goals(view, node.state)
        if not unmet:
            verdict = validate(planning.task, path, vocab)
            record(Step(len(out.steps) + 1, "goal", len(path), critique=verdict.critique))
            if verdict.valid:  # the only place a plan is declared valid
                out.valid, out.plan, out.status, out.verdict = True, list(path), "valid", verdict
                return out
            out.verdict = verdict  # the simulator and the validator disagree: treat as a dead end
        if out.moves >= o.budget:
            out.status = "budget"
            return out
        options, repeated = [], 0
        if unmet and len(path) < o.max_depth:
            for act in grounded:
                if act in node.tried:
                    continue
                nxt = step(view, node.state, act)
                if nxt is None:
                    continue
                if nxt in visited:
                    repeated += 1
                else:
                    options.append(act)
        if not options:
            why = ("the depth limit is reached" if unmet and len(path) >= o.max_depth
                   else "every action from here leads to a state already visited" if unmet
                   else "the validator rejected the path")
            if len(stack) == 1:
                out.status = "exhausted"
                record(Step(len(out.steps) + 1, "backtrack", 0, repeated=repeated,
                            critique=f"dead end at the start ({why}): no plan within the search"))
                return out
            stack.pop()
            undone = path.pop()
            out.backtracks += 1
            record(Step(len(out.steps) + 1, "backtrack", len(path) + 1, repeated=repeated,
                        critique=f"dead end ({why}): undo {vocab.action(undone)}"))
            continue
        out.moves += 1
        rec = Step(len(out.steps) + 1, "choose" if len(options) > 1 else "forced", len(path),
                   options=[vocab.action(a) for a in options], repeated=repeated,
                   unmet_goals=[vocab.literal(g) for g in unmet])
        if len(options) == 1:
            act = options[0]
        else:
            act = next((a for a in node.ranking if a in options), None)
            if act is not None:
                rec.reused = True
                rec.critique = "the next action of the ranking made at this state before (no new model call)"
            else:  # first visit, or the ranking made here is used up: ask for the remaining options
                out.rankings += 1
                node.ranking = chooser.rank(path, node.state, options, out.moves, rec)
                act = next((a for a in node.ranking if a in options), None)
                if act is None:
                    node.ranking, act = list(options), options[0]
                    rec.critique = "the chooser ranked none of the listed actions: took the first listed"
        rec.choice, rec.action = vocab.action(act), act.pddl()
        node.tried.add(act)
        nxt = step(view, node.state, act)
        assert nxt is not None
        visited.add(nxt)
        stack.append(_Node(nxt))
        path.append(act)
        record(rec)
