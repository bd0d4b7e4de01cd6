"""GBNF grammars (llama.cpp's format) built from a task's PDDL and wording: every plan line is one
action of the domain applied to objects of the problem, in the words the prompt uses.

`plan_grammar` constrains a whole plan (1…max_steps lines, then "[PLAN END]"; optionally a first
line from a given list: the actions applicable where the plan starts); `choice_grammar`
constrains a reply to exactly one of the given lines (the guided mode's options). Backends
without grammar support ignore them; the strict parser (parse.py) then reads the output and
names every line it cannot read.
"""

from __future__ import annotations

from .pddl import GroundAction
from .render import PLAN_END, Vocabulary

_HOLE = "\x00{}\x00"


def literal(text: str) -> str:
    """A GBNF string literal."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{body}"'


def _alternatives(texts: list[str]) -> str:
    return " | ".join(literal(t) for t in dict.fromkeys(texts))


def action_rules(vocab: Vocabulary, arguments: dict[str, list[tuple[str, ...]]]) -> list[str]:
    """`action ::= …` and one rule per action and argument position (objects that fit there)."""
    rules, alts = [], []
    for k, (name, schema) in enumerate(vocab.view.actions.items()):
        params = list(schema.params)
        show = {p: _HOLE.format(i) for i, p in enumerate(params)}
        words = vocab.action(GroundAction(name, tuple(params)), show)
        parts = words.split("\x00")  # text, hole index, text, hole index, …, text
        seq = []
        for j, part in enumerate(parts):
            if j % 2:
                i = int(part)
                objs = sorted({args[i] for args in arguments.get(name, [])})
                if not objs:
                    break  # no object fits this position: the action cannot be written
                rule = f"a{k}p{i}"
                rules.append(f"{rule} ::= " + _alternatives([vocab.obj(o) for o in objs]))
                seq.append(rule)
            elif part:
                seq.append(literal(part))
        else:
            rules.append(f"a{k} ::= " + " ".join(seq))
            alts.append(f"a{k}")
    if not alts:
        raise ValueError("no action of the domain can be written with the problem's objects")
    return [f"action ::= {' | '.join(alts)}", *rules]


def plan_grammar(vocab: Vocabulary, arguments: dict[str, list[tuple[str, ...]]], max_steps: int = 16,
                 first: list[str] | None = None) -> str:
    """A plan: 1…max_steps action lines, each ending in a newline, then [PLAN END]; with `first`,
    the first line is one of those texts (the actions applicable where the plan starts)."""
    n = max(1, int(max_steps))
    if first:
        head = f'root ::= first "\\n" (action "\\n"){{0,{n - 1}}} {literal(PLAN_END)}'
        return "\n".join([head, f"first ::= {_alternatives(first)}", *action_rules(vocab, arguments)]) + "\n"
    return "\n".join([f'root ::= (action "\\n"){{1,{n}}} {literal(PLAN_END)}',
                      *action_rules(vocab, arguments)]) + "\n"


def choice_grammar(options: list[str]) -> str:
    """Exactly one of `options`."""
    return f"root ::= {_alternatives(options)}\n"
