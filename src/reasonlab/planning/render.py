"""Natural-language rendering of planning tasks in the PlanBench style.

A `Vocabulary` says how objects, facts and actions read in words. `BlocksworldVocabulary`
speaks plain English about coloured blocks; `GenericVocabulary` works for any STRIPS domain
(including the Mystery variants) by using the names themselves ("yearns object a object b").
The prompt is: a domain description with the action restrictions, a one-shot example from a
different instance, then "[STATEMENT] As initial conditions I have that … My goal is to have
that … My plan is as follows: [PLAN]".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .blocksworld import DOMAIN as BLOCKSWORLD_DOMAIN
from .pddl import ActionSchema, Atom, GroundAction, Literal, StripsView, Task

PLAN_START = "[PLAN]"
PLAN_END = "[PLAN END]"

COLOURS = ("red", "blue", "orange", "yellow", "white", "magenta", "black", "cyan", "green", "violet",
           "silver", "gold", "brown", "pink", "purple", "grey", "olive", "navy", "teal", "maroon",
           "beige", "coral", "ivory", "lime", "indigo", "amber")


def normalise(text: str) -> str:
    """Lower case, hyphens/underscores/brackets/commas as spaces, single spaces."""
    t = text.lower()
    t = re.sub(r"[-_(),]", " ", t)
    return " ".join(t.split())


class Vocabulary:
    """How a task reads in words, and the patterns that read a plan line back."""

    kind = "generic"

    def __init__(self, view: StripsView) -> None:
        self.view = view
        self._patterns: list[tuple[re.Pattern[str], str]] | None = None

    # -- words ---------------------------------------------------------------------------
    def obj(self, name: str) -> str:
        raise NotImplementedError

    def fact(self, atom: Atom, display: dict[str, str] | None = None) -> str:
        raise NotImplementedError

    def action(self, act: GroundAction, display: dict[str, str] | None = None) -> str:
        raise NotImplementedError

    def literal(self, lit: Literal, display: dict[str, str] | None = None) -> str:
        atom = lit.atom
        if atom.pred == "=":
            a, b = ((display or {}).get(x) or self.obj(x) for x in atom.args)
            return f"{a} is {'' if lit.positive else 'not '}the same as {b}"
        fact = self.fact(atom, display)
        return fact if lit.positive else f"it is not the case that {fact}"

    def domain_description(self) -> str:
        raise NotImplementedError

    # -- reading back --------------------------------------------------------------------
    def clean_line(self, line: str) -> str:
        """A plan line normalised for matching (subclasses drop filler words)."""
        return normalise(line)

    def action_templates(self) -> dict[str, str]:
        """action name -> normalised template with {0}, {1}… for the objects."""
        raise NotImplementedError

    def object_words(self) -> dict[str, str]:
        """normalised word(s) the model may use for an object -> PDDL object name."""
        raise NotImplementedError

    def keywords(self) -> set[str]:
        """Words whose presence marks a line as an attempted action."""
        words = set()
        for name, tpl in self.action_templates().items():
            words.add(tpl.split()[0])
            words.update(normalise(name).split()[:1])
        return words

    def patterns(self) -> list[tuple[re.Pattern[str], str]]:
        if self._patterns is None:
            self._patterns = []
            objs = self.object_words()
            pddl_objs = {normalise(o): o for o in self.view.objects}
            both = {**objs, **pddl_objs}
            for name, tpl in self.action_templates().items():
                self._patterns.append((_compile(tpl, objs), name))
                arity = len(self.view.actions[name].params)
                pddl_tpl = " ".join([normalise(name), *(f"{{{i}}}" for i in range(arity))])
                self._patterns.append((_compile(pddl_tpl, both), name))
            self._lookup = both
        return self._patterns

    def read_action(self, line: str) -> GroundAction | None:
        """The grounded action a (cleaned) line names, or None."""
        text = self.clean_line(line)
        for pat, name in self.patterns():
            m = pat.match(text)
            if m:
                return GroundAction(name, tuple(self._lookup[g] for g in m.groups()))
        return None


def _compile(template: str, objects: dict[str, str]) -> re.Pattern[str]:
    alt = "|".join(re.escape(w) for w in sorted(objects, key=len, reverse=True))
    parts = re.split(r"\{(\d+)\}", template)
    out = []
    for i, part in enumerate(parts):
        out.append(f"({alt})" if i % 2 else re.escape(part))
    return re.compile("^" + "".join(out) + "$")


def _join(items: list[str]) -> str:
    if not items:
        return "nothing"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


join_words = _join


def state_words(vocab: Vocabulary, state: Iterable[Atom]) -> str:
    """The facts of a state in words, in a stable order (arity, then name and objects)."""
    return _join([vocab.fact(a) for a in sorted(state, key=lambda a: (len(a.args), a.pred, a.args))])


class BlocksworldVocabulary(Vocabulary):
    """Plain English about coloured blocks (the canonical 4-operator Blocksworld only)."""

    kind = "blocksworld"
    FACTS = {
        "clear": "{0} is clear",
        "ontable": "{0} is on the table",
        "handempty": "the hand is empty",
        "holding": "I am holding {0}",
        "on": "{0} is on top of {1}",
    }
    ACTIONS = {
        "pick-up": "pick up {0}",
        "put-down": "put down {0}",
        "stack": "stack {0} on top of {1}",
        "unstack": "unstack {0} from on top of {1}",
    }

    def __init__(self, view: StripsView) -> None:
        super().__init__(view)
        self.colour = {o: (COLOURS[i] if i < len(COLOURS) else f"number {i + 1}")
                       for i, o in enumerate(sorted(view.objects))}

    def obj(self, name: str) -> str:
        return f"the {self.colour.get(name, name)} block"

    def fact(self, atom: Atom, display: dict[str, str] | None = None) -> str:
        show = display or {}
        return self.FACTS[atom.pred].format(*(show.get(a) or self.obj(a) for a in atom.args))

    def action(self, act: GroundAction, display: dict[str, str] | None = None) -> str:
        show = display or {}
        return self.ACTIONS[act.name].format(*(show.get(a) or self.obj(a) for a in act.args))

    _FILLER = re.compile(r"\b(the|block|blocks)\b")

    def clean_line(self, line: str) -> str:
        t = normalise(line)
        t = self._FILLER.sub(" ", t)
        t = re.sub(r"\bpickup\b", "pick up", t)
        t = re.sub(r"\bputdown\b", "put down", t)
        t = re.sub(r"\b(from on top of|from on|from the top of|from top of|off of|off)\b", "from", t)
        t = re.sub(r"\b(on top of|onto|on to)\b", "on", t)
        return " ".join(t.split())

    def action_templates(self) -> dict[str, str]:
        return {"pick-up": "pick up {0}", "put-down": "put down {0}", "stack": "stack {0} on {1}",
                "unstack": "unstack {0} from {1}"}

    def object_words(self) -> dict[str, str]:
        return {c: o for o, c in self.colour.items()}

    def keywords(self) -> set[str]:
        return {"pick", "pickup", "put", "putdown", "stack", "unstack", "unstacking", "stacking"}

    def domain_description(self) -> str:
        return (
            "I am arranging a set of blocks into towers. The actions available to me are:\n"
            "- pick up a block\n"
            "- unstack a block from on top of another block\n"
            "- put down a block\n"
            "- stack a block on top of another block\n\n"
            "These rules restrict my actions:\n"
            "- I can hold at most one block at a time.\n"
            "- I can pick up or unstack a block only when my hand is empty.\n"
            "- A block is clear when no other block is on top of it and I am not holding it.\n"
            "- I can pick up a block only if it is on the table and it is clear.\n"
            "- I can unstack a block from on top of another block only if it really is on top of "
            "that other block and it is clear.\n"
            "- Once I pick up or unstack a block, I am holding it.\n"
            "- I can put down only a block that I am holding.\n"
            "- I can stack a block on top of another block only if I am holding the first block "
            "and the second block is clear.\n"
            "- Once I put down or stack a block, my hand is empty.\n"
            "- Once I stack a block on top of another block, the lower block is no longer clear."
        )


class GenericVocabulary(Vocabulary):
    """Any STRIPS domain in its own names: 'unravel object a object b', 'yearns object a object b'."""

    kind = "generic"
    PLACEHOLDERS = "XYZWVUTSRQ"

    def __init__(self, view: StripsView) -> None:
        super().__init__(view)
        # Single-letter object names read badly in a sentence ("kindle a"): prefix them.
        self.prefix = "object " if any(len(o) == 1 for o in view.objects) else ""

    def obj(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fact(self, atom: Atom, display: dict[str, str] | None = None) -> str:
        show = display or {}
        return " ".join([atom.pred, *(show.get(a) or self.obj(a) for a in atom.args)])

    def action(self, act: GroundAction, display: dict[str, str] | None = None) -> str:
        show = display or {}
        return " ".join([act.name, *(show.get(a) or self.obj(a) for a in act.args)])

    def clean_line(self, line: str) -> str:
        t = normalise(line)
        t = re.sub(r"\bthe\b", " ", t)
        if self.prefix:
            t = re.sub(r"\bobjects?\b", " ", t)
        return " ".join(t.split())

    def action_templates(self) -> dict[str, str]:
        return {name: " ".join([normalise(name), *(f"{{{i}}}" for i in range(len(s.params)))])
                for name, s in self.view.actions.items()}

    def object_words(self) -> dict[str, str]:
        return {normalise(o): o for o in self.view.objects}

    def domain_description(self) -> str:
        lines = ["I am solving a puzzle about objects and the facts that hold between them. "
                 "The actions available to me are:"]
        for name, s in self.view.actions.items():
            show = self._placeholders(s.params)
            lines.append("- " + self.action(GroundAction(name, tuple(s.params)), show))
        lines.append("\nThese rules restrict my actions:")
        for name, s in self.view.actions.items():
            show = self._placeholders(s.params)
            act = self.action(GroundAction(name, tuple(s.params)), show)
            pos = [self.literal(lit, show) for lit in s.pre if lit.positive or lit.atom.pred == "="]
            neg = [self.fact(lit.atom, show) for lit in s.pre if not lit.positive and lit.atom.pred != "="]
            need = f"To perform {act}, the following facts need to be true: {_join(pos)}"
            if neg:
                need += f"; and the following need to be false: {_join(neg)}"
            lines.append(f"- {need}.")
            lines.append(f"- Once {act} is performed, the following facts become true: "
                         f"{_join([self.fact(a, show) for a in s.add])}.")
            lines.append(f"- Once {act} is performed, the following facts become false: "
                         f"{_join([self.fact(a, show) for a in s.delete])}.")
        return "\n".join(lines)

    def _placeholders(self, params: list[str]) -> dict[str, str]:
        letters = self.PLACEHOLDERS
        return {p: f"{self.prefix}{letters[i] if i < len(letters) else f'X{i}'}" for i, p in enumerate(params)}


@lru_cache(maxsize=1)
def _blocksworld_schemas() -> dict[str, ActionSchema]:
    probe = "(define (problem probe) (:domain blocksworld) (:objects a) (:init (handempty)) (:goal (handempty)))"
    return Task(BLOCKSWORLD_DOMAIN, probe).strips.actions


def is_blocksworld(task: Task) -> bool:
    """True when the domain has exactly the 4-operator Blocksworld actions (so English wording applies)."""
    if " ".join(task.domain_text.split()) == " ".join(BLOCKSWORLD_DOMAIN.split()):
        return True
    mine, ref = task.strips.actions, _blocksworld_schemas()
    if set(mine) != set(ref):
        return False

    def shape(s: ActionSchema) -> tuple:
        ren = {p: f"?{i}" for i, p in enumerate(s.params)}

        def atom(a: Atom) -> tuple:
            return (a.pred, tuple(ren.get(x, x) for x in a.args))

        return (len(s.params), frozenset((atom(lit.atom), lit.positive) for lit in s.pre),
                frozenset(map(atom, s.add)), frozenset(map(atom, s.delete)))

    return all(shape(mine[n]) == shape(ref[n]) for n in ref) and task.strips.predicates == {
        "clear": 1, "ontable": 1, "handempty": 0, "holding": 1, "on": 2}


def vocabulary(task: Task, style: str = "auto") -> Vocabulary:
    """The vocabulary for `task`: 'blocksworld' (English), 'generic', or 'auto' (English when it fits)."""
    if style == "blocksworld" or (style == "auto" and is_blocksworld(task)):
        return BlocksworldVocabulary(task.strips)
    return GenericVocabulary(task.strips)


@dataclass
class Example:
    """A solved instance shown to the model before the question (one-shot)."""

    task: Task
    plan: list[GroundAction]


def statement(task: Task, vocab: Vocabulary) -> str:
    view = task.strips
    init = _join([vocab.fact(a) for a in view.init])
    goal = _join([vocab.literal(g) for g in view.goal])
    return (f"[STATEMENT]\nAs initial conditions I have that {init}.\n"
            f"My goal is to have that {goal}.\n\nMy plan is as follows:\n\n{PLAN_START}")


def plan_lines(plan: list[GroundAction], vocab: Vocabulary) -> str:
    return "\n".join(vocab.action(a) for a in plan)


INSTRUCTION = (f"Write the plan as one action per line, in the wording used above, and end it with "
               f"{PLAN_END}.")


def prompt(task: Task, vocab: Vocabulary, example: Example | None = None) -> str:
    """The full first prompt: domain description, optional one-shot example, the statement."""
    parts = [vocab.domain_description(), INSTRUCTION]
    if example is not None:
        ex_vocab = type(vocab)(example.task.strips)
        parts.append(f"{statement(example.task, ex_vocab)}\n{plan_lines(example.plan, ex_vocab)}\n{PLAN_END}")
    parts.append(statement(task, vocab))
    return "\n\n".join(parts)
