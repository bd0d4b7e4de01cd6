"""Read a node's answer out of the model's reply with the project's extraction chains
(`reasonlab.answers.filters`), one statement at a time.

A strategy's final reply is read by its *last* answer statement. A graph node's reply is read by
its *first* explicit statement that actually answers: small models often state the answer and
then ramble on, ending with a hedge such as "…the answer is not immediately apparent from the
text". Hedges are skipped; when no statement answers, the chain's looser filters (last number,
last line, a lone option letter) read the whole reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..answers.filters import STRICT, Filter, chains, choice_letter, run_chain
from ..errors import InputError
from .values import coerce, is_yes

_STATEMENTS = re.compile(r"(?<=[.!?。])\s+|\n+")
_HEDGE = re.compile(
    r"^(?:(?:is|was|remains|still|simply|currently)\s+)*(?:not\b|un(?:clear|known|certain|determined|decidable|"
    r"available|specified)|in(?:determinate|conclusive|sufficient)|cannot\b|can't\b|can\s+not\b|impossible|"
    r"none\b|n/?a\b|no\s+(?:answer|solution|number|way)\b|(?:i|we)\s+(?:don't|do\s+not|cannot|can't)\b|"
    r"to\s+be\s+determined|tbd\b|ambiguous|missing|hard\s+to\s+say|depends\b)",
    re.IGNORECASE,
)
_MAYBE_LITERAL = re.compile(r"\s*(?:[\[({'\"+\-.\d]|(?:True|False|None)\s*$)")
_CHAIN_KIND = {"number": "number", "choice": "choice", "text": "text"}


def is_hedge(statement: str) -> bool:
    """True for an answer statement that declines to answer ("not immediately apparent", "unknown")."""
    return bool(_HEDGE.match(statement.strip().strip("*_`\"'").strip()))


@dataclass
class Reading:
    """What a reply says: `strict` from an explicit answer statement, `flexible` with fallbacks."""

    strict: str | None
    flexible: str | None
    filter: str | None = None


def read_reply(text: str, kind: str = "text") -> Reading:
    """The answer in a node's reply for answer kind number | choice | text (see module docstring)."""
    whole, stated_chain, loose = _chains(_CHAIN_KIND.get(kind, "auto"))
    t = text or ""
    if _MAYBE_LITERAL.match(t):  # a reply that is one value (a number, a list, True…)
        got, name = run_chain(t, whole)
        if got:
            return Reading(got, got, name)
    for piece in [*_STATEMENTS.split(t), t]:  # statement by statement, then the whole (a multi-line \boxed{})
        stated, _ = run_chain(piece, STRICT)
        if stated is None or is_hedge(stated):
            continue
        got, name = run_chain(piece, stated_chain)
        if got:
            return Reading(got, got, name)
    got, name = run_chain(t, loose)
    return Reading(None, got, name)


@lru_cache(maxsize=16)
def _chains(kind: str) -> tuple[list[Filter], list[Filter], list[Filter]]:
    """The kind's strict chain split into filters of the whole reply (before the answer-statement
    filters) and the statement filters, and the flexible chain's looser rest."""
    strict_chain, flexible_chain = chains(kind)
    n_whole = len(strict_chain) - len(STRICT)
    return strict_chain[:n_whole], strict_chain[n_whole:], flexible_chain[len(strict_chain):]


def parse_answer(text: str, kind: str) -> tuple[Any, str | None]:
    """A node's answer by its answer kind (typed: numbers as numbers, yes/no as bool), and a note
    when it had to fall back to the whole reply."""
    t = (text or "").strip()
    if kind == "raw":
        return t, None
    if kind == "yesno":
        words = t.lower().lstrip("*_`\"' ").split()
        first = words[0].strip(".,!:;*") if words else ""
        if first not in ("yes", "no", "true", "false", "y", "n", "correct", "incorrect"):
            stated = read_reply(t, "text").strict
            if stated:
                return is_yes(stated), None
        return is_yes(t), None
    reading = read_reply(t, kind)
    if kind == "choice":
        paren = re.search(r"\(([A-J])\)", t)
        letter = reading.strict or (paren.group(1) if paren else None) or reading.flexible or choice_letter(t)
        return (letter, None) if letter else (t, "no option letter found; kept the whole reply")
    if kind == "number":
        if reading.flexible is None:
            return t, "no number found; kept the whole reply"
        try:
            return coerce(reading.flexible, "number"), None
        except InputError:
            return reading.flexible, None
    return (reading.strict or t), None
