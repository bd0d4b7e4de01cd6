"""Values in graphs and flowcharts: how they print inside prompts, read as yes/no, and convert to
the declared type of an input or a state key."""

from __future__ import annotations

import json
import re
from typing import Any

from ..answers.normalize import parse_number
from ..errors import InputError

_YES_WORDS = ("yes", "true", "y", "correct", "是", "对")
_PLAIN_INT = re.compile(r"-?\d{1,18}")


def format_value(v: Any) -> str:
    """A value as text for a prompt: 12.0 → "12", True → "yes", lists/dicts as JSON, None → ""."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return "" if v is None else str(v)


def is_yes(x: Any) -> bool:
    """True for yes/true/1-like values (model replies such as 'Yes, it is.')."""
    if isinstance(x, bool):
        return x
    if isinstance(x, (int, float)):
        return x != 0
    words = str(x).strip().lower().lstrip("*_`\"' ").split()
    return bool(words) and words[0].strip(".,!:;*") in _YES_WORDS


def type_of(v: Any) -> str:
    """The declared-type name of a Python value (for inputs given by default only)."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "dict"
    return "str"


def _to_number(value: Any, tp: str, what: str) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        num: Any = value
    elif isinstance(value, str) and _PLAIN_INT.fullmatch(value):
        num = int(value)  # fast path for the common case
    else:
        f = parse_number(str(value))
        if f is None:
            raise InputError(f"{what}: expected a number, got {str(value)[:60]!r}")
        num = int(f) if f.denominator == 1 else float(f)
    if tp == "int":
        if isinstance(num, float) and not num.is_integer():
            return num  # keep the information rather than truncating a model's 2.5
        return int(num)
    return float(num) if tp == "float" else num


def coerce(value: Any, tp: str, what: str = "value") -> Any:
    """Convert a value (often model text) to a declared type; raises InputError when impossible."""
    if tp in ("any", "") or value is None:
        return value
    if tp == "str":
        return value if isinstance(value, str) else format_value(value)
    if tp in ("int", "float", "number"):
        return _to_number(value, tp, what)
    if tp == "bool":
        return is_yes(value)
    if tp == "list":
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            try:
                v = json.loads(value)
                if isinstance(v, list):
                    return v
            except (ValueError, RecursionError):
                pass
        return [value]
    if tp == "dict":
        if isinstance(value, dict):
            return value
        try:
            v = json.loads(str(value))
        except (ValueError, RecursionError):
            raise InputError(f"{what}: expected a JSON object, got {str(value)[:60]!r}") from None
        if not isinstance(v, dict):
            raise InputError(f"{what}: expected a JSON object")
        return v
    return value


def to_plain(v: Any) -> Any:
    """A JSON-safe copy of a value (unknown objects become their text)."""
    if isinstance(v, (str, int, float, bool, type(None))):
        return v
    if isinstance(v, (list, tuple)):
        return [to_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): to_plain(x) for k, x in v.items()}
    return str(v)
