"""Prompt pieces shared by strategies: per-language cues (Kojima et al.; the article's Chinese cues)."""

from __future__ import annotations

from .problem import Problem

# Reasoning trigger, answer-extraction cue per answer kind, and a direct-answer instruction.
CUES: dict[str, dict[str, str]] = {
    "en": {
        "reason": "Let's think step by step.",
        "extract_number": "Therefore, the answer (arabic numerals) is",
        "extract_choice": "Therefore, among the options, the answer (a single letter) is",
        "extract_text": "Therefore, the answer is",
        "direct_number": "Reply with only the final answer, as a number.",
        "direct_choice": "Reply with only the letter of the correct option.",
        "direct_text": "Reply with only the final answer.",
    },
    "zh": {
        "reason": "让我们一步一步地思考。",
        "extract_number": "因此，答案（阿拉伯数字）是",
        "extract_choice": "因此，在这些选项中，答案（一个字母）是",
        "extract_text": "因此，答案是",
        "direct_number": "只回答最终答案（一个数字）。",
        "direct_choice": "只回答正确选项的字母。",
        "direct_text": "只回答最终答案。",
    },
}


def cue(problem: Problem, name: str) -> str:
    """The cue `name` in the problem's language; `extract`/`direct` pick the answer kind's variant."""
    table = CUES.get(problem.language or "en", CUES["en"])
    if name in ("extract", "direct"):
        kind = problem.kind if problem.kind in ("number", "choice", "text") else "number"
        if problem.kind == "auto":
            kind = "number" if _looks_numeric(problem.text) else "text"
        name = f"{name}_{kind}"
    return table.get(name, CUES["en"][name])


def _looks_numeric(text: str) -> bool:
    t = text.lower()
    return any(w in t for w in ("how many", "how much", "what is the total", "how far", "how long",
                                "多少", "几", "calculate", "compute")) or any(c.isdigit() for c in t)


def answer_kind(problem: Problem) -> str:
    """The kind used for extraction (auto resolves by the same rule as the cues)."""
    if problem.kind != "auto":
        return problem.kind
    return "number" if _looks_numeric(problem.text) else "text"
