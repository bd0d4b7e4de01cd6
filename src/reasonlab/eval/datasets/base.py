"""Dataset items, the `Dataset` base class, and the registry of SPEC prefixes.

A dataset is one small class in this folder, decorated with `@register`::

    @register
    class MyData(Dataset):
        prefix = "mydata"                      # the SPEC name before ':' (mydata:ARG)
        description = "What it holds."

        def __init__(self, arg: str) -> None:  # ARG is the text after ':'
            super().__init__(arg)

        def items(self) -> Iterator[Item]:     # every item, in a stable order
            yield Item(id="1", question="2+2?", answer="4", kind="number")

        def score(self, item, result) -> dict[str, float | None]:  # optional override
            return {**super().score(item, result), "my_metric": 0.5}

`score(item, result)` may also take a third argument, `prompt_format`. It returns named metrics
for one finished run: values in [0, 1] that are 0/1 (accuracies)
are reported with a 95% interval, other values as means; `None` means "not measurable here"
(it is left out of the mean, never counted as zero).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ...answers import answers_match
from ...discover import Registry
from ...errors import InputError
from ...problem import Problem, Result

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PROMPT_FORMATS = ("open", "closed", "closed-adversarial")


@dataclass
class Item:
    """One evaluation example.

    answer: the gold answer as text ("42", "Paris"). For multiple choice, the text of the
    correct option; `gold_index` is its position in `choices`.
    kind: "number" | "choice" | "text" | "plan" (or anything a dataset's `score` understands).
    steps: gold answers of intermediate steps, by step name (procedural tasks).
    """

    id: str
    question: str
    answer: str
    kind: str = "auto"
    choices: list[str] | None = None
    gold_index: int | None = None
    steps: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def is_choice(self) -> bool:
        return bool(self.choices) and self.gold_index is not None

    def gold_for(self, prompt_format: str) -> tuple[str, str]:
        """(gold answer, answer kind) as the model is asked to give it under `prompt_format`."""
        if self.is_choice and prompt_format == "closed-adversarial":
            return LETTERS[self.gold_index or 0], "choice"
        if self.is_choice:
            return self.answer, "text"
        return self.answer, self.kind if self.kind in ("number", "text", "choice") else "auto"


def render_problem(item: Item, prompt_format: str = "closed") -> Problem:
    """The Problem a strategy sees for `item` under a prompt format (Lu et al. 2023 settings).

    open: the question alone, answered in words (options, if any, are not shown).
    closed: options listed in the question text; the answer is the option's text.
    closed-adversarial: options labelled (A), (B)…; the answer is a letter only
    (`Problem.choices` with kind "choice").
    Items without options look the same in every format.
    """
    if prompt_format not in PROMPT_FORMATS:
        raise InputError(f"unknown prompt format {prompt_format!r} (use {', '.join(PROMPT_FORMATS)})")
    meta = {"item_id": item.id, "prompt_format": prompt_format, **item.meta}
    if not item.is_choice:
        kind = item.kind if item.kind in ("number", "text", "choice", "auto") else "text"
        return Problem(text=item.question, kind=kind, meta=meta)
    assert item.choices is not None
    if prompt_format == "closed-adversarial":
        return Problem(text=item.question, kind="choice", choices=list(item.choices), meta=meta)
    if prompt_format == "closed":
        opts = "\n".join(f"- {c}" for c in item.choices)
        text = f"{item.question}\n\nPossible answers:\n{opts}\n\nAnswer with one of the possible answers."
        return Problem(text=text, kind="text", meta=meta)
    return Problem(text=item.question, kind="text", meta=meta)


def match_answer(pred: str | None, item: Item, prompt_format: str, tol: float = 0.0) -> bool:
    """Does `pred` equal the gold answer (numbers by value within relative `tol`, text normalised)?

    Under closed-adversarial, the gold option's text counts as well as its letter; other accepted
    answers may be listed in `item.meta["aliases"]`.
    """
    if pred is None:
        return False
    gold, kind = item.gold_for(prompt_format)
    if answers_match(pred, gold, kind, tol):
        return True
    if not item.is_choice and any(answers_match(pred, a, kind, tol) for a in item.meta.get("aliases", ())):
        return True
    if item.is_choice and prompt_format == "closed-adversarial":
        return answers_match(pred, item.answer, "text")
    return False


class Dataset:
    """A source of `Item`s named by a SPEC `prefix:ARG`. Subclasses set `prefix` and `items()`."""

    prefix: ClassVar[str] = ""
    description: ClassVar[str] = ""
    primary: ClassVar[str] = "flexible"  # the metric shown as "accuracy" in reports and the progress bar
    tolerance: float = 0.0  # relative numeric tolerance of the default `score`

    def __init__(self, arg: str) -> None:
        self.arg = arg

    @property
    def name(self) -> str:
        return f"{self.prefix}:{self.arg}"

    def items(self) -> Iterator[Item]:
        raise NotImplementedError

    def problem(self, item: Item, prompt_format: str = "closed") -> Problem:
        """The Problem shown to strategies; override to customise prompts."""
        return render_problem(item, prompt_format)

    def exemplars(self, k: int, exclude: set[str], seed: int = 0) -> list[Item]:
        """Up to k items not in `exclude` to use as few-shot examples (default: the first ones)."""
        out = []
        for it in self.items():
            if it.id not in exclude:
                out.append(it)
                if len(out) >= k:
                    break
        return out

    def exemplar_records(self, k: int, exclude: set[str], prompt_format: str = "closed") -> list[dict[str, str]]:
        """Up to k few-shot exemplars from this dataset in the exemplar-file form
        (`question`, `solution`, `answer`, `id`), rendered as the evaluated items are. The
        solution is the item's worked solution (`meta["solution"]`) when it has one, else just
        "The answer is …"."""
        out = []
        for it in self.exemplars(k, exclude):
            gold, _ = it.gold_for(prompt_format)
            solution = str(it.meta.get("solution") or "").strip()
            tail = f"The answer is {gold}."
            if not solution.endswith(tail):
                solution = f"{solution}\n{tail}".strip()
            out.append({"id": f"{self.prefix}:{it.id}", "question": self.problem(it, prompt_format).render(),
                        "solution": solution, "answer": gold})
        return out

    def score(self, item: Item, result: Result, prompt_format: str = "closed") -> dict[str, float | None]:
        """Metrics of one finished run. Default: strict and flexible match, edit distance, steps.

        strict: the strategy's strict answer (explicit answer markers) equals the gold one.
        flexible: its flexible answer (looser extraction) equals the gold one.
        step:<name>: the intermediate result appears in the reasoning or answer (procedural tasks).
        token_edit_distance: Levenshtein distance over word tokens, prediction vs gold.
        """
        from ..metrics import step_correct, token_edit_distance

        gold, _ = item.gold_for(prompt_format)
        out: dict[str, float | None] = {
            "strict": float(match_answer(result.strict_answer, item, prompt_format, self.tolerance)),
            "flexible": float(match_answer(result.answer, item, prompt_format, self.tolerance)),
            "token_edit_distance": float(token_edit_distance(result.answer or "", gold)),
        }
        for name, value in item.steps.items():
            out[f"step:{name}"] = float(step_correct(value, f"{result.reasoning}\n{result.answer or ''}"))
        return out


def score_of(dataset: Dataset, item: Item, result: Result, prompt_format: str) -> dict[str, float | None]:
    """Call `dataset.score`, passing the prompt format only to overrides that take it."""
    if _takes_format(type(dataset)):
        return dataset.score(item, result, prompt_format)  # type: ignore[call-arg]
    return dataset.score(item, result)  # type: ignore[call-arg]


@functools.cache
def _takes_format(cls: type[Dataset]) -> bool:
    try:
        params = list(inspect.signature(cls.score).parameters.values())[1:]  # without self
    except (TypeError, ValueError):
        return True
    return any(p.name == "prompt_format" or p.kind is inspect.Parameter.VAR_POSITIONAL for p in params) \
        or len(params) >= 3


REGISTRY: Registry = Registry("reasonlab.eval.datasets", skip=("base",), group="reasonlab.datasets",
                              kind=Dataset, key="prefix")  # prefix → Dataset class (built-ins, then plugins)


def register(cls: type[Dataset]) -> type[Dataset]:
    """Class decorator: make a dataset available as `prefix:ARG`."""
    if not cls.prefix:
        raise TypeError(f"{cls.__name__} has no prefix")
    REGISTRY[cls.prefix] = cls
    return cls


__all__ = ["Item", "Dataset", "register", "REGISTRY", "render_problem", "match_answer", "score_of", "LETTERS",
           "PROMPT_FORMATS"]
