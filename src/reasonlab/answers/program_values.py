"""Values returned by programs and tools, rendered in the dataset's answer form before scoring.

A program's `solution()` may return a list of words, a tuple, a boolean or a float with
rounding noise; the sandbox harness prints it as a Python literal (``['a', 'b']``, ``True``,
``2.0000000001``). Scored as text those are wrong against golds like ``a b``, ``Yes`` or ``2``.
`render_value` turns such a literal into the answer kind's form:

- a list/tuple/set of words → the words separated by spaces (``['b', 'a']`` → ``b a``);
  one element → that element; numbers → comma-separated;
- a boolean → the dataset's true-word / false-word (``True`` → ``Yes`` for a yes/no question);
- a float within 1e-9 (relative) of an integer → the integer; other floats → at most 10
  significant digits (``0.30000000000000004`` → ``0.3``);
- ``None`` → no answer.

`program_value` is the same rendering as a filter of the extraction chain (see filters.py): it
fires only when the whole text is one Python literal.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Sequence
from typing import Any

DEFAULT_TRUTH = ("True", "False")
_YES_NO_START = re.compile(r"^\s*(is|are|was|were|does|do|did|can|could|will|would|should|has|have|had)\b",
                           re.IGNORECASE)
_QUESTION = re.compile(r"(?:^|(?<=[.!?\n]))\s*([^.!?\n]*\?)")


def truth_words(text: str = "", choices: Sequence[str] | None = None,
                meta: dict[str, Any] | None = None) -> tuple[str, str]:
    """The words a dataset uses for true and false: meta["truth_words"], the choices, the question's form."""
    given = (meta or {}).get("truth_words")
    if isinstance(given, (list, tuple)) and len(given) == 2:
        return str(given[0]), str(given[1])
    lowered = {c.strip().lower(): c.strip() for c in (choices or [])}
    for t, f in (("yes", "no"), ("true", "false"), ("valid", "invalid")):
        if t in lowered and f in lowered:
            return lowered[t], lowered[f]
    if re.search(r"\btrue or false\b", text or "", re.IGNORECASE):
        return DEFAULT_TRUTH
    if re.search(r"\byes or no\b", text or "", re.IGNORECASE):
        return "Yes", "No"
    questions = _QUESTION.findall(text or "")
    if questions and _YES_NO_START.search(questions[-1]):
        return "Yes", "No"
    return DEFAULT_TRUTH


def render_number(value: float | int) -> str:
    """An int as is; a float close to an integer as the integer; else ≤ 10 significant digits."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return repr(value)
    if value.is_integer():
        return str(int(value))
    nearest = round(value)
    if abs(value - nearest) <= 1e-9 * max(1.0, abs(value)):
        return str(int(nearest))
    text = f"{value:.10g}"
    if "e" in text:
        return text
    return text.rstrip("0").rstrip(".") if "." in text else text


def _render(value: Any, kind: str, truth: tuple[str, str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return truth[0] if value else truth[1]
    if isinstance(value, (int, float)):
        return render_number(value)
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        if not items:
            return None
        if len(items) == 1:
            return _render(items[0], kind, truth)
        parts = [_render(v, kind, truth) for v in items]
        if any(p is None for p in parts):
            return None
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items)
        return ", ".join(parts) if numeric else " ".join(parts)  # type: ignore[arg-type]
    return str(value)


def literal(text: str | None) -> tuple[bool, Any]:
    """(True, value) when `text` is one Python literal (list, tuple, bool, number, None, quoted string)."""
    t = (text or "").strip()
    if not t or len(t) > 5000:
        return False, None
    try:
        return True, ast.literal_eval(t)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def render_value(text: str | None, kind: str = "auto", truth: tuple[str, str] = DEFAULT_TRUTH) -> str | None:
    """A program's printed return value in the answer kind's form; text that is no literal is kept."""
    if text is None:
        return None
    ok, value = literal(text)
    if not ok:
        return text.strip() or None
    if kind == "number" and isinstance(value, str):
        return value.strip() or None
    return _render(value, kind, truth)


def program_value(kind: str = "auto", truth: tuple[str, str] = DEFAULT_TRUTH):
    """The extraction-chain filter: the rendered value when the whole text is a Python literal, else None."""

    def inner(text: str) -> str | None:
        ok, value = literal(text)
        if not ok or isinstance(value, str):
            return None
        return _render(value, kind, truth)

    inner.__name__ = "program_value"
    return inner
