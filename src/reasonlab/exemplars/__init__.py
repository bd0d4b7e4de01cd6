"""Worked examples for few-shot prompting: built-in sets, JSONL loading, selection by procedure."""

from .loader import (
    DEFAULT_POOL,
    DEFAULT_SET,
    Exemplar,
    ExemplarError,
    builtin_sets,
    load,
    load_file,
    parse_line,
    resolve,
)
from .select import Selection, procedure_text, select, tfidf_scores
from .symbolic import shape_text, symbolic_programs, task_of

__all__ = ["DEFAULT_POOL", "DEFAULT_SET", "Exemplar", "ExemplarError", "builtin_sets", "load", "load_file",
           "parse_line", "resolve", "Selection", "procedure_text", "select", "tfidf_scores", "shape_text",
           "symbolic_programs", "task_of"]
