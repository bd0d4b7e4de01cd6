"""Smooth (log-probability) metrics of a task, scored through a `RunContext`.

Each strategy is asked for its prompt (`Strategy.prompt`): where it gives one, the gold answer
and options are scored under it and the metrics belong to the strategy's row. Where it gives none
(the answer comes after reasoning the model writes), the item is scored once per (dataset,
setting, model) under the `direct` strategy's prompt and stored as a model-level figure — never
copied onto every strategy's row.
"""

from __future__ import annotations

import threading

from ..cache import Cache
from ..context import RunContext
from ..problem import Problem
from ..strategies import Strategy, get_strategy
from .datasets import LETTERS, Item
from .metrics import smooth_metrics
from .store import ModelItem, Store
from .tasks import Task

Metrics = dict[str, float | None]


def scoring_options(item: Item, prompt_format: str) -> list[str] | None:
    """The option texts scored for a multiple-choice item (letters in the adversarial format)."""
    if not (item.is_choice and item.choices):
        return None
    return list(LETTERS[: len(item.choices)]) if prompt_format == "closed-adversarial" else list(item.choices)


def empty_metrics(options: list[str] | None) -> Metrics:
    """The smooth metric names of an item, all missing (the backend cannot score log-probabilities)."""
    return dict.fromkeys(["gold_logprob"] + (["brier", "mc_grade", "gold_prob"] if options else []))


class SmoothScorer:
    """Scores tasks' smooth metrics; model-level figures are computed once and written to the store."""

    def __init__(self, store: Store, cache: Cache | None, can_score: dict[str, bool]) -> None:
        self.store = store
        self.cache = cache
        self.can_score = can_score  # model spec → the backend scores log-probabilities
        self._direct: Strategy = get_strategy("direct")
        self._lock = threading.Lock()
        self._claimed: set[ModelItem] = set(store.model_metrics())  # done in an earlier run, or in flight

    def row_metrics(self, task: Task, problem: Problem, cancel: threading.Event) -> tuple[Metrics, int]:
        """Metrics for the task's own row (empty when it has no prompt) and the scoring calls made."""
        prompt = task.strategy.prompt(problem)
        if prompt is None:
            return {}, self._model_level(task, problem, cancel)
        return self._score(task, prompt, cancel)

    def _model_level(self, task: Task, problem: Problem, cancel: threading.Event) -> int:
        k = task.key
        key = ModelItem(k.dataset, k.setting, k.model, k.item_id)
        with self._lock:
            if key in self._claimed:
                return 0
            self._claimed.add(key)
        try:
            prompt = self._direct.prompt(problem)
            assert prompt is not None
            metrics, calls = self._score(task, prompt, cancel)
            self.store.put_model_metrics(key, metrics, prompt="direct")
        except BaseException:
            with self._lock:
                self._claimed.discard(key)  # another task (or the next run) scores it
            raise
        return calls

    def _score(self, task: Task, prompt: list[dict[str, str]], cancel: threading.Event) -> tuple[Metrics, int]:
        gold, _ = task.item.gold_for(task.prompt_format)
        options = scoring_options(task.item, task.prompt_format)
        if not self.can_score.get(task.key.model, False):
            return empty_metrics(options), 0
        ctx = RunContext(task.model, self.cache, seed=task.seed, cancel=cancel)
        metrics = smooth_metrics(ctx, prompt, gold, options, task.item.gold_index)
        return metrics, len(ctx.calls)
