"""least-to-most (Zhou et al. 2022): decompose into sub-questions, answer them in order, then the question.

Stage 1 (one call, label "decompose"): two worked decompositions, then the problem; the model
lists the sub-questions that must be answered first. The list is parsed robustly (numbered or
bulleted lines, "Q1:" / "Step 1:" prefixes, a JSON list, or bare lines ending in "?"). Output
with no list, or a list longer than `max_subquestions`, is malformed: the strategy falls back to
plain zero-shot CoT, and the reason goes in `Prediction.note` and in the decomposition call's
`meta["fallback"]` in the trace.

Stage 2 (one call per sub-question, labels "subquestion 1", …): the problem, then each
sub-question as a user turn with every earlier question/answer pair before it. Finally the
original question is asked the same way (label "final") and its answer is the result.
A reply the model layer stopped as a loop is drawn again once by sampling (few_shot_cot's
`complete_without_loops`); `details.loops` counts them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..answers import extract
from ..answers.normalize import normalize_text
from ..context import RunContext
from ..problem import Prediction, Problem
from ..prompts import answer_kind
from .base import Options, Strategy, opt, register
from .few_shot_cot import complete_without_loops
from .zero_shot_cot import ZeroShotCoT

DECOMPOSE = ("Which simpler questions must be answered first to solve the problem below? List them in "
             "order as a numbered list, one question per line. Do not answer them.\n\nProblem: {problem}")

DECOMPOSE_EXAMPLES = [
    ("Elsa has 5 apples. Anna has 2 more apples than Elsa. How many apples do they have together?",
     "1. How many apples does Anna have?\n2. How many apples do Elsa and Anna have together?"),
    ("A pool holds 120 liters. A hose adds 8 liters per minute and a leak loses 2 liters per minute. "
     "How many minutes does it take to fill the pool?",
     "1. How many liters does the pool gain each minute?\n"
     "2. How many minutes does it take to fill 120 liters at that rate?"),
]

ANSWER = ("{problem}\n\nAnswer each question about the problem above briefly, step by step, and end "
          "with \"The answer is ...\".\n\nQ: {question}")

_ITEM = re.compile(
    r"^\s*(?:\(?\d{1,2}[.):]|[-*•]|q\d{0,2}\s*[:.)]|(?:sub-?question|question|step)\s*\d{0,2}\s*[:.)-])\s*(?P<q>.+)$",
    re.IGNORECASE)


@dataclass
class LeastToMostOptions(Options):
    max_tokens: int = opt(256, "token limit of each answer call (sub-questions and the final question)")
    decompose_tokens: int = opt(160, "token limit of the decomposition call")
    max_subquestions: int = opt(6, "a decomposition listing more sub-questions than this is malformed")


def _clean(item: str) -> str:
    q = item.strip().strip("*_`\"'").strip()
    if "?" in q:
        q = q[: q.index("?") + 1]  # drop an answer the model added after the question
    return q.strip()


def _json_list(text: str) -> list[str] | None:
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(text[start:end + 1])
    except json.JSONDecodeError:
        return None
    if isinstance(data, list) and data and all(isinstance(x, str) for x in data):
        return data
    return None


def parse_subquestions(text: str, original: str, max_items: int) -> tuple[list[str], str | None]:
    """(sub-questions, None) or ([], reason) when the decomposition is malformed."""
    if not text or not text.strip():
        return [], "the decomposition call returned nothing"
    items = _json_list(text)
    if items is None:
        lines = text.strip().splitlines()
        items = [m.group("q") for m in (_ITEM.match(ln) for ln in lines) if m]
        if not items:
            items = [ln for ln in lines if ln.strip().endswith("?")]
    out: list[str] = []
    seen = {normalize_text(original)}
    for item in items:
        q = _clean(item)
        key = normalize_text(q)
        if q and key not in seen:
            seen.add(key)
            out.append(q)
    if not items:
        return [], "the decomposition was not a list of sub-questions"
    if not out:
        return [], "the decomposition listed no sub-question other than the question itself"
    if len(out) > max_items:
        return [], f"the decomposition listed {len(out)} sub-questions (more than max_subquestions={max_items})"
    return out, None


@register
class LeastToMost(Strategy):
    name = "least-to-most"
    description = "Decompose into sub-questions, answer them in order with earlier answers in context, then the question."
    Options = LeastToMostOptions

    def decompose_messages(self, problem: Problem) -> list[dict[str, str]]:
        msgs: list[dict[str, str]] = []
        for q, subs in DECOMPOSE_EXAMPLES:
            msgs.append({"role": "user", "content": DECOMPOSE.format(problem=q)})
            msgs.append({"role": "assistant", "content": subs})
        msgs.append({"role": "user", "content": DECOMPOSE.format(problem=problem.render())})
        return msgs

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        kind = answer_kind(problem)
        plan, loops = complete_without_loops(ctx, self.decompose_messages(problem), label="decompose",
                                             temperature=o.temperature, max_tokens=o.decompose_tokens, retries=1)
        subs, reason = parse_subquestions(plan, problem.text, o.max_subquestions)
        if reason is not None:
            ctx.calls[-1].meta["fallback"] = reason
            ctx.emit("fallback", {"strategy": self.name, "reason": reason})
            pred = ZeroShotCoT(temperature=o.temperature, max_tokens=o.max_tokens).solve(ctx, problem)
            pred.note = f"fell back to zero-shot CoT: {reason}"
            pred.details = {**pred.details, "fallback": reason, "decomposition": plan}
            return pred
        steps: list[dict[str, Any]] = []
        msgs: list[dict[str, str]] = []
        for i, q in enumerate([*subs, problem.text]):
            final = i == len(subs)
            content = ANSWER.format(problem=problem.render(), question=q) if i == 0 else f"Q: {q}"
            msgs.append({"role": "user", "content": content})
            reply, looped = complete_without_loops(ctx, msgs, label="final" if final else f"subquestion {i + 1}",
                                                   temperature=o.temperature, max_tokens=o.max_tokens, retries=1)
            loops += looped
            msgs.append({"role": "assistant", "content": reply})
            ex = extract(reply, kind if final else "auto")
            steps.append({"question": q, "reply": reply, "answer": ex.flexible})
            ctx.emit("subquestion", {"index": i, "question": q, "answer": ex.flexible, "final": final})
        final_ex = extract(steps[-1]["reply"], kind)
        return Prediction(answer=final_ex.flexible, strict=final_ex.strict, reasoning=steps[-1]["reply"],
                          details={"subquestions": subs, "steps": steps, "decomposition": plan, "loops": loops})
