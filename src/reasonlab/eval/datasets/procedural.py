"""`procedural:KIND[?n=N&seed=S]`: generated tasks with a fixed procedure and varying numbers.

In the spirit of Ruis et al. 2024 (procedural knowledge): every item of a kind is solved by the
same procedure, only the numbers change, and answers are exact. Each item carries the gold
value of its intermediate step(s), so step accuracy can be measured beside final accuracy.

Kinds:
  two-step-arithmetic  (a op b) op c              steps: first = a op b
  slope                slope through two points   steps: rise = y2-y1, run = x2-x1
  linear-equation      solve a·x + b = c for x    steps: rhs = c - b
Options: n (items, default 200), seed (default 0).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from fractions import Fraction
from urllib.parse import parse_qsl

from ...answers.normalize import format_number
from ...errors import InputError
from .base import Dataset, Item, register


def _two_step(rng: random.Random) -> tuple[str, str, dict[str, str], str]:
    a, b, c = rng.randint(2, 99), rng.randint(2, 99), rng.randint(2, 12)
    op1 = rng.choice("+-")
    op2 = rng.choice("*+-")
    first = a + b if op1 == "+" else a - b
    final = {"*": first * c, "+": first + c, "-": first - c}[op2]
    shown = {"*": "*", "+": "+", "-": "-"}[op2]
    q = f"Calculate the answer: ({a} {op1} {b}) {shown} {c}"
    sol = f"First, {a} {op1} {b} = {first}. Then {first} {shown} {c} = {final}."
    return q, str(final), {"first": str(first)}, sol


def _slope(rng: random.Random) -> tuple[str, str, dict[str, str], str]:
    x1, y1 = rng.randint(-20, 20), rng.randint(-20, 20)
    x2 = x1
    while x2 == x1:
        x2 = rng.randint(-20, 20)
    y2 = rng.randint(-20, 20)
    slope = Fraction(y2 - y1, x2 - x1)
    q = f"What is the slope of the line passing through the points ({x1}, {y1}) and ({x2}, {y2})?"
    sol = (f"The rise is {y2} - ({y1}) = {y2 - y1} and the run is {x2} - ({x1}) = {x2 - x1}, "
           f"so the slope is {y2 - y1}/{x2 - x1} = {format_number(slope)}.")
    return q, format_number(slope), {"rise": str(y2 - y1), "run": str(x2 - x1)}, sol


def _linear(rng: random.Random) -> tuple[str, str, dict[str, str], str]:
    a = rng.choice([k for k in range(-12, 13) if k not in (0, 1)])
    x, b = rng.randint(-20, 20), rng.randint(-50, 50)
    c = a * x + b
    sign = "+" if b >= 0 else "-"
    q = f"Solve for x: {a}x {sign} {abs(b)} = {c}. What is x?"
    sol = f"Subtract {b} from both sides: {a}x = {c} - ({b}) = {c - b}. Divide by {a}: x = {x}."
    return q, str(x), {"rhs": str(c - b)}, sol


# each returns (question, answer, intermediate-step answers, worked solution)
GENERATORS: dict[str, Callable[[random.Random], tuple[str, str, dict[str, str], str]]] = {
    "two-step-arithmetic": _two_step,
    "slope": _slope,
    "linear-equation": _linear,
}

MAX_ITEMS = 100_000  # a generated set is built in memory: bound it
_EXEMPLAR_SEED_OFFSET = 1_000_003  # exemplars come from a separate stream, never from the eval items


def generate(kind: str, n: int, seed: int = 0) -> list[Item]:
    """n items of `kind` from a seeded generator: the same (kind, n, seed) always gives the same items."""
    gen = GENERATORS[kind]
    rng = random.Random(f"{kind}:{seed}")
    items = []
    for i in range(n):
        q, a, steps, solution = gen(rng)
        items.append(Item(id=f"{seed}-{i}", question=q, answer=a, kind="number", steps=steps,
                          meta={"procedure": kind, "solution": solution}))
    return items


@register
class ProceduralDataset(Dataset):
    prefix = "procedural"
    description = "Generated arithmetic procedures with exact answers: " + ", ".join(GENERATORS)

    def __init__(self, arg: str) -> None:
        super().__init__(arg)
        kind, _, query = arg.partition("?")
        if kind not in GENERATORS:
            raise InputError(f"unknown procedural task {kind!r} (known: {', '.join(GENERATORS)})")
        opts = dict(parse_qsl(query))
        unknown = set(opts) - {"n", "seed"}
        if unknown:
            raise InputError(f"procedural:{arg}: unknown option {sorted(unknown)[0]!r} (use n, seed)")
        try:
            self.n = int(opts.get("n", 200))
            self.seed = int(opts.get("seed", 0))
        except ValueError:
            raise InputError(f"procedural:{arg}: n and seed must be integers") from None
        if not 1 <= self.n <= MAX_ITEMS:
            raise InputError(f"procedural:{arg}: n must be between 1 and {MAX_ITEMS:,}")
        self.kind = kind

    def items(self) -> Iterator[Item]:
        yield from generate(self.kind, self.n, self.seed)

    def exemplars(self, k: int, exclude: set[str], seed: int = 0) -> list[Item]:
        items = generate(self.kind, k, self.seed + _EXEMPLAR_SEED_OFFSET + seed)
        for it in items:
            it.id = f"x{it.id}"
        return items
