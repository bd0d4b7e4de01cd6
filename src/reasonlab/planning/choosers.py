"""Who ranks the actions at a node of the guided search (planning/guided.py).

A chooser returns the listed actions in the order it would try them, best first; the search keeps
that ranking at the node, so a backtrack to the node takes the next-ranked action without asking
again. A ranking may be partial (one action): when none of its actions is left, the search asks
again for the remaining ones.

- `LogprobChooser` (the default model chooser): one prompt, and the log-probability of each
  option's words as the reply (`ctx.logprobs`), summed or averaged per token; no text is generated.
- `GenerateChooser`: the model writes its choice (grammar-constrained where supported), one action
  per call; the fallback for backends without log-probabilities.
- `RandomChooser`: the uniform control (one action per call, as before the rankings existed).
- `GreedyChooser`: a control without a model that uses the simulator's annotation only (goals an
  action achieves minus goals it undoes, ties broken at random), to show what a model adds over it.
  With the option `goals_first`, `LogprobChooser` ranks by the same count first and lets the model
  order the actions within a tie: the greedy control is then its exact no-model counterpart.

The choice prompt puts what never changes first (the domain, the example, the statement) and what
changes last (the plan so far, the state, the goals not met, the options), so a backend's prompt
cache keeps the shared prefix.
"""

from __future__ import annotations

import math
import random
from typing import Any, Protocol

from ..context import RunContext
from ..models.base import NotSupported
from .demos import Decision, decision_text, pick_demos
from .grammar import choice_grammar
from .parse import strip_bullet
from .pddl import GroundAction, StripsView
from .render import PLAN_END, Vocabulary, join_words, plan_lines, state_words, statement
from .simulate import State, step, unmet_goals
from .task import PlanningTask

Step = Any  # guided.Step (guided.py imports this module, so not the other way round)
GuidedOptions = Any  # guided.GuidedOptions

QUESTION = ("Which action should I perform next to reach the goal? Answer with exactly one action from the list, "
            "written as it appears there.")


def effects(view: StripsView, vocab: Vocabulary, state: State, act: GroundAction) -> tuple[list[str], list[str]]:
    """(goals the action achieves, goals it undoes), in words; computed by the simulator."""
    nxt = step(view, state, act)
    if nxt is None:
        return [], []
    before, after = set(unmet_goals(view, state)), set(unmet_goals(view, nxt))
    achieved = [vocab.literal(g) for g in view.goal if g in before and g not in after]
    undone = [vocab.literal(g) for g in view.goal if g not in before and g in after]
    return achieved, undone


def option_line(view: StripsView, vocab: Vocabulary, state: State, act: GroundAction, annotate: bool) -> str:
    """An option as listed: its words, and with `annotate` the goals it achieves or undoes."""
    words = vocab.action(act)
    if not annotate:
        return words
    achieved, undone = effects(view, vocab, state, act)
    notes = ([f"achieves the goal that {join_words(achieved)}"] if achieved else []) + (
        [f"undoes the goal that {join_words(undone)}"] if undone else [])
    return f"{words} ({'; '.join(notes)})" if notes else words


def preamble(planning: PlanningTask, example: bool = True) -> list[str]:
    """What never changes for a domain: its description and the solved example."""
    vocab = planning.vocab
    parts = [vocab.domain_description()]
    ex = planning.example
    if example and ex is not None:
        ex_vocab = type(vocab)(ex.task.strips)
        parts.append(f"Here is a solved example.\n{statement(ex.task, ex_vocab)}\n"
                     f"{plan_lines(ex.plan, ex_vocab)}\n{PLAN_END}")
    return parts


def choice_prompt(planning: PlanningTask, path: list[GroundAction], state: State, options: list[str],
                  example: bool = True, head: bool = True) -> str:
    """The task, the plan so far and the current state in words, and the actions possible now
    (`options`: the listed lines). The unchanging part comes first (prompt-cache friendly);
    `head=False` leaves out the domain description and example (already shown in earlier turns)."""
    vocab, view = planning.vocab, planning.task.strips
    parts = preamble(planning, example) if head else []
    so_far = plan_lines(path, vocab) if path else "(no steps yet)"
    unmet = [vocab.literal(g) for g in unmet_goals(view, state)]
    parts.append(f"Now the problem to solve.\n{statement(planning.task, vocab)}\n{so_far}")
    parts.append(f"After these steps, I have that {state_words(vocab, state)}.\n"
                 f"Goals not met yet: {join_words(unmet)}.\n\n"
                 "The actions I can perform now are:\n" + "\n".join(f"- {o}" for o in options) +
                 f"\n\n{QUESTION}")
    return "\n\n".join(parts)


def choice_messages(planning: PlanningTask, path: list[GroundAction], state: State, options: list[str],
                    example: bool = True, demos: list[Decision] | None = None) -> list[dict]:
    """The chat of one choice: with `demos`, the worked choices come first as earlier question and
    answer turns (after the domain and the example), then the question about the current state."""
    if not demos:
        return [{"role": "user", "content": choice_prompt(planning, path, state, options, example)}]
    first = "\n\n".join([*preamble(planning, example),
                          "First, some choices from other problems, each answered with the action an "
                          "optimal plan takes there.", decision_text(demos[0], QUESTION)])
    messages = [{"role": "user", "content": first}, {"role": "assistant", "content": demos[0].answer}]
    for d in demos[1:]:
        messages += [{"role": "user", "content": decision_text(d, QUESTION)},
                     {"role": "assistant", "content": d.answer}]
    messages.append({"role": "user", "content": choice_prompt(planning, path, state, options, example, head=False)})
    return messages


def read_choice(reply: str, planning: PlanningTask, options: list[GroundAction]) -> GroundAction | None:
    """The listed action a reply names (its first line that reads as an action), or None."""
    for raw in reply.splitlines():
        line = strip_bullet(raw.split(" (")[0])
        if not line:
            continue
        act = planning.vocab.read_action(line)
        if act is not None:
            return act if act in options else None
    return None


def option_score(logprobs: list[float], norm: str) -> float:
    """A continuation's score: summed ("sum") or per-token mean ("mean") log-probability; an empty
    or non-finite one scores -inf."""
    if not logprobs or not all(math.isfinite(x) for x in logprobs):
        return -math.inf
    total = math.fsum(logprobs)
    return total / len(logprobs) if norm == "mean" else total


def goal_gains(planning: PlanningTask, state: State, options: list[GroundAction]) -> list[int]:
    """Per option: goals it achieves minus goals it undoes (the simulator's annotation)."""
    view, vocab = planning.task.strips, planning.vocab
    out = []
    for a in options:
        achieved, undone = effects(view, vocab, state, a)
        out.append(len(achieved) - len(undone))
    return out


class Chooser(Protocol):
    def rank(self, path: list[GroundAction], state: State, options: list[GroundAction], n: int,
             rec: Step) -> list[GroundAction]: ...


class _ModelBase:
    def __init__(self, ctx: RunContext, planning: PlanningTask, o: GuidedOptions) -> None:
        self.ctx, self.planning, self.o = ctx, planning, o
        sources = planning.demos or ([planning.example] if planning.example is not None else [])
        self.demos = pick_demos(sources, o.demos, type(planning.vocab))

    def lines(self, state: State, options: list[GroundAction]) -> list[str]:
        view, vocab = self.planning.task.strips, self.planning.vocab
        return [option_line(view, vocab, state, a, self.o.effects) for a in options]

    def messages(self, path: list[GroundAction], state: State, options: list[GroundAction]) -> list[dict]:
        return choice_messages(self.planning, path, state, self.lines(state, options), self.o.example, self.demos)


class GenerateChooser(_ModelBase):
    """The model writes one listed action (asked again once, then the first listed is taken)."""

    def rank(self, path, state, options, n, rec):
        lines = self.lines(state, options)
        grammar = choice_grammar(lines) if self.o.grammar else None
        messages = self.messages(path, state, options)
        for attempt in range(2):
            comp = self.ctx.generate(messages, label=f"{self.o.label}-step-{n}", max_tokens=self.o.max_tokens,
                                     grammar=grammar, sample_offset=attempt, temperature=0.0 if attempt == 0 else 0.7,
                                     meta={"step": n, "options": len(options)})[0]
            rec.reply = comp.text
            act = None if comp.finish_reason == "repetition" else read_choice(comp.text, self.planning, options)
            if act is not None:
                return [act]
            rec.critique = f"the reply {comp.text.strip()[:80]!r} is not one of the listed actions"
            messages = [*messages, {"role": "assistant", "content": comp.text},
                        {"role": "user", "content": "That is not one of the actions I can perform now. Answer with "
                         "exactly one line from the list:\n" + "\n".join(f"- {w}" for w in lines)}]
        rec.critique += "; took the first listed action instead"
        return [options[0]]


class LogprobChooser(_ModelBase):
    """Every option scored as the reply to one choice prompt; the ranking is kept at the node.
    A backend without log-probabilities falls back to `GenerateChooser` (noted in the step)."""

    def __init__(self, ctx: RunContext, planning: PlanningTask, o: GuidedOptions) -> None:
        super().__init__(ctx, planning, o)
        self.fallback: GenerateChooser | None = None

    def rank(self, path, state, options, n, rec):
        listed = options
        if self.o.goals_first:  # only the actions of the best goal count are ranked now (a partial
            gains = goal_gains(self.planning, state, options)  # ranking: a later visit asks for the rest)
            options = [a for a, g in zip(options, gains, strict=True) if g == max(gains)]
            if len(options) == 1:
                rec.critique = "the only action with the best goal count (no model call)"
                return options
        if self.fallback is not None:
            return self.fallback.rank(path, state, options, n, rec)
        messages = self.messages(path, state, options)
        vocab = self.planning.vocab
        scores: dict[GroundAction, float] = {}
        lengths: dict[GroundAction, int] = {}
        try:
            for k, act in enumerate(options):
                lp = self.ctx.logprobs(messages, vocab.action(act), label=f"{self.o.label}-score-{n}.{k + 1}")
                scores[act], lengths[act] = option_score(lp, self.o.norm), len(lp)
        except NotSupported:
            self.fallback = GenerateChooser(self.ctx, self.planning, self.o)
            out = self.fallback.rank(path, state, options, n, rec)
            rec.critique = ("the model gives no log-probabilities: it wrote its choice instead"
                            + (f"; {rec.critique}" if rec.critique else ""))
            return out
        rec.scores = [round(scores[a], 4) if math.isfinite(scores.get(a, -math.inf)) else None for a in listed]
        rec.lengths = [lengths.get(a, 0) for a in listed]
        order = sorted(range(len(options)), key=lambda i: (-scores[options[i]], i))  # ties: the listed order
        return [options[i] for i in order]


class RandomChooser:
    """Uniform choice, one action per call (re-asked on each visit: the control as first measured)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def rank(self, path, state, options, n, rec):
        return [self.rng.choice(options)]


class GreedyChooser:
    """No model: rank by goals achieved minus goals undone (the same annotation `effects` lists),
    ties in a seeded random order."""

    def __init__(self, planning: PlanningTask, rng: random.Random) -> None:
        self.planning, self.rng = planning, rng

    def rank(self, path, state, options, n, rec):
        gain = dict(zip(options, goal_gains(self.planning, state, options), strict=True))
        shuffled = list(options)
        self.rng.shuffle(shuffled)
        ranked = sorted(shuffled, key=lambda a: -gain[a])  # stable: ties keep the shuffled order
        rec.scores = [float(gain[a]) for a in options]
        return ranked
