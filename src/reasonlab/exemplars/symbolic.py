"""Worked programs for symbolic questions, picked by the question's form and procedure similarity.

Some questions are computations a program does exactly — a boolean expression
(``not ( True ) and ( True ) is``), an integer expression (``((-1 + 2) * (3 - -4)) =``), a list of
words to sort. Word-problem exemplars teach a small model the wrong procedure for them, so PAL
with its default exemplars asks `symbolic_programs` first: the built-in pool
``symbolic-programs`` holds hand-written programs, each tagged with its task; the question's
form (`task_of`) picks the task, and within it the exemplars most similar by *shape* — numbers,
truth values and operators turned into words (`shape_text`), so bracket nesting and operator
mix count, not the literal values. A question of no known form gets None (the caller keeps
its own exemplars).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .loader import Exemplar, load
from .select import Selection

POOL = "symbolic-programs"

_BOOL_TOKENS = r"(?:not|and|or|True|False|\(|\))"
_BOOLEAN = re.compile(rf"^\s*(?:{_BOOL_TOKENS}\s*)*(?:True|False)\s*\)?(?:\s*\))*\s*(?:is|=|\?)?\s*\??\s*$")
_ARITH = re.compile(r"^[\s\d()+\-*/.]*\d[\s\d()+\-*/.]*(?:=|is)?\s*\??\s*$")
_SORT = re.compile(r"\bsort\b.{0,80}?\balphabetic", re.IGNORECASE | re.DOTALL)
_SYMBOLS = {"(": " lparen ", ")": " rparen ", "+": " plus ", "-": " minus ", "*": " times ", "/": " over ",
            "=": " equals "}


def _last_line(question: str) -> str:
    lines = [ln.strip() for ln in question.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def task_of(question: str) -> str | None:
    """The symbolic task a question's form shows: boolean | arithmetic | sorting, or None."""
    if _SORT.search(question):
        return "sorting"
    line = _last_line(question)
    if _BOOLEAN.match(line) and re.search(r"\b(?:True|False)\b", line) and len(line.split()) >= 2:
        return "boolean"
    if _ARITH.match(line) and re.search(r"\d\s*[-+*/]\s*[-+(]?\s*\d|\)\s*[-+*/]", line):
        return "arithmetic"
    return None


def shape_text(question: str) -> str:
    """The question's shape: truth values, numbers and operators as words ("lparen num times num …")."""
    t = re.sub(r"\bTrue\b|\bFalse\b", " truth ", question)
    t = re.sub(r"(?<![\w)])-(?=\d)", " neg ", t)  # a negative number, not a subtraction
    t = re.sub(r"\d+(?:\.\d+)?", " num ", t)
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    return t.lower()


@lru_cache(maxsize=1)
def _pool() -> tuple[Exemplar, ...]:
    return tuple(load(POOL))


def symbolic_programs(question: str, k: int) -> Selection | None:
    """The k built-in programs for the question's symbolic task, most similar in shape last; None if none fits."""
    task = task_of(question)
    if task is None or k <= 0:
        return None
    pool = [ex for ex in _pool() if ex.task == task]
    if not pool:
        return None
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import linear_kernel

    vec = TfidfVectorizer(preprocessor=shape_text, ngram_range=(1, 3), token_pattern=r"(?u)\b[a-z]{2,}\b")
    docs = vec.fit_transform([ex.question for ex in pool])
    scores = [float(s) for s in linear_kernel(vec.transform([question]), docs)[0]]
    order = sorted(range(len(pool)), key=lambda i: (-scores[i], i))[:k]
    order.reverse()  # the closest sits next to the question
    return Selection([pool[i] for i in order], [round(scores[i], 4) for i in order], f"{POOL}:{task}")
