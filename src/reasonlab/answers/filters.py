"""Answer extraction as a chain of small filters (lm-evaluation-harness style).

Each filter takes the model's text and returns the answer it finds, or None. A chain tries
filters in order. `extract` runs two chains and returns both results:
  strict   — only explicit answer markers: "The answer is …", "#### …", \\boxed{…}
  flexible — the strict chain, then looser fallbacks (last number, a lone option letter…)
Both chains start with `program_value` (program_values.py): a reply that is one Python literal — a
program's or tool's return value such as ``['a', 'b']``, ``True``, ``2.0000000001`` — is
rendered in the answer kind's form (``a b``, the dataset's true-word, ``2``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .normalize import NUMBER_RE, normalize, normalize_number
from .program_values import DEFAULT_TRUTH, program_value

Filter = Callable[[str], str | None]

_ANSWER_IS = re.compile(
    r"(?:the\s+(?:final\s+)?answer\s*(?:is|=|:)|final\s+answer\s*(?:is|=|:)?|answer\s*:|"
    r"答案(?:是|为|：|:)|最终答案(?:是|为|：|:)?)\s*(?:\(?[a-z]+\s+numerals\)?\s*(?:is)?\s*)?:?\s*"
    r"(?P<ans>[^\n]+?)(?=\.(?:\s|$)|。|;|\n|$)",
    re.IGNORECASE,
)
_HASH = re.compile(r"####\s*(?P<ans>[^\n]+)")
# Option letters, most explicit first: "(B)", "option B", a line "B) …" / "B. …", a lone "B".
# A bare capital inside prose is not trusted: "I" and "A" are English words.
_CHOICE_FORMS = [
    re.compile(r"[(\[](?P<letter>[A-J])[)\]]"),
    re.compile(r"\b(?i:option|choice|answer|letter)\s*(?i:is\s*)?:?\s*(?P<letter>[A-J])\b"),
    re.compile(r"^\s*(?P<letter>[A-J])\s*(?:[).:]|$)", re.MULTILINE),
]


def _boxed(text: str) -> str | None:
    """Content of the last \\boxed{…}, braces balanced."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    i, depth = start + len("\\boxed{"), 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j].strip() or None
    return None


_LATEX_WRAPPER = re.compile(r"\\(?:boxed|text|textbf|textrm|mathrm|mathbf|mbox|fbox)\s*\{([^{}]*)\}")
_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_LATEX_DELIMS = re.compile(r"^\s*\\[(\[]\s*(.*?)\s*\\[)\]]\s*$", re.DOTALL)


def unlatex(ans: str) -> str:
    """An answer without LaTeX wrappers: ``\\(\\boxed{\\text{True}}\\)`` → ``True``, ``\\[\\frac{1}{2}\\]`` → ``1/2``."""
    prev = None
    while prev != ans:
        prev = ans
        ans = _LATEX_WRAPPER.sub(r"\1", ans)
        ans = _LATEX_FRAC.sub(r"\1/\2", ans)
        m = _LATEX_DELIMS.match(ans)
        ans = m.group(1) if m else ans
    return ans


def _clean(ans: str) -> str | None:
    ans = ans.strip().strip("*_`").strip()
    ans = re.sub(r"^\$+|\$+$", "", ans) if ans.count("$") >= 2 else ans  # $…$ math, keep "$5"
    ans = unlatex(ans).strip()
    ans = ans.rstrip(" .。")
    return ans or None


def answer_is(text: str) -> str | None:
    matches = list(_ANSWER_IS.finditer(text))
    if not matches:
        return None
    return _clean(matches[-1].group("ans"))


def hash_marks(text: str) -> str | None:
    matches = list(_HASH.finditer(text))
    return _clean(matches[-1].group("ans")) if matches else None


def boxed(text: str) -> str | None:
    b = _boxed(text)
    return _clean(b) if b else None


def last_number(text: str) -> str | None:
    nums = NUMBER_RE.findall(text.replace("−", "-"))
    return nums[-1].strip() if nums else None


def first_number(text: str) -> str | None:
    m = NUMBER_RE.search(text)
    return m.group(0).strip() if m else None


def choice_letter(text: str) -> str | None:
    for form in _CHOICE_FORMS:
        m = form.search(text.strip())
        if m:
            return m.group("letter").upper()
    return None


def last_line(text: str) -> str | None:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return _clean(lines[-1]) if lines else None


def number_in(f: Filter) -> Filter:
    """Narrow another filter's answer to the number inside it ("18 dollars." → "18")."""

    def inner(text: str) -> str | None:
        got = f(text)
        if got is None:
            return None
        n = first_number(got)
        return n if n is not None else None

    inner.__name__ = f"number_in({f.__name__})"
    return inner


def bare_answer(text: str, kind: str = "auto") -> str | None:
    """The whole reply when it is nothing but an answer ("42", "$1,200.", "B"); else None."""
    t = (text or "").strip().rstrip(".。").strip()
    if not t or "\n" in t:
        return None
    if kind == "choice":
        m = re.fullmatch(r"\(?([A-J])\)?", t)
        return m.group(1) if m else None
    if kind in ("number", "auto") and re.fullmatch(r"[$€£¥]?\s*" + NUMBER_RE.pattern + r"\s*%?", t):
        return t
    if kind == "text" and len(t.split()) <= 5:
        return t
    return None


def run_chain(text: str, chain: Sequence[Filter]) -> tuple[str | None, str | None]:
    """First filter that finds something wins; returns (answer, filter name)."""
    for f in chain:
        got = f(text or "")
        if got:
            return got, getattr(f, "__name__", "filter")
    return None, None


STRICT = [answer_is, hash_marks, boxed]
STRICT_NUMBER = [number_in(answer_is), number_in(hash_marks), number_in(boxed)]


def chains(kind: str, truth: tuple[str, str] = DEFAULT_TRUTH) -> tuple[list[Filter], list[Filter]]:
    """(strict, flexible) chains for an answer kind: number | choice | text | auto."""
    strict, flexible = _chains(kind)
    first = program_value(kind, truth)
    return [first, *strict], [first, *flexible]


def _chains(kind: str) -> tuple[list[Filter], list[Filter]]:
    if kind == "number":
        return STRICT_NUMBER, [*STRICT_NUMBER, last_number]
    if kind == "choice":
        strict = [_letter_of(f) for f in STRICT]
        return strict, [*strict, choice_letter]
    if kind == "text":
        return STRICT, [*STRICT, last_line]
    return STRICT, [*STRICT, last_number, last_line]


def _letter_of(f: Filter) -> Filter:
    def inner(text: str) -> str | None:
        got = f(text)
        return choice_letter(got) if got else None

    inner.__name__ = f"letter_of({f.__name__})"
    return inner


@dataclass
class Extraction:
    strict: str | None
    flexible: str | None
    strict_filter: str | None = None
    flexible_filter: str | None = None

    def normalized(self, kind: str = "auto") -> tuple[str | None, str | None]:
        return normalize(self.strict, kind), normalize(self.flexible, kind)


def extract(text: str, kind: str = "auto", truth: tuple[str, str] = DEFAULT_TRUTH) -> Extraction:
    """Strict and flexible answers found in a model's text (`truth`: the dataset's true/false words)."""
    strict_chain, flexible_chain = chains(kind, truth)
    s, sf = run_chain(text, strict_chain)
    f, ff = run_chain(text, flexible_chain)
    return Extraction(s, f, sf, ff)


def vote_key(answer: str | None, kind: str = "auto") -> str | None:
    """The key answers are grouped by when voting: numbers by value, text case-folded."""
    if answer is None:
        return None
    if kind in ("number", "auto"):
        n = normalize_number(answer)
        if n is not None and (kind == "number" or NUMBER_RE.fullmatch(answer.strip().replace(",", "")) or
                              normalize(answer, kind) == n):
            return n
    return normalize(answer, "text")
