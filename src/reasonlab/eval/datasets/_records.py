"""Records (dicts) from files and hubs into `Item`s, with field mapping from the SPEC's query.

``jsonl:bbh.jsonl?question=input&answer=target`` reads `input` as the question and `target` as
the answer; ``choices=options`` names the list of options, or several columns (``choices=A,B,C,D``);
``id``, ``kind``, ``solution`` and ``steps`` map the same way. A source field may be a dotted path
into nested objects (``answer=answers.text.0``). A field that is not there gives one line that
names the fields present.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ...answers import answers_match, parse_number
from ...errors import InputError
from .base import LETTERS, Dataset, Item

FIELDS = ("question", "answer", "choices", "id", "kind", "solution", "steps", "meta")
_MISSING = object()


def split_spec(arg: str, options: tuple[str, ...] = ()) -> tuple[str, dict[str, str], dict[str, str]]:
    """``PATH?key=value&…`` → (PATH, field mapping, other options); InputError for an unknown key."""
    path, _, query = arg.partition("?")
    mapping: dict[str, str] = {}
    opts: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in FIELDS:
            if not value:
                raise InputError(f"{arg}: field mapping {key}= names no field")
            mapping[key] = value
        elif key in options:
            opts[key] = value
        else:
            raise InputError(f"{arg}: unknown option {key!r} (fields to map: {', '.join(FIELDS[:-1])}"
                             + (f"; options: {', '.join(options)})" if options else ")"))
    return path, mapping, opts


def _lookup(obj: Any, path: str) -> Any:
    if isinstance(obj, dict) and path in obj:
        return obj[path]
    cur = obj
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return _MISSING
    return cur


def remap(obj: dict[str, Any], mapping: dict[str, str], where: str) -> dict[str, Any]:
    """`obj` with the mapped source fields under their reasonlab names (others are kept as they are)."""
    if not mapping:
        return obj
    out = dict(obj)
    for source in mapping.values():  # a mapped source is consumed: `answer=solution` is no solution too
        for name in source.split(","):
            if name.strip() not in mapping:
                out.pop(name.strip(), None)
    for field, source in mapping.items():
        names = [s.strip() for s in source.split(",")] if field == "choices" and "," in source else [source]
        values = [_lookup(obj, n) for n in names]
        missing = [n for n, v in zip(names, values, strict=True) if v is _MISSING]
        if missing:
            raise InputError(f"{where}: no field {missing[0]!r} for {field} (fields here: {', '.join(map(str, obj))})")
        out[field] = values if len(names) > 1 else values[0]
    return out


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
    if text.isdigit() and int(text) < len(choices):  # an index written as text (CSV)
        return int(text)
    raise InputError(f"{where}: answer {text!r} is none of the choices")


def _choices(raw: Any, where: str) -> list[str]:
    if isinstance(raw, str) and raw.strip().startswith("["):  # a JSON list inside a CSV cell
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            pass
    if hasattr(raw, "tolist"):  # numpy arrays from parquet/pandas
        raw = raw.tolist()
    if not isinstance(raw, (list, tuple)) or len(raw) < 2:
        raise InputError(f"{where}: 'choices' must be a list of at least two texts")
    return [str(c) for c in raw]


def gsm8k_final(answer: str) -> str:
    """The final answer of a GSM8K solution: what follows '####' (commas removed), else the text."""
    m = re.search(r"####\s*(.+?)\s*$", answer, re.S)
    return m.group(1).strip().replace(",", "") if m else answer.strip()


def record_item(obj: dict[str, Any], where: str, index: int | str, mapping: dict[str, str] | None = None) -> Item:
    """One record (already a dict) into an Item; InputError naming `where` (file:line, row N)."""
    obj = remap(obj, mapping or {}, where)
    missing = [k for k in ("question", "answer") if k not in obj]
    if missing:
        hint = " — map yours with ?question=FIELD&answer=FIELD" if not mapping else ""
        raise InputError(f"{where}: missing field {missing[0]!r} (fields here: {', '.join(map(str, obj))}){hint}")
    question = obj["question"]
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{where}: 'question' must be non-empty text")
    raw = obj["answer"]
    if hasattr(raw, "item") and not isinstance(raw, (list, dict, str)):
        raw = raw.item()  # numpy scalars
    if raw is None or isinstance(raw, (list, dict)):
        raise InputError(f"{where}: 'answer' must be text or a number")
    steps = obj.get("steps") or {}
    if not isinstance(steps, dict):
        raise InputError(f"{where}: 'steps' must be an object of step name → answer")
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        meta = {"meta": meta}
    item_id = str(obj["id"]) if obj.get("id") not in (None, "") else str(index)
    if obj.get("choices") not in (None, ""):
        choices = _choices(obj["choices"], where)
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
    return Item(id=item_id, question=question, answer=answer, kind=str(kind),
                steps={k: str(v) for k, v in steps.items()}, meta=meta)


class RecordDataset(Dataset):
    """A dataset read as records: subclasses yield (where, index, dict) from `records()`."""

    options: tuple[str, ...] = ()  # query keys other than field mappings

    def __init__(self, arg: str) -> None:
        super().__init__(arg)
        self.source, self.mapping, self.opts = self.parse_arg(arg)
        self._items: list[Item] | None = None

    def parse_arg(self, arg: str) -> tuple[str, dict[str, str], dict[str, str]]:
        """(source, field mapping, options) from the text after the prefix."""
        return split_spec(arg, self.options)

    def records(self) -> Iterator[tuple[str, int | str, dict[str, Any]]]:
        raise NotImplementedError

    def items(self) -> Iterator[Item]:
        if self._items is None:
            items: list[Item] = []
            seen: set[str] = set()
            for where, index, obj in self.records():
                if not isinstance(obj, dict):
                    raise InputError(f"{where}: expected an object with fields, got {type(obj).__name__}")
                item = record_item(obj, where, index, self.mapping)
                if item.id in seen:
                    raise InputError(f"{where}: duplicate id {item.id!r}")
                seen.add(item.id)
                items.append(item)
            if not items:
                raise InputError(f"{self.name}: no items")
            self._items = items
        yield from self._items


class FileDataset(RecordDataset):
    """A RecordDataset read from a local file (`self.path`)."""

    def parse_arg(self, arg: str) -> tuple[str, dict[str, str], dict[str, str]]:
        whole = Path(arg).expanduser()
        if "?" in arg and whole.is_file():  # a path that itself holds '?' is taken whole
            return str(whole), {}, {}
        path, mapping, opts = split_spec(arg, self.options)
        if not Path(path).expanduser().is_file():
            raise InputError(f"dataset file not found: {Path(path).expanduser()}")
        return str(Path(path).expanduser()), mapping, opts

    @property
    def path(self) -> Path:
        return Path(self.source)
