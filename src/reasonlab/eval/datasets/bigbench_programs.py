"""Items of BIG-bench's programmatic tasks (task.py only), generated as the task itself does.

`boolean_expressions` and `multistep_arithmetic` have no task.json: their `task.py` draws the
examples at evaluation time from a fixed seed. This module repeats those draws — the same
grammar, the same seeds, the same order of random calls (Python's `random` for boolean
expressions, NumPy's legacy `RandomState` for arithmetic, both stable across versions) — so
`bigbench:boolean_expressions` gives exactly the examples the task scores a model on. Golds are
computed by a small evaluator of the expression's syntax tree (no `eval`). The generators are
tied to the task.py files of BIG-bench 1.0.0 by their SHA-256: another version is refused
rather than silently mis-read.

Subtasks are the task's own scoring groups: ``boolean_expressions/length_7`` (expressions of 7
tokens) and ``multistep_arithmetic/depth_2x2_length_3`` (two brackets of two, three numbers
innermost; ``depth_0`` is one flat bracket). Without a subtask, every item in the task's order.
Boolean items are asked zero-shot (``not ( True ) and ( True ) is``, as BIG-Bench Hard does);
the task's three in-context examples are kept in ``meta["shots"]``.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import operator
import random
from collections.abc import Callable, Iterator
from pathlib import Path

from ...errors import InputError
from .base import Item

# SHA-256 of the task.py each generator repeats (BIG-bench 1.0.0).
TASK_SHA256 = {
    "boolean_expressions": "731c747f681b20d40349726c3e2d28792b4309bee0044d9f3c3d99e86b11bded",
    "multistep_arithmetic": "03298e1eafad756c8476c7a09d7c4a9f7f4e433b9f8d6892b2e513fd6f37e634",
}

_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def evaluate(expression: str) -> bool | int:
    """The value of a boolean (True/False/not/and/or) or integer (+ - *) expression, without eval."""

    def value(node: ast.AST) -> bool | int:
        if isinstance(node, ast.Constant) and type(node.value) in (bool, int):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not value(node.operand)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = value(node.operand)
            return -v if isinstance(node.op, ast.USub) else +v
        if isinstance(node, ast.BoolOp):
            # Python's and/or return an operand; with bool operands that is a bool.
            out = value(node.values[0])
            for nxt in node.values[1:]:
                if isinstance(node.op, ast.And):
                    out = out and value(nxt)
                else:
                    out = out or value(nxt)
            return out
        if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
            return _BIN[type(node.op)](value(node.left), value(node.right))
        raise ValueError(f"unsupported expression part: {ast.dump(node)[:60]}")

    return value(ast.parse(expression.strip(), mode="eval").body)


# -- boolean_expressions ----------------------------------------------------------------------
def _boolean_tokens(length: int) -> list[tuple[str, ...]]:
    """Every well-formed expression of `length` tokens (the task's grammar, with parentheses)."""
    start = {"True", "False", "not", "("}
    cont = {"or", "and", ")"}
    end = {"True", "False", ")"}
    nxt = {"start": start, "or": start, "and": start, "not": start, "(": start,
           "True": cont, "False": cont, ")": cont}
    out: list[tuple[str, ...]] = []

    def walk(left: int, prefix: tuple[str, ...], depth: int) -> None:
        if left == 0:
            expr = prefix[1:]
            if depth == 0 and expr[-1] in end:
                out.append(expr)
            return
        for t in nxt[prefix[-1]]:
            d = depth + (t == "(") - (t == ")")
            if d < 0:
                continue
            walk(left - 1, prefix + (t,), d)

    walk(length, ("start",), 0)
    return out


def boolean_items(seed: int = 42, lengths: tuple[int, ...] = tuple(range(1, 9)), trials: int = 100,
                  shots: int = 3) -> Iterator[tuple[str, Item]]:
    """(subtask, item) in the task's order: per length, sorted expressions shuffled by one seeded RNG."""
    rng = random.Random(seed)
    for length in lengths:
        exprs = sorted(_boolean_tokens(length))
        rng.shuffle(exprs)
        inputs = exprs[: trials * (shots + 1)]
        n_trials = min(trials, len(inputs))
        n_shots = len(inputs) // n_trials - 1
        sub = f"length_{length}"
        for j, i in enumerate(range(0, n_trials * (n_shots + 1), n_shots + 1)):
            text = " ".join(inputs[i])
            context = " ".join(f"{' '.join(inputs[b])} is {evaluate(' '.join(inputs[b]))} ."
                               for b in range(i + 1, i + 1 + n_shots))
            yield sub, Item(id=f"{sub}:{j}", question=f"{text} is", answer=str(evaluate(text)), kind="text",
                            meta={"subtask": sub, "shots": context, "truth_words": ["True", "False"]})


# -- multistep_arithmetic ---------------------------------------------------------------------
DEPTHS: tuple[tuple[int, ...], ...] = ((), (2,), (2, 2), (2, 2, 2))


def arithmetic_items(seed: int = 42, trials: int = 100, lengths: tuple[int, ...] = (2, 3, 4),
                     depths: tuple[tuple[int, ...], ...] = DEPTHS) -> Iterator[tuple[str, Item]]:
    """(subtask, item) in the task's order: per (depth, length), `trials` strings from one RandomState."""
    import numpy as np

    rng = np.random.RandomState(seed)
    numbers = [str(x) for x in range(-9, 10)]
    ops = ["+", "-", "*"]

    def content(length: int) -> str:
        s = "("
        for _ in range(length - 1):
            s += rng.choice(numbers) + " " + rng.choice(ops) + " "
        return s + rng.choice(numbers) + ")"

    def sub(levels: tuple[int, ...], length: int) -> str:
        if not levels:
            return content(length)
        s = "("
        for _ in range(levels[0] - 1):
            s += sub(levels[1:], length) + " " + rng.choice(ops) + " "
        return s + sub(levels[1:], length) + ")"

    for levels, length in itertools.product(depths, lengths):
        name = f"depth_{'x'.join(map(str, levels)) or '0'}_length_{length}"
        for j in range(trials):
            text = sub(levels, length)
            yield name, Item(id=f"{name}:{j}", question=f"{text} =", answer=str(evaluate(text)), kind="number",
                             meta={"subtask": name})


GENERATORS: dict[str, Callable[[], Iterator[tuple[str, Item]]]] = {
    "boolean_expressions": boolean_items,
    "multistep_arithmetic": arithmetic_items,
}


def program_items(task: str, task_py: Path, subtask: str | None) -> list[Item]:
    """The items of a programmatic task (optionally one subtask), after checking its task.py."""
    if task not in GENERATORS:
        raise InputError(f"BIG-bench task {task!r} is programmatic (task.py only) and not supported; "
                         f"supported programmatic tasks: {', '.join(GENERATORS)}")
    digest = hashlib.sha256(task_py.read_bytes()).hexdigest()
    if digest != TASK_SHA256[task]:
        raise InputError(f"{task_py}: not the BIG-bench 1.0.0 task.py this generator repeats (sha256 {digest[:12]}…)")
    pairs = list(GENERATORS[task]())
    if subtask is None:
        return [it for _, it in pairs]
    items = [it for name, it in pairs if name == subtask]
    if not items:
        names = list(dict.fromkeys(name for name, _ in pairs))
        raise InputError(f"BIG-bench task {task!r} has no subtask {subtask!r}; subtasks: {', '.join(names)}")
    return items
