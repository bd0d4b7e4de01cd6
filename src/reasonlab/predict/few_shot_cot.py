"""few-shot-cot (Wei et al. 2022): worked examples before the question, one reasoning call.

Each exemplar is one user turn (its question) and one assistant turn (its step-by-step solution
ending in "The answer is …"); the question follows as the last user turn, so the model
continues in the same format. Exemplars come from a built-in set chosen by the answer kind, a
named built-in set, or a JSONL file. With ``selection=similar`` the `shots` exemplars most like
the question's procedure are picked from a pool (Ruis et al. 2024; see reasonlab.exemplars).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..answers import extract
from ..context import RunContext
from ..exemplars import Exemplar, resolve, select
from ..prompts import answer_kind
from ..result import Prediction, Problem
from .base import Options, Strategy, StrategyError, opt, register

SELECTIONS = ("fixed", "similar")


@dataclass
class FewShotOptions(Options):
    exemplars: str = opt("auto", "built-in set name or .jsonl path; auto = the set for the answer kind")
    shots: int = opt(4, "number of exemplars in the prompt")
    selection: str = opt("fixed", "fixed = the first `shots` of the set; similar = most similar by procedure")
    similarity: str = opt("tfidf", "similarity for selection=similar: tfidf or embedding:MODEL (installed)")


def pick_exemplars(problem: Problem, exemplars: str, shots: int, selection: str,
                   similarity: str = "tfidf") -> tuple[list[Exemplar], dict[str, Any]]:
    """The exemplars to show and a description of how they were chosen (for `details`)."""
    if selection not in SELECTIONS:
        raise StrategyError(f"option selection must be one of {', '.join(SELECTIONS)}, got {selection!r}")
    if shots < 0:
        raise StrategyError(f"option shots must be 0 or more, got {shots}")
    kind = answer_kind(problem)
    name, pool = resolve(exemplars, kind, pool=selection == "similar")
    info: dict[str, Any] = {"set": name, "selection": selection, "pool_size": len(pool)}
    if selection == "fixed":
        chosen = pool[:shots]
    else:
        sel = select(problem.render(), pool, shots, method=similarity)
        chosen = sel.exemplars
        info["similarity"] = sel.method
        info["scores"] = sel.scores
    info["ids"] = [ex.id for ex in chosen]
    return chosen, info


def fewshot_messages(exemplars: list[Exemplar], problem: Problem) -> list[dict[str, str]]:
    """Exemplars as alternating user/assistant turns, then the question."""
    msgs: list[dict[str, str]] = []
    for ex in exemplars:
        msgs.append({"role": "user", "content": ex.question})
        msgs.append({"role": "assistant", "content": ex.solution})
    msgs.append({"role": "user", "content": problem.render()})
    return msgs


def read_answer(text: str, kind: str) -> tuple[str | None, str | None]:
    """(flexible, strict) answer of one reasoning path."""
    ex = extract(text, kind)
    return ex.flexible, ex.strict


@register
class FewShotCoT(Strategy):
    name = "few-shot-cot"
    description = "Worked examples (question, step-by-step solution) before the question; one reasoning call."
    Options = FewShotOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        exemplars, info = pick_exemplars(problem, o.exemplars, o.shots, o.selection, o.similarity)
        text = ctx.complete(fewshot_messages(exemplars, problem), label="reasoning",
                            temperature=o.temperature, max_tokens=o.max_tokens)
        answer, strict = read_answer(text, answer_kind(problem))
        return Prediction(answer=answer, strict=strict, reasoning=text, details={"exemplars": info})
