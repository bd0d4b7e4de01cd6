"""Worked choices for the guided search's prompt: decision demonstrations drawn from solved
examples (other instances of the same domain, with a planner's optimal plan).

A demonstration is one state of a solved example's plan where more than one action could be
performed: the state and the goals in the task's words, the actions possible there (those not
leading back to a state the plan already visited, as the search lists them), and the action the
optimal plan takes. The guided prompt shows them as earlier question/answer turns of the chat,
in the same shape as the real question, so the reply being scored follows the same pattern.

The demonstrations come from `PlanningTask.demos` (extra solved instances) when there are any,
else from the one-shot example's own plan; they never come from the task being solved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .render import Example, Vocabulary, join_words, state_words
from .simulate import applicable, initial_state, step, unmet_goals
from .task import PlanningTask


@dataclass(frozen=True)
class Decision:
    """One worked choice: the situation and the action an optimal plan takes there."""

    state: str  # the state in words
    goal: str  # the goal in words
    unmet: str  # the goals not met yet, in words
    options: tuple[str, ...]  # the actions possible there, in words (the listed order)
    answer: str  # the optimal plan's action, in words


def example_decisions(example: Example, vocab_type: type[Vocabulary]) -> list[Decision]:
    """Every state of the example's plan with more than one action to choose from."""
    view = example.task.strips
    vocab = vocab_type(view)
    grounded = PlanningTask.of(example.task).ground_actions()  # types respected
    state = initial_state(view)
    visited = {state}
    goal = join_words([vocab.literal(g) for g in view.goal])
    out = []
    for act in example.plan:
        options = applicable(view, grounded, state, visited)
        if len(options) > 1 and act in options:
            out.append(Decision(state_words(vocab, state), goal,
                                join_words([vocab.literal(g) for g in unmet_goals(view, state)]),
                                tuple(vocab.action(a) for a in options), vocab.action(act)))
        nxt = step(view, state, act)
        if nxt is None:
            break
        state = nxt
        visited.add(state)
    return out


def pick_demos(sources: list[Example], n: int, vocab_type: type[Vocabulary]) -> list[Decision]:
    """`n` demonstrations, one per source in turn (then a second round, …), cycling through the
    domain's action names so that each kind of action appears as an answer, each answer listed at
    a varied position (`spread`)."""
    if n <= 0 or not sources:
        return []
    per_source = [example_decisions(ex, vocab_type) for ex in sources]
    kinds = sorted(sources[0].task.strips.actions)
    out: list[Decision] = []
    used: set[Decision] = set()
    j = 0
    while len(out) < n and any(d not in used for ds in per_source for d in ds):
        pool = [d for d in per_source[j % len(per_source)] if d not in used]
        if pool:
            want = kinds[len(out) % len(kinds)]
            name_of = {vocab_type(sources[j % len(sources)].task.strips).action(a): a.name
                       for a in sources[j % len(sources)].plan}
            pick = next((d for d in pool if name_of.get(d.answer) == want), pool[0])
            used.add(pick)
            out.append(spread(pick, 2 * len(out) + 1))
        j += 1
    return out


def spread(d: Decision, slot: int) -> Decision:
    """The same decision with its options rotated so that the answer is listed at `slot` (modulo
    their number): the demonstrations' answers then sit at varied positions, not mostly first
    (a plan's step is often the first applicable grounding), which would teach "take the first"."""
    n = len(d.options)
    shift = (d.options.index(d.answer) - slot) % n
    return replace(d, options=d.options[shift:] + d.options[:shift])


def decision_text(d: Decision, question: str) -> str:
    """A demonstration's question, in the same shape as the guided search's own question."""
    return (f"I have that {d.state}.\nMy goal is to have that {d.goal}.\nGoals not met yet: {d.unmet}.\n\n"
            "The actions I can perform now are:\n" + "\n".join(f"- {o}" for o in d.options) + f"\n\n{question}")
