"""Exemplar files: JSONL, one worked example per line, validated with file:line errors.

Each line is a JSON object::

    {"question": "...", "solution": "step by step ... The answer is 42.", "answer": "42",
     "id": "optional-name", "task": "optional task type"}

`question`, `solution` and `answer` are required non-empty strings (a number is accepted for
`answer`). Blank lines and lines starting with ``#`` are skipped. Built-in sets live in
``reasonlab/data/exemplars/NAME.jsonl`` and are named by NAME (see `builtin_sets()`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..jsonl import json_object, read_lines

REQUIRED = ("question", "solution", "answer")
OPTIONAL = ("id", "task")

# Which built-in set few-shot strategies use for each answer kind when none is named.
DEFAULT_SET = {"number": "arithmetic", "choice": "multiple-choice", "text": "logic"}
# Which built-in pool similarity selection draws from for each answer kind.
DEFAULT_POOL = {"number": "arithmetic-pool", "choice": "multiple-choice", "text": "logic"}


class ExemplarError(InputError):
    """An exemplar file that cannot be used; the message names the file and line."""


# Report slices that must never serve as exemplars: dataset file (path suffix) → 0-based positions.
RESERVED = {"gsm8k/train.jsonl": (0, 199)}


def check_not_reserved(source: Any, where: str) -> None:
    """Refuse a bootstrapped exemplar whose `source` is an item of a reserved report slice."""
    if not isinstance(source, dict):
        return
    dataset, index = str(source.get("dataset", "")), source.get("index")
    for suffix, (lo, hi) in RESERVED.items():
        if dataset.endswith(suffix) and isinstance(index, int) and lo <= index <= hi:
            raise ExemplarError(f"{where}: this exemplar comes from {suffix} item {index}, inside the reserved "
                                f"report slice {lo}-{hi} (never used as an exemplar)")


@dataclass(frozen=True)
class Exemplar:
    """One worked example: a question, its step-by-step solution, and the final answer."""

    question: str
    solution: str
    answer: str
    id: str = ""
    task: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def _data_dir() -> Path:
    return Path(str(resources.files("reasonlab") / "data" / "exemplars"))


def builtin_sets() -> dict[str, Path]:
    """Built-in exemplar sets by name."""
    return {p.stem: p for p in sorted(_data_dir().glob("*.jsonl"))}


def parse_line(line: str, where: str) -> Exemplar:
    """One JSONL line into an Exemplar; `where` ("file:line") prefixes any error."""
    obj = json_object(line, where, ExemplarError)
    values: dict[str, str] = {}
    for key in REQUIRED:
        v = obj.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and key == "answer":
            v = str(v)
        if not isinstance(v, str) or not v.strip():
            what = "missing" if key not in obj else "empty or not a string"
            raise ExemplarError(f"{where}: field {key!r} is {what} (required: {', '.join(REQUIRED)})")
        values[key] = v.strip()
    for key in OPTIONAL:
        if key in obj and not isinstance(obj[key], str):
            raise ExemplarError(f"{where}: field {key!r} must be a string")
    extra = {k: v for k, v in obj.items() if k not in REQUIRED and k not in OPTIONAL}
    check_not_reserved(extra.get("source"), where)
    return Exemplar(values["question"], values["solution"], values["answer"],
                    id=obj.get("id", ""), task=obj.get("task", ""), extra=extra)


def load_file(path: str | Path) -> list[Exemplar]:
    """All exemplars of a JSONL file; ExemplarError names file and line of the first bad one."""
    p = Path(path)
    if not p.is_file():
        raise ExemplarError(f"exemplar file not found: {p}")
    out: list[Exemplar] = []
    for where, lineno, line in read_lines(p, ExemplarError, comments=True):
        ex = parse_line(line, where)
        if not ex.id:
            ex = Exemplar(ex.question, ex.solution, ex.answer, id=f"{p.stem}:{lineno}", task=ex.task,
                          extra=ex.extra)
        out.append(ex)
    if not out:
        raise ExemplarError(f"{p}: no exemplars in the file")
    return out


def looks_like_path(value: str) -> bool:
    """A file path rather than a set name: has a folder part, a suffix, or starts with '~' or '.'."""
    return "/" in value or "\\" in value or value.startswith(("~", ".")) or bool(Path(value).suffix)


def load(name_or_path: str, allow_paths: bool = True) -> list[Exemplar]:
    """A built-in set by name (e.g. "arithmetic") or, where `allow_paths`, a JSONL file by path.

    A bare name never reads a file of the working directory: it is a built-in set or an error
    that reveals nothing about the filesystem.
    """
    sets = builtin_sets()
    if name_or_path in sets:
        return load_file(sets[name_or_path])
    if allow_paths and looks_like_path(name_or_path):
        return load_file(Path(name_or_path).expanduser())
    raise ExemplarError(f"unknown exemplar set {name_or_path!r} (built-in: {', '.join(sets)}; "
                        "or give a path to a .jsonl file)")


def resolve(name_or_path: str, kind: str, pool: bool = False) -> tuple[str, list[Exemplar]]:
    """("auto" → the built-in set for the answer kind) → (name used, exemplars)."""
    name = name_or_path
    if name in ("", "auto"):
        name = (DEFAULT_POOL if pool else DEFAULT_SET).get(kind, DEFAULT_SET["number"])
    return name, load(name)
