"""`mystery-blocksworld:N_BLOCKS[:COUNT[:SEED]]`: the same problems as `blocksworld:` with actions
and predicates renamed to unrelated words (Mystery Blocksworld), to separate planning from
recall of a familiar domain."""

from __future__ import annotations

from .base import register
from .blocksworld import _BlocksworldBase


@register
class MysteryBlocksworldDataset(_BlocksworldBase):
    prefix = "mystery-blocksworld"
    description = "Mystery Blocksworld (names replaced by unrelated words): N_BLOCKS[:COUNT[:SEED]]."
    variant = "mystery"
