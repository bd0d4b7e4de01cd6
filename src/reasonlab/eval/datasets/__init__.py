"""Evaluation datasets: one module per SPEC prefix, discovered automatically.

`load_dataset("jsonl:data/gsm8k.jsonl")` → a `Dataset`; see `base.py` for how to add one.
"""

from __future__ import annotations

from ...errors import InputError
from .base import (
    LETTERS,
    PROMPT_FORMATS,
    REGISTRY,
    Dataset,
    Item,
    match_answer,
    register,
    render_problem,
    score_of,
)

__all__ = ["Dataset", "Item", "REGISTRY", "register", "load_dataset", "list_datasets", "render_problem",
           "match_answer", "score_of", "LETTERS", "PROMPT_FORMATS"]

def list_datasets() -> dict[str, type[Dataset]]:
    return REGISTRY.sorted()


def load_dataset(spec: str) -> Dataset:
    """Build a dataset from `PREFIX:ARG`; InputError for an unknown prefix or a bad argument."""
    REGISTRY.loaded()
    prefix, sep, arg = (spec or "").partition(":")
    if not sep:
        raise InputError(f"dataset spec {spec!r} needs the form PREFIX:ARG (known: {', '.join(sorted(REGISTRY))})")
    cls = REGISTRY.get(prefix.strip())
    if cls is None:
        raise InputError(f"unknown dataset {prefix!r} in {spec!r} (known: {', '.join(sorted(REGISTRY))})")
    return cls(arg.strip())
