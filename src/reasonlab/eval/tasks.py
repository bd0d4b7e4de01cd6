"""One evaluation task — (dataset, setting, model, strategy, run, item) — and the progress counts of a run."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Model
from ..strategies import Strategy
from .datasets import Dataset, Item
from .store import Row, TaskKey


@dataclass
class Task:
    key: TaskKey
    dataset: Dataset
    item: Item
    prompt_format: str
    strategy: Strategy
    model: Model
    seed: int


@dataclass
class Progress:
    """Counts for the progress bar: tasks done, correct (primary metric), errors."""

    done: int = 0
    scored: int = 0
    correct: float = 0.0
    errors: int = 0

    def add(self, row: Row, primary: str) -> None:
        self.done += 1
        if row.status == "error":
            self.errors += 1
            return
        v = row.metrics.get(primary)
        if v is not None:
            self.scored += 1
            self.correct += float(v)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None
