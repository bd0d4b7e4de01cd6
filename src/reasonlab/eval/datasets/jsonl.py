"""`jsonl:PATH[?question=F&answer=F&choices=F&id=F]`: one JSON object per line.

Fields: `question` (text), `answer` (text or number; a GSM8K answer "… #### 42" gives "42"),
optional `id`, `choices` (list of option texts; then `answer` is the correct option's text,
its letter "B", or its 0-based index as a number), `kind` (number|choice|text), `steps`
(object of intermediate-step answers), `solution` (a worked solution, used when items serve as
few-shot exemplars; a GSM8K answer's text before '####' is one) and `meta`. Blank lines are skipped.
Files with other field names map them in the query: BIG-Bench Hard's
``jsonl:bbh.jsonl?question=input&answer=target`` (see `_records.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...jsonl import json_object, read_lines
from ._records import FileDataset, gsm8k_final, record_item
from .base import Item, register

__all__ = ["JsonlDataset", "gsm8k_final", "parse_line"]


def parse_line(line: str, where: str, index: int, mapping: dict[str, str] | None = None) -> Item | None:
    """One JSONL line into an Item (None for a blank line); InputError naming `where` (file:line)."""
    if not line.strip():
        return None
    return record_item(json_object(line, where), where, index, mapping)


@register
class JsonlDataset(FileDataset):
    prefix = "jsonl"
    description = ("A local JSONL file: question/answer per line (GSM8K '#### N' answers, optional choices); "
                   "map other field names with ?question=F&answer=F&choices=F&id=F.")

    def records(self) -> Iterator[tuple[str, int | str, dict[str, Any]]]:
        for where, lineno, line in read_lines(self.path):
            yield where, lineno, json_object(line, where)
