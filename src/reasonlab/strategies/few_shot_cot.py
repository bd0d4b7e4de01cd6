"""few-shot-cot (Wei et al. 2022): worked examples before the question, one reasoning call.

Each exemplar is one user turn (its question) and one assistant turn (its step-by-step solution
ending in "The answer is …"); the question follows as the last user turn, so the model
continues in the same format. Exemplars come from a built-in set chosen by the answer kind, a
named built-in set, or a JSONL file. With ``selection=similar`` the `shots` exemplars most like
the question's procedure are picked from a pool (Ruis et al. 2024; see reasonlab.exemplars) —
for instance a pool of the model's own verified solutions made by `reasonlab bootstrap`.
A reply the model layer stopped as a loop (finish reason ``repetition``) is drawn again by
sampling (`loop_retries` times, temperature 0.7, a seed of its own); if every draw loops there is
no answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..answers import extract
from ..context import RunContext
from ..exemplars import Exemplar, resolve, select
from ..problem import Prediction, Problem
from ..prompts import answer_kind
from .base import Options, Strategy, StrategyError, opt, register
from .confidence import failed

SELECTIONS = ("fixed", "similar")


@dataclass
class FewShotOptions(Options):
    exemplars: str = opt("auto", "built-in set name or .jsonl path; auto = the set for the answer kind")
    shots: int = opt(4, "number of exemplars in the prompt")
    selection: str = opt("fixed", "fixed = the first `shots` of the set; similar = most similar by procedure")
    similarity: str = opt("tfidf", "similarity for selection=similar: tfidf or embedding:MODEL (installed)")


@dataclass
class FewShotCoTOptions(FewShotOptions):
    loop_retries: int = opt(1, "a reply stopped as a loop is drawn again this many times (sampling, new seed)")


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


def complete_without_loops(ctx: RunContext, messages: list[dict[str, Any]], *, label: str, temperature: float,
                           max_tokens: int, retries: int, stop: list[str] | None = None) -> tuple[str, int]:
    """One reply; a reply stopped as a loop is drawn again at temperature ≥ 0.7 with sample index 1, 2, ….

    Returns (text, loops); the text is "" when every draw looped.
    """
    loops = 0
    for attempt in range(retries + 1):
        c = ctx.generate(messages, n=1, label=label if attempt == 0 else f"{label} retry {attempt}",
                         temperature=temperature if attempt == 0 else max(temperature, 0.7),
                         max_tokens=max_tokens, sample_offset=attempt, stop=stop)[0]
        if not failed(c.finish_reason):
            return c.text, loops
        loops += 1
    return "", loops


def read_answer(text: str, kind: str) -> tuple[str | None, str | None]:
    """(flexible, strict) answer of one reasoning path."""
    ex = extract(text, kind)
    return ex.flexible, ex.strict


@register
class FewShotCoT(Strategy):
    name = "few-shot-cot"
    description = "Worked examples (question, step-by-step solution) before the question; one reasoning call."
    Options = FewShotCoTOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        exemplars, info = pick_exemplars(problem, o.exemplars, o.shots, o.selection, o.similarity)
        text, loops = complete_without_loops(ctx, fewshot_messages(exemplars, problem), label="reasoning",
                                             temperature=o.temperature, max_tokens=o.max_tokens,
                                             retries=o.loop_retries)
        answer, strict = read_answer(text, answer_kind(problem))
        return Prediction(answer=answer, strict=strict, reasoning=text, details={"exemplars": info, "loops": loops},
                          note="every reply was stopped as a loop" if loops > o.loop_retries else None)
