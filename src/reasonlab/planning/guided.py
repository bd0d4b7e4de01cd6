"""Verifier-guided planning: a depth-first search over the simulator's states in which the model
(or, as the control, a uniform random choice) picks the next action among those that can be
performed in the current state, described in the task's words.

The simulator lists the applicable actions; an action whose result is a state already visited is
not offered (repeated state); a state with nothing left to offer is a dead end, and so is the
depth limit: the search backtracks to the previous state and asks again among the remaining
actions. Every move (a choice, or a forced move when one action is left) counts against the
step budget, the same for the model and the random control. When the goals hold, the path is
checked by the validator; **only a plan the validator accepted is returned as valid**.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ..context import RunContext
from .grammar import choice_grammar
from .parse import strip_bullet
from .pddl import GroundAction
from .render import PLAN_END, join_words, plan_lines, state_words, statement
from .simulate import State, initial_state, step, unmet_goals
from .task import PlanningTask
from .validate import Verdict, validate

CHOOSERS = ("model", "random")


@dataclass
class GuidedOptions:
    budget: int = 40  # most moves (choices and forced moves), backtracking excluded
    max_depth: int = 30  # a path this long is a dead end
    chooser: str = "model"  # "model" | "random" (the control)
    grammar: bool = True  # constrain the model's reply to the listed actions (where supported)
    max_tokens: int = 48
    seed: int = 0  # the random chooser's seed
    example: bool = True  # show the solved example in every choice prompt
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
    reply: str | None = None  # the model's raw reply (model chooser)
    critique: str = ""  # what happened, in words
    unmet_goals: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.index, "kind": self.kind, "depth": self.depth, "options": self.options,
                "repeated": self.repeated, "choice": self.choice, "action": self.action, "reply": self.reply,
                "critique": self.critique, "unmet_goals": self.unmet_goals}


@dataclass
class GuidedOutcome:
    valid: bool
    plan: list[GroundAction] | None  # the validated plan; None unless valid
    chooser: str
    status: str = "budget"  # "valid" | "budget" (moves used up) | "exhausted" (every state tried)
    moves: int = 0
    backtracks: int = 0
    steps: list[Step] = field(default_factory=list)
    verdict: Verdict | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"mode": "guided" if self.chooser == "model" else "random-guided", "valid": self.valid,
                "status": self.status, "plan": [a.pddl() for a in self.plan] if self.plan else None,
                "moves": self.moves, "backtracks": self.backtracks, "chooser": self.chooser,
                "verdict": self.verdict.to_dict() if self.verdict else None,
                "steps": [s.to_dict() for s in self.steps]}


@dataclass
class _Node:
    state: State
    tried: set[GroundAction] = field(default_factory=set)


def choice_prompt(planning: PlanningTask, path: list[GroundAction], state: State, options: list[str],
                  example: bool = True) -> str:
    """The task, the plan so far and the current state in words, and the actions possible now."""
    vocab, view = planning.vocab, planning.task.strips
    parts = [vocab.domain_description()]
    ex = planning.example
    if example and ex is not None:
        ex_vocab = type(vocab)(ex.task.strips)
        parts.append(f"Here is a solved example.\n{statement(ex.task, ex_vocab)}\n"
                     f"{plan_lines(ex.plan, ex_vocab)}\n{PLAN_END}")
    so_far = plan_lines(path, vocab) if path else "(no steps yet)"
    unmet = [vocab.literal(g) for g in unmet_goals(view, state)]
    parts.append(f"Now the problem to solve.\n{statement(planning.task, vocab)}\n{so_far}")
    parts.append(f"After these steps, I have that {state_words(vocab, state)}.\n"
                 f"Goals not met yet: {join_words(unmet)}.\n\n"
                 "The actions I can perform now are:\n" + "\n".join(f"- {o}" for o in options) +
                 "\n\nWhich action should I perform next to reach the goal? Answer with exactly one action "
                 "from the list, written as it appears there.")
    return "\n\n".join(parts)


def read_choice(reply: str, planning: PlanningTask, options: list[GroundAction]) -> GroundAction | None:
    """The listed action a reply names (its first line that reads as an action), or None."""
    for raw in reply.splitlines():
        line = strip_bullet(raw)
        if not line:
            continue
        act = planning.vocab.read_action(line)
        if act is not None:
            return act if act in options else None
    return None


class _ModelChooser:
    def __init__(self, ctx: RunContext, planning: PlanningTask, o: GuidedOptions) -> None:
        self.ctx, self.planning, self.o = ctx, planning, o

    def __call__(self, path: list[GroundAction], state: State, options: list[GroundAction], n: int,
                 rec: Step) -> GroundAction:
        words = [self.planning.vocab.action(a) for a in options]
        grammar = choice_grammar(words) if self.o.grammar else None
        messages = [{"role": "user", "content": choice_prompt(self.planning, path, state, words, self.o.example)}]
        for attempt in range(2):
            comp = self.ctx.generate(messages, label=f"{self.o.label}-step-{n}", max_tokens=self.o.max_tokens,
                                     grammar=grammar, sample_offset=attempt, temperature=0.0 if attempt == 0 else 0.7,
                                     meta={"step": n, "options": len(options)})[0]
            rec.reply = comp.text
            act = None if comp.finish_reason == "repetition" else read_choice(comp.text, self.planning, options)
            if act is not None:
                return act
            rec.critique = f"the reply {comp.text.strip()[:80]!r} is not one of the listed actions"
            messages = [*messages, {"role": "assistant", "content": comp.text},
                        {"role": "user", "content": "That is not one of the actions I can perform now. Answer with "
                         "exactly one line from the list:\n" + "\n".join(f"- {w}" for w in words)}]
        rec.critique += "; took the first listed action instead"
        return options[0]


def guided_search(ctx: RunContext | None, planning: PlanningTask, opts: GuidedOptions | None = None) -> GuidedOutcome:
    """Search with the model (or random choice) as the heuristic; see the module docstring.
    `ctx` may be None for the random chooser (no model, no events)."""
    o = opts or GuidedOptions()
    if o.chooser not in CHOOSERS:
        raise ValueError(f"chooser must be one of {', '.join(CHOOSERS)}")
    if ctx is None and o.chooser == "model":
        raise ValueError("the model chooser needs a RunContext")
    view, vocab = planning.task.strips, planning.vocab
    rng = random.Random(f"{o.seed}:{planning.task.name}:{planning.task.problem_text}")
    choose_model = _ModelChooser(ctx, planning, o) if ctx is not None and o.chooser == "model" else None
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
        elif choose_model is not None:
            act = choose_model(path, node.state, options, out.moves, rec)
        else:
            act = rng.choice(options)
        rec.choice, rec.action = vocab.action(act), act.pddl()
        node.tried.add(act)
        nxt = step(view, node.state, act)
        assert nxt is not None
        visited.add(nxt)
        stack.append(_Node(nxt))
        path.append(act)
        record(rec)
