"""Run a strategy on a question: build the context, solve, and package the Result with its trace."""

from __future__ import annotations

import threading
from typing import Any

from .cache import Cache
from .context import Call, DryRunStop, Listener, RunContext
from .errors import InputError
from .models import Model, load_model
from .models.base import ModelInfo
from .problem import Problem, Result
from .strategies import Strategy, get_strategy


class _NoModel(Model):
    """Stands in for a model during dry runs: never called (the context stops first)."""

    spec = "dry-run"
    identity = "dry-run"

    def generate(self, *a: Any, **k: Any):  # pragma: no cover - the dry-run context never calls it
        raise AssertionError("dry run reached the model")

    def info(self) -> ModelInfo:
        return ModelInfo(spec="dry-run", backend="none")


def _strategy(strategy: str | Strategy, options: dict[str, Any]) -> Strategy:
    if isinstance(strategy, Strategy):
        return strategy
    return get_strategy(strategy, **options)


def run(
    question: str | Problem,
    strategy: str | Strategy = "zero-shot-cot",
    model: str | Model = "smollm2",
    *,
    cache: Cache | bool | None = True,
    seed: int = 0,
    max_calls: int | None = None,
    listeners: list[Listener] | None = None,
    cancel: threading.Event | None = None,
    **options: Any,
) -> Result:
    """Answer `question` with `strategy` on `model`; the Result carries every call made.

    Raises InputError for an empty question, StrategyError for an unknown strategy or option,
    ModelError when the backend fails. A run that finds no answer returns status "no_answer".
    """
    problem = Problem.of(question)
    if not problem.text or not problem.text.strip():
        raise InputError("the question is empty")
    strat = _strategy(strategy, options)
    m = load_model(model)
    if cache is True:
        cache = Cache()
    ctx = RunContext(m, cache if isinstance(cache, Cache) else None, seed=seed, max_calls=max_calls, listeners=listeners, cancel=cancel)
    pred = strat.solve(ctx, problem)
    usage = ctx.usage()
    status = "ok" if pred.answer not in (None, "") else "no_answer"
    result = Result(
        question=problem.text, strategy=strat.name, model=m.spec, answer=pred.answer or None,
        strict_answer=pred.strict, reasoning=pred.reasoning, calls=list(ctx.calls), usage=usage,
        details=pred.details, status=status, note=pred.note, options=_plain(vars(strat.options)),
    )
    if ctx.listeners:
        ctx.emit("result", result.to_dict())
    return result


def preview(question: str | Problem, strategy: str | Strategy = "zero-shot-cot", **options: Any) -> Call:
    """The exact first call a strategy would make, without touching a model."""
    problem = Problem.of(question)
    if not problem.text.strip():
        raise InputError("the question is empty")
    strat = _strategy(strategy, options)
    ctx = RunContext(_NoModel(), None, dry_run=True)
    try:
        strat.solve(ctx, problem)
    except DryRunStop as stop:
        return stop.call
    raise RuntimeError(f"strategy {strat.name!r} finished without calling the model")


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if isinstance(v, (str, int, float, bool, list, dict, type(None)))}
