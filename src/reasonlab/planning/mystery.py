"""Mystery domains (Valmeekam et al.'s PlanBench idea): the same problems with action and
predicate names replaced by unrelated words, so a model cannot lean on what it remembers
about the original domain. Two variants:

- ``mystery``: real but unrelated English words (a fixed table for Blocksworld, words drawn
  from a list for any other domain);
- ``random``: random letter strings drawn from a seed.

Renaming works on the PDDL text of any STRIPS domain: every occurrence of an action,
predicate or type name (and the domain's own name) is replaced, nothing else is touched.
"""

from __future__ import annotations

import random
import re

from ..errors import InputError
from .pddl import Task

# Our own choice of unrelated words (not PlanBench's table).
BLOCKSWORLD_WORDS = {
    "blocksworld": "mystery",
    "pick-up": "kindle",
    "put-down": "wander",
    "stack": "braid",
    "unstack": "unravel",
    "clear": "lantern",
    "ontable": "meadow",
    "handempty": "stillness",
    "holding": "echo",
    "on": "yearns",
}

WORDS = (
    "amber", "basalt", "cinder", "drizzle", "ember", "fathom", "garnet", "harbor", "ivory", "juniper",
    "kestrel", "lumen", "marble", "nectar", "orchid", "pebble", "quartz", "russet", "saffron", "thistle",
    "umber", "velvet", "willow", "yonder", "zephyr", "almond", "bramble", "cobalt", "dapple", "fennel",
    "gossamer", "hazel", "indigo", "jasper", "kelp", "lilac", "mossy", "nutmeg", "opal", "plume",
)

_NAME = re.compile(r"(?<![\w?:-])([A-Za-z][\w-]*)")
STYLES = ("mystery", "random")


def names_of(task: Task) -> list[str]:
    """The names a mystery renaming replaces: domain name, types, actions, predicates."""
    view = task.strips
    types = [t.name for t in task.up_problem.user_types if t.name != "object"]
    out = [n for n in (view.domain_name, *types, *view.actions, *view.predicates) if n]
    return list(dict.fromkeys(out))


def make_mapping(task: Task, style: str = "mystery", seed: int = 0) -> dict[str, str]:
    """original name -> new name, for `style` in STYLES."""
    if style not in STYLES:
        raise InputError(f"unknown obfuscation style {style!r} (use {', '.join(STYLES)})")
    names = names_of(task)
    taken = {n.lower() for n in task.strips.objects}
    if style == "mystery" and all(n in BLOCKSWORLD_WORDS for n in names):
        return {n: BLOCKSWORLD_WORDS[n] for n in names}
    rng = random.Random(f"{style}:{seed}:{' '.join(names)}")
    out: dict[str, str] = {}
    if style == "mystery":
        pool = [w for w in WORDS if w not in taken]
        if len(pool) < len(names):
            raise InputError(f"the word list has too few words to rename {len(names)} names")
        for n, w in zip(names, rng.sample(pool, len(names)), strict=False):
            out[n] = w
        return out
    used = set(taken)
    for n in names:
        while True:
            w = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(rng.randint(5, 8)))
            if w not in used:
                used.add(w)
                out[n] = w
                break
    return out


_VAR = re.compile(r"\?[A-Za-z][\w-]*")


def rename_text(text: str, mapping: dict[str, str], neutral_variables: bool = True) -> str:
    """Replace whole PDDL names (case-insensitive) by their mapped names; with
    `neutral_variables`, parameters become ?v1, ?v2… (so '?gripper' gives nothing away)."""
    low = {k.lower(): v for k, v in mapping.items()}
    out = _NAME.sub(lambda m: low.get(m.group(1).lower(), m.group(1)), text)
    if neutral_variables:
        seen: dict[str, str] = {}
        out = _VAR.sub(lambda m: seen.setdefault(m.group(0).lower(), f"?v{len(seen) + 1}"), out)
    return out


def obfuscate(task: Task, style: str = "mystery", seed: int = 0) -> tuple[Task, dict[str, str]]:
    """The same task with renamed actions and predicates, and the mapping used."""
    mapping = make_mapping(task, style, seed)
    new = Task(rename_text(task.domain_text, mapping), rename_text(task.problem_text, mapping),
               f"{style}-{task.domain_label}", task.problem_label, name=f"{style}-{task.name}")
    return new, mapping
