"""Execute one evaluation task: run the strategy, score the result, make the row (errors included)."""

from __future__ import annotations

import threading
import time
import traceback

from ..api import run as run_one
from ..cache import Cache
from ..context import Cancelled
from .datasets import score_of
from .scoring import SmoothScorer
from .store import Row
from .tasks import Task


class TaskRunner:
    """Runs one task with a timeout and the evaluation-wide cancel flag; any failure becomes an error row."""

    def __init__(self, cancel: threading.Event, *, timeout: float | None, cache: Cache | None,
                 scorer: SmoothScorer | None) -> None:
        self.cancel = cancel
        self.timeout = timeout
        self.cache = cache
        self.scorer = scorer  # None: no smooth metrics (--no-smooth)

    def execute(self, task: Task) -> Row:
        """Run and score one task; any failure becomes an error row (never counted correct)."""
        item, fmt = task.item, task.prompt_format
        problem = task.dataset.problem(item, fmt)
        gold, _ = item.gold_for(fmt)
        base = {"key": task.key, "seed": task.seed, "question": item.question, "gold": gold}
        cancel = _Either(self.cancel)
        timer = None
        if self.timeout:
            timer = threading.Timer(self.timeout, cancel.set)
            timer.daemon = True
            timer.start()
        t0 = time.perf_counter()
        try:
            try:
                result = run_one(problem, task.strategy, task.model, cache=self.cache, seed=task.seed,
                                 cancel=cancel)
            except Cancelled:
                if self.cancel.is_set():
                    raise
                return Row(**base, status="error", seconds=time.perf_counter() - t0,
                           error=f"timeout after {self.timeout:g}s")
            except Exception as e:  # noqa: BLE001 - any failure of one item is recorded, not fatal
                return Row(**base, status="error", seconds=time.perf_counter() - t0,
                           error=f"{type(e).__name__}: {e}".strip()[:500],
                           details={"traceback": traceback.format_exc(limit=6)[-2000:]})
            scoring_calls = 0
            try:
                metrics = score_of(task.dataset, item, result, fmt)
                if self.scorer is not None:
                    smooth, scoring_calls = self.scorer.row_metrics(task, problem, cancel)
                    metrics.update(smooth)
            except Cancelled:
                if self.cancel.is_set():
                    raise
                return Row(**base, status="error", seconds=time.perf_counter() - t0,
                           error=f"timeout after {self.timeout:g}s (while scoring)")
            except Exception as e:  # noqa: BLE001
                return Row(**base, status="error", seconds=result.usage.seconds,
                           error=f"scoring failed: {type(e).__name__}: {e}"[:500])
        finally:
            if timer is not None:
                timer.cancel()
        u = result.usage
        prompt_tokens = sum(c.prompt_tokens for c in result.calls if c.kind == "generate")
        completion_tokens = sum(c.completion_tokens for c in result.calls if c.kind == "generate")
        details = {"reasoning": result.reasoning[:4000], "note": result.note, "cached_calls": u.cached_calls,
                   "strategy": result.details}  # votes with confidences, programs, the tree: `reasonlab show`
        if scoring_calls:
            details["scoring_calls"] = scoring_calls
        return Row(**base, status=result.status, prediction=result.answer, strict_answer=result.strict_answer,
                   metrics=metrics, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                   calls=len(result.calls), seconds=u.seconds, details=details)


class _Either(threading.Event):
    """A run's cancel flag: set by its own timeout or by the evaluation-wide cancel."""

    def __init__(self, parent: threading.Event) -> None:
        super().__init__()
        self.parent = parent

    def is_set(self) -> bool:
        return super().is_set() or self.parent.is_set()
