"""Development items in the form of BIG-bench's symbolic tasks, generated here (never BIG-bench's own).

Three tasks, one JSONL file each (usable as ``jsonl:PATH``), answers in the dataset's form:

- ``boolean.jsonl``   — ``not ( True ) and ( True ) is`` → ``False`` (5–9 tokens, random walk
  over the grammar of True/False/not/and/or/parentheses);
- ``arithmetic.jsonl`` — ``((-1 + 2) * (3 - -4)) =`` → ``7`` (numbers −9…9, + − *, zero to two
  levels of bracket pairs, 2–4 numbers innermost);
- ``sorting.jsonl``   — ``Sort the following words alphabetically:\\nList: … `` → the words sorted,
  space-separated (3–15 words drawn from the English text of Python's own documentation
  topics, `pydoc_data.topics`, so no download and no BIG-bench word list).

Golds come from reasonlab's expression evaluator (no eval) and `sorted`. Seeded, so the same
command gives the same files::

    python benchmarks/make_symbolic.py --n 30 --seed 2026 --out runs/bench13/symbolic
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from reasonlab.eval.datasets.bigbench_programs import evaluate

SORT_PREFIX = "Sort the following words alphabetically:\nList: "


def boolean_expression(rng: random.Random, length: int) -> str:
    """A well-formed expression of exactly `length` tokens, drawn token by token."""
    start, cont, end = ["True", "False", "not", "("], ["or", "and", ")"], {"True", "False", ")"}
    while True:
        tokens: list[str] = []
        depth = 0
        for i in range(length):
            left = length - i
            options = start if not tokens or tokens[-1] in ("not", "and", "or", "(") else cont
            options = [t for t in options if not (t == ")" and depth == 0) and not (t == "(" and depth + 1 >= left)]
            t = rng.choice(options)
            depth += (t == "(") - (t == ")")
            tokens.append(t)
        if depth == 0 and tokens[-1] in end:
            return " ".join(tokens)


def arithmetic_expression(rng: random.Random, levels: tuple[int, ...], length: int) -> str:
    """Bracket pairs nested `levels` deep around flat brackets of `length` numbers."""
    num = lambda: str(rng.randint(-9, 9))  # noqa: E731
    op = lambda: rng.choice(["+", "-", "*"])  # noqa: E731
    if not levels:
        parts = [num()]
        for _ in range(length - 1):
            parts += [op(), num()]
        return "(" + " ".join(parts) + ")"
    inner = [arithmetic_expression(rng, levels[1:], length) for _ in range(levels[0])]
    out = inner[0]
    for x in inner[1:]:
        out += f" {op()} {x}"
    return f"({out})"


def english_words() -> list[str]:
    """Lower-case words (4–12 letters) of Python's documentation topics, deduplicated, sorted."""
    from pydoc_data.topics import topics

    text = " ".join(topics.values())
    words = {w for w in re.findall(r"(?<![\w.])[a-z]{4,12}(?![\w(])", text)}
    return sorted(words)


def make(task: str, n: int, seed: int) -> list[dict]:
    rng = random.Random(f"{task}:{seed}")
    out = []
    if task == "boolean":
        for i in range(n):
            expr = boolean_expression(rng, rng.randint(5, 9))
            out.append({"id": f"bool-{i}", "question": f"{expr} is", "answer": str(evaluate(expr)), "kind": "text"})
    elif task == "arithmetic":
        for i in range(n):
            levels = rng.choice([(), (2,), (2,), (2, 2)])
            expr = arithmetic_expression(rng, levels, rng.randint(2, 4))
            out.append({"id": f"arith-{i}", "question": f"{expr} =", "answer": str(evaluate(expr)), "kind": "number"})
    elif task == "sorting":
        vocab = english_words()
        for i in range(n):
            words = rng.sample(vocab, rng.randint(3, 15))
            out.append({"id": f"sort-{i}", "question": SORT_PREFIX + " ".join(words), "answer": " ".join(sorted(words))})
    else:
        raise SystemExit(f"unknown task {task!r}")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=30, help="items per task")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--tasks", default="boolean,arithmetic,sorting")
    p.add_argument("--out", default="runs/bench13/symbolic")
    a = p.parse_args()
    folder = Path(a.out)
    folder.mkdir(parents=True, exist_ok=True)
    for task in a.tasks.split(","):
        rows = make(task, a.n, a.seed)
        (folder / f"{task}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        print(f"{folder / task}.jsonl: {len(rows)} items")


if __name__ == "__main__":
    main()
