"""Generated Blocksworld datasets (PlanBench style), each instance with the planner's optimal plan
as gold and a one-shot example drawn from a separate stream. COUNT defaults to 20, SEED to 0.

- `blocksworld:N_BLOCKS[:COUNT[:SEED]]`: plain English about coloured blocks;
- `mystery-blocksworld:…`: the same problems with actions and predicates renamed to unrelated
  words (Mystery Blocksworld), to separate planning from recall of a familiar domain;
- `random-blocksworld:…`: the same problems with random letter strings as names.
"""

from __future__ import annotations

from collections.abc import Iterator

from ._planning import PlanningDataset, blocksworld_items, parse_count_seed
from .base import Item, register


class _BlocksworldBase(PlanningDataset):
    variant = "plain"

    def __init__(self, arg: str) -> None:
        super().__init__(arg)
        self.n_blocks, self.count, self.seed = parse_count_seed(arg, f"{self.prefix}:{arg}")

    def items(self) -> Iterator[Item]:
        yield from blocksworld_items(self.n_blocks, self.count, self.seed, self.variant)


@register
class BlocksworldDataset(_BlocksworldBase):
    prefix = "blocksworld"
    description = "Generated Blocksworld planning problems: N_BLOCKS[:COUNT[:SEED]] (plain English)."
    variant = "plain"


@register
class MysteryBlocksworldDataset(_BlocksworldBase):
    prefix = "mystery-blocksworld"
    description = "Mystery Blocksworld (names replaced by unrelated words): N_BLOCKS[:COUNT[:SEED]]."
    variant = "mystery"


@register
class RandomBlocksworldDataset(_BlocksworldBase):
    prefix = "random-blocksworld"
    description = "Blocksworld with random letter strings for actions and predicates: N_BLOCKS[:COUNT[:SEED]]."
    variant = "random"
