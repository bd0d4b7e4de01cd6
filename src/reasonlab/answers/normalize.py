"""Canonical forms of answers, so that "$1,234.00", "1234" and "2468/2" compare equal."""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

_NUM = r"[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?|[-+−]?\.\d+"
NUMBER_RE = re.compile(_NUM)
_CURRENCY = "$€£¥₹元"
_FULLWIDTH = str.maketrans("０１２３４５６７８９，．－／", "0123456789,.-/")


def parse_number(text: str) -> Fraction | None:
    """The value of a number written with separators, currency, units or as a fraction; else None."""
    if text is None:
        return None
    t = unicodedata.normalize("NFKC", str(text)).translate(_FULLWIDTH).strip()
    t = t.strip(" .。;:!*_`'\"").replace("−", "-")
    for sym in _CURRENCY:
        t = t.replace(sym, "")
    t = t.strip()
    pct = t.endswith("%")
    m = NUMBER_RE.search(t)
    if not m:
        return None
    raw = m.group(0).replace(",", "").replace(" ", "")
    try:
        if "/" in raw:
            num, den = raw.split("/")
            value = Fraction(num) / Fraction(den)
        else:
            value = Fraction(raw)
    except (ValueError, ZeroDivisionError):
        return None
    return value / 100 if pct and m.end() == len(t.rstrip("%").rstrip()) else value


def format_number(value: Fraction) -> str:
    """Canonical text: integers plainly, terminating decimals as decimals, else a/b."""
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den == 1:
        s = f"{float(value):.12f}".rstrip("0").rstrip(".")
        return s
    return f"{value.numerator}/{value.denominator}"


def normalize_number(text: str) -> str | None:
    v = parse_number(text)
    return None if v is None else format_number(v)


def normalize_text(text: str) -> str:
    """Case-folded, punctuation at the ends stripped, inner whitespace collapsed."""
    t = unicodedata.normalize("NFKC", str(text)).strip().casefold()
    t = re.sub(r"\s+", " ", t)
    return t.strip(" .。,;:!?\"'`*()[]")


def normalize(text: str | None, kind: str = "auto") -> str | None:
    """Normalise an answer: numbers by value when kind is number (or auto and it parses)."""
    if text is None:
        return None
    if kind in ("number", "auto"):
        n = normalize_number(text)
        if n is not None and (kind == "number" or _is_mostly_number(text)):
            return n
    return normalize_text(text)


def _is_mostly_number(text: str) -> bool:
    t = str(text).strip()
    m = NUMBER_RE.search(t)
    if not m:
        return False
    rest = (t[: m.start()] + t[m.end():]).strip(" .$€£¥%,")
    return len(rest) <= 12  # units such as "dollars", "cm", "apples"


def answers_match(pred: str | None, gold: str | None, kind: str = "auto", tol: float = 0.0) -> bool:
    """True when two answers are equal after normalisation (numbers by value, within tol)."""
    if pred is None or gold is None:
        return False
    if kind in ("number", "auto"):
        a, b = parse_number(pred), parse_number(gold)
        if a is not None and b is not None and (kind == "number" or (_is_mostly_number(pred) and _is_mostly_number(gold))):
            if tol:
                return abs(float(a) - float(b)) <= tol * max(1.0, abs(float(b)))
            return a == b
    return normalize_text(pred) == normalize_text(gold)
