"""`jsonl:PATH`: one JSON object per line with `question` and `answer` (GSM8K style supported).

Fields: `question` (text), `answer` (text or number; a GSM8K answer "… #### 42" gives "42"),
optional `id`, `choices` (list of option texts; then `answer` is the correct option's text,
its letter "B", or its 0-based index as a number), `kind` (number|choice|text), `steps`
(object of intermediate-step answers), `solution` (a worked solution, used when items serve as
few-shot exemplars; a GSM8K answer's text before '####' is one) and `meta`. Blank lines are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ...answers import answers_match, parse_number
from ...errors import InputError
from ...jsonl import json_object, read_lines
from .base import LETTERS, Dataset, Item, register

_HASH = re.compile(r"####\s*(.+?)\s*$", re.S)


def gsm8k_final(answer: str) -> str:
    """The final answer of a GSM8K solution: what follows '####' (commas removed), else the text."""
    m = _HASH.search(answer)
    if not m:
        return answer.strip()
    return m.group(1).strip().replace(",", "")


def _gold_index(answer: object, choices: list[str], where: str) -> int:
    if isinstance(answer, int) and not isinstance(answer, bool):
        if 0 <= answer < len(choices):
            return answer
        raise InputError(f"{where}: answer index {answer} is outside the {len(choices)} choices")
    text = str(answer).strip()
    for i, c in enumerate(choices):
        if answers_match(text, c, "text"):
            return i
    letter = text.strip("() .").upper()
    if len(letter) == 1 and letter in LETTERS[: len(choices)]:
        return LETTERS.index(letter)
    raise InputError(f"{where}: answer {text!r} is none of the choices")


def parse_line(line: str, where: str, index: int) -> Item | None:
    """One JSONL line into an Item (None for a blank line); InputError naming `where` (file:line)."""
    if not line.strip():
        return None
    obj = json_object(line, where)
    missing = [k for k in ("question", "answer") if k not in obj]
    if missing:
        raise InputError(f"{where}: missing field {missing[0]!r}")
    question = obj["question"]
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{where}: 'question' must be non-empty text")
    raw = obj["answer"]
    if raw is None or isinstance(raw, (list, dict)):
        raise InputError(f"{where}: 'answer' must be text or a number")
    choices = obj.get("choices")
    steps = obj.get("steps") or {}
    if not isinstance(steps, dict):
        raise InputError(f"{where}: 'steps' must be an object of step name → answer")
    meta = obj.get("meta") or {}
    item_id = str(obj.get("id", index))
    if choices is not None:
        if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) for c in choices):
            raise InputError(f"{where}: 'choices' must be a list of at least two texts")
        gi = _gold_index(raw, choices, where)
        return Item(id=item_id, question=question, answer=choices[gi], kind="choice", choices=choices,
                    gold_index=gi, steps={k: str(v) for k, v in steps.items()}, meta=meta)
    answer = gsm8k_final(raw) if isinstance(raw, str) else str(raw)
    if isinstance(raw, str) and "####" in raw and "solution" not in meta:
        # GSM8K: the worked solution before '####' (calculator annotations <<…>> removed)
        meta = {**meta, "solution": re.sub(r"<<[^>]*>>", "", raw.split("####")[0]).strip()}
    if isinstance(obj.get("solution"), str):
        meta = {**meta, "solution": obj["solution"]}
    kind = obj.get("kind") or ("number" if parse_number(answer) is not None and
                                len(answer) < 32 and not re.search(r"[A-Za-z]{3,}", answer) else "text")
    return Item(id=item_id, question=question, answer=answer, kind=kind,
                steps={k: str(v) for k, v in steps.items()}, meta=meta)


@register
class JsonlDataset(Dataset):
    prefix = "jsonl"
    description = "A local JSONL file: question/answer per line (GSM8K '#### N' answers, optional choices)."

    def __init__(self, arg: str) -> None:
        super().__init__(arg)
        self.path = Path(arg).expanduser()
        if not self.path.is_file():
            raise InputError(f"dataset file not found: {self.path}")
        self._items: list[Item] | None = None

    def items(self) -> Iterator[Item]:
        if self._items is None:
            items: list[Item] = []
            seen: set[str] = set()
            for where, lineno, line in read_lines(self.path):
                item = parse_line(line, where, lineno)
                if item is None:
                    continue
                if item.id in seen:
                    raise InputError(f"{where}: duplicate id {item.id!r}")
                seen.add(item.id)
                items.append(item)
            if not items:
                raise InputError(f"{self.path}: no items")
            self._items = items
        yield from self._items
