"""Large-number variants of GSM8K train problems (GSM-hard style), answers recomputed by a program.

For each source item (positions ≥ --start; default 5000, far from the report slice 0–199 and
from bootstrap pools drawn from 200 on) the script:
  1. reads the calculator annotations ``<<expr=result>>`` of the gold solution, and keeps the
     item only if every expression evaluates (a small arithmetic evaluator, no eval) to its
     stated result and the last one equals the final answer;
  2. picks one integer of the question that occurs once in it, is no percentage, and is used
     literally in some annotation;
  3. multiplies it by a random integer in [--low, --high] in the question, and recomputes the
     annotation chain: that literal becomes the new value, every literal equal to an earlier
     result becomes the recomputed result; any literal that is neither a question number, an
     earlier result nor a common constant makes the item unreliable, and it is dropped (so is
     an ambiguous literal, equal to both); a constant (2, 12, 60, 100 …) passes only where the
     question has a word for it (half, dozen, hour, percent …);
  4. keeps the variant only when the new answer is a positive integer and differs from the old.

    .venv/bin/python benchmarks/make_gsm_large.py --n 50 --out runs/bench13/gsm-large.jsonl

Each line: {"id", "question", "answer", "meta": {"source_index", "scaled": [old, new], "chain"}}.
"""

from __future__ import annotations

import argparse
import ast
import json
import operator
import random
import re
from fractions import Fraction
from pathlib import Path

NUM = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])|(?<![\d.,])\d+(?:\.\d+)?(?![\d.])")
ANNOT = re.compile(r"<<([^<>=]+)=([^<>]+)>>")
# Constants a solution may use without the question writing them — only where a word calls for them.
CONSTANTS = [(Fraction(1), r"."), (Fraction(2), r"half|twice|double|two|pair|both"),
             (Fraction(1, 2), r"half"), (Fraction(3), r"third|three|triple"), (Fraction(4), r"quarter|four"),
             (Fraction(1, 4), r"quarter"), (Fraction(100), r"%|percent|cents?\b"),
             (Fraction(60), r"hour|minute"), (Fraction(12), r"dozen|month|year|feet|foot|inch"),
             (Fraction(7), r"week"), (Fraction(24), r"\bday"), (Fraction(52), r"week"),
             (Fraction(10), r"ten|dime"), (Fraction(5), r"five|nickel"), (Fraction(1000), r"thousand|kilo")]


def allowed_constants(question: str) -> set[Fraction]:
    return {v for v, words in CONSTANTS if re.search(words, question, re.IGNORECASE)}
OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def evaluate(expr: str, subst: dict[int, Fraction] | None = None) -> tuple[Fraction, list[tuple[int, Fraction]]]:
    """Value of an arithmetic expression with exact fractions, and its literals (position, value).

    `subst` maps a literal's position (its column offset) to a replacement value.
    """
    tree = ast.parse(expr.strip(), mode="eval")
    literals: list[tuple[int, Fraction]] = []

    def ev(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            v = Fraction(str(node.value))
            literals.append((node.col_offset, v))
            return (subst or {}).get(node.col_offset, v)
        if isinstance(node, ast.BinOp) and type(node.op) in OPS:
            return OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        raise ValueError("unsupported expression")

    return ev(tree.body), literals


def question_numbers(q: str) -> list[tuple[str, Fraction, int, int]]:
    out = []
    for m in NUM.finditer(q):
        out.append((m.group(0), Fraction(m.group(0).replace(",", "")), m.start(), m.end()))
    return out


def variant(item: dict, rng: random.Random, low: int, high: int) -> tuple[str, str, dict] | None:
    q, sol = item["question"], item["answer"]
    final = Fraction(sol.split("####")[-1].strip().replace(",", ""))
    chain = []
    for expr, stated in ANNOT.findall(sol):
        try:
            value, lits = evaluate(expr.replace(",", ""))
            stated_v = Fraction(stated.strip().replace(",", ""))
        except (ValueError, SyntaxError, ZeroDivisionError):
            return None
        if value != stated_v:
            return None
        chain.append((expr.replace(",", ""), value, lits))
    if not chain or chain[-1][1] != final:
        return None
    nums = question_numbers(q)
    values = [v for _, v, _, _ in nums]
    candidates = [(t, v, s, e) for t, v, s, e in nums
                  if v.denominator == 1 and v >= 2 and values.count(v) == 1 and not re.match(r"\s*(%|percent)", q[e:e + 9])
                  and any(v == lv for _, _, lits in chain for _, lv in lits)]
    if not candidates:
        return None
    constants = allowed_constants(q)
    candidates = [c for c in candidates if c[1] not in constants]  # "2" next to "two buildings": ambiguous
    if not candidates:
        return None
    text, old, s, e = rng.choice(candidates)
    factor = rng.randint(low, high)
    new = old * factor
    results: dict[Fraction, Fraction] = {}  # old result -> recomputed result
    question_values = set(values)
    recomputed = []
    for expr, value, lits in chain:
        subst: dict[int, Fraction] = {}
        for pos, lv in lits:
            is_q, is_res = lv == old, lv in results
            if is_q and is_res:
                return None  # ambiguous literal
            if is_q:
                subst[pos] = new
            elif is_res:
                subst[pos] = results[lv]
            elif lv not in question_values and lv not in constants:
                return None  # a number the chain does not explain
        try:
            nv, _ = evaluate(expr, subst)
        except ZeroDivisionError:
            return None
        if value in results and results[value] != nv:
            return None
        results.setdefault(value, nv)
        recomputed.append(f"{expr} -> {nv}")
    answer = results[chain[-1][1]]
    if answer.denominator != 1 or answer <= 0 or answer == final:
        return None
    new_q = q[:s] + str(new) + q[e:]
    return new_q, str(answer.numerator), {"scaled": [str(old), str(new)], "chain": recomputed}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="/work/shared/data/gsm8k/train.jsonl")
    p.add_argument("--start", type=int, default=5000, help="first source position (0-based)")
    p.add_argument("--n", type=int, default=50)
    p.add_argument("--low", type=int, default=1000)
    p.add_argument("--high", type=int, default=9999)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    rng = random.Random(a.seed)
    lines = [ln for ln in Path(a.data).read_text(encoding="utf-8").split("\n") if ln.strip()]
    out = []
    tried = 0
    for index in range(a.start, len(lines)):
        if index < 200:
            continue  # the report slice is never a source
        tried += 1
        got = variant(json.loads(lines[index]), rng, a.low, a.high)
        if got is None:
            continue
        question, answer, meta = got
        out.append({"id": f"large-{index}", "question": question, "answer": answer,
                    "meta": {"source_index": index, **meta}})
        if len(out) >= a.n:
            break
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out), encoding="utf-8")
    print(f"{len(out)} variants from {tried} source items → {a.out}")


if __name__ == "__main__":
    main()
