"""Answer extraction (filters) and normalisation."""

from .filters import Extraction, extract, run_chain, vote_key
from .normalize import answers_match, normalize, normalize_number, parse_number
from .program_values import program_value, render_value, truth_words

__all__ = ["Extraction", "extract", "run_chain", "vote_key", "answers_match", "normalize",
           "normalize_number", "parse_number", "program_value", "render_value", "truth_words"]
