"""What goes in (Problem) and what comes out (Prediction from a strategy, Result from a run)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .trace import Call, Usage

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def detect_language(text: str) -> str:
    """'zh' when a fair share of the letters are CJK ideographs, else 'en'."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "en"
    cjk = sum(1 for c in letters if _CJK.match(c))
    return "zh" if cjk / len(letters) >= 0.2 else "en"


@dataclass
class Problem:
    """A question to reason about.

    kind: what the answer looks like — "number", "choice" (then `choices` lists the options,
    answered by letter), "text", or "auto" (guess from the text).
    """

    text: str
    kind: str = "auto"
    choices: list[str] | None = None
    language: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # A `reasonlab.planning.task.PlanningTask` (PDDL parsed once) for planning problems, else None.
    # Typed `Any` here because planning/ sits above this module in the layering.
    planning: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.language is None:
            self.language = detect_language(self.text)
        if self.choices and self.kind == "auto":
            self.kind = "choice"

    @classmethod
    def of(cls, q: str | Problem) -> Problem:
        return q if isinstance(q, Problem) else cls(text=q)

    def render(self) -> str:
        """The question as shown to the model (options listed as letters, if any)."""
        if not self.choices:
            return self.text
        letters = "ABCDEFGHIJ"
        opts = "\n".join(f"({letters[i]}) {c}" for i, c in enumerate(self.choices))
        return f"{self.text}\n\nOptions:\n{opts}"


@dataclass
class Prediction:
    """What a strategy returns: its answer (strict and flexible), reasoning, and details."""

    answer: str | None
    strict: str | None = None
    reasoning: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    note: str | None = None  # e.g. "fell back to CoT: decomposition was not a list"


@dataclass
class Result:
    """One run of a strategy on a question, with its full trace."""

    question: str
    strategy: str
    model: str
    answer: str | None
    strict_answer: str | None
    reasoning: str
    calls: list[Call]
    usage: Usage
    details: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"  # "ok" | "no_answer" | "error"
    error: str | None = None
    note: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "strategy": self.strategy,
            "model": self.model,
            "answer": self.answer,
            "strict_answer": self.strict_answer,
            "status": self.status,
            "no_answer": self.status == "no_answer",
            "error": self.error,
            "note": self.note,
            "reasoning": self.reasoning,
            "options": self.options,
            "details": self.details,
            "usage": self.usage.to_dict(),
            "calls": [c.to_dict() for c in self.calls],
        }
