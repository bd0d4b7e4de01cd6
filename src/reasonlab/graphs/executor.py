"""Run graphs and flowcharts: bind inputs, then hand a validated spec to the graph scheduler
(graph_runner.py) or the flowchart interpreter (flowchart.py). Both record into one RunBook
(bookkeeping.py) and run single nodes through one StepRunner (steps.py).

A global step budget bounds the work. A failing node, or the budget running out, ends the run
with status "error", an error message naming the node, and the partial answers/state kept.
"""

from __future__ import annotations

from os import PathLike
from typing import Any

from ..context import RunContext
from .bookkeeping import RunBook
from .flowchart import FlowchartRunner
from .graph_runner import GraphRunner
from .outcome import GraphRun
from .spec import Flowchart, Graph, GraphError, Spec
from .steps import DEFAULT_MAX_TOKENS, StepRunner
from .validate import check
from .values import coerce

DEFAULT_CONCURRENCY = 4

__all__ = ["Executor", "bind_inputs", "run", "run_spec"]


class Executor:
    """Runs a validated spec on a RunContext (so a strategy shares its cache, trace and budget).

    concurrency: most nodes/arms running at once (default: the spec's, else 4); max_steps: the
    global step budget (default: the spec's, else every node once plus every loop's maximum);
    temperature/max_tokens: defaults for ask steps that set none.
    """

    def __init__(self, ctx: RunContext, *, concurrency: int | None = None, max_steps: int | None = None,
                 temperature: float = 0.0, max_tokens: int = DEFAULT_MAX_TOKENS, label_prefix: str = "node") -> None:
        self.ctx = ctx
        self.concurrency = concurrency
        self.max_steps = max_steps
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.label_prefix = label_prefix

    def run(self, spec: Spec, inputs: dict[str, Any]) -> GraphRun:
        """Execute `spec` (validated beforehand) with bound inputs (see `bind_inputs`)."""
        workers = max(1, self.concurrency or spec.concurrency or DEFAULT_CONCURRENCY)
        book = RunBook(self.ctx, spec, max_steps=self.max_steps, workers=workers)
        steps = StepRunner(self.ctx, book, temperature=self.temperature, max_tokens=self.max_tokens,
                           label_prefix=self.label_prefix)
        if isinstance(spec, Flowchart):
            return FlowchartRunner(book, steps).run(spec, inputs)
        if not isinstance(spec, Graph):
            raise TypeError(f"expected a Graph or Flowchart, got {type(spec).__name__}")
        return GraphRunner(book, steps).run(spec, inputs)


def bind_inputs(spec: Spec, given: dict[str, Any], *, strict: bool = True) -> dict[str, Any]:
    """Declared inputs with defaults applied and types coerced; unknown or missing → GraphError,
    a value of the wrong type → InputError."""
    out: dict[str, Any] = {}
    unknown = [k for k in given if k not in spec.inputs]
    if unknown and strict:
        known = ", ".join(spec.inputs) or "none"
        raise GraphError(f"unknown input {unknown[0]!r} (inputs: {known})", source=spec.source)
    for name, var in spec.inputs.items():
        if name in given:
            out[name] = coerce(given[name], var.type, f"input {name!r}")
        elif var.default is not None:
            out[name] = coerce(var.default, var.type, f"input {name!r}")
        elif var.required:
            raise GraphError(f"missing input {name!r} (pass --input {name}=VALUE)", source=spec.source)
        else:
            out[name] = None
    return out


def run_spec(spec: Spec, model: Any = "smollm2", inputs: dict[str, Any] | None = None, *,
             ctx: RunContext | None = None, cache: Any = None, **kw: Any) -> GraphRun:
    """Validate `spec`, bind `inputs` and execute it on `model` (a spec string or Model), or on an
    existing `ctx`. Keyword arguments go to Executor (concurrency, max_steps, temperature, max_tokens)."""
    check(spec)
    bound = bind_inputs(spec, dict(inputs or {}))
    if ctx is None:
        from ..models import load_model

        ctx = RunContext(load_model(model), cache)
    return Executor(ctx, **kw).run(spec, bound)


def run(spec: Spec | str | PathLike[str], model: Any = "smollm2", *, cache: Any = True, seed: int = 0,
        max_calls: int | None = None, listeners: list[Any] | None = None, cancel: Any = None,
        concurrency: int | None = None, max_steps: int | None = None, temperature: float = 0.0,
        max_tokens: int = DEFAULT_MAX_TOKENS, inputs: dict[str, Any] | None = None, **more_inputs: Any) -> GraphRun:
    """Run a graph or flowchart (a spec, or a path to a YAML/JSON file) on `model` — the graph
    counterpart of `reasonlab.run`: the same model, cache, seed, call limit, listeners and cancel
    arguments; the spec's inputs as keyword arguments (or as `inputs=` when an input's name is one
    of these arguments). Returns a GraphRun (status "error" with
    partial results when a node fails); raises InputError/GraphError for a bad spec or inputs."""
    if isinstance(spec, (str, PathLike)):
        from .loading import load

        spec = load(spec)
    check(spec)
    bound = bind_inputs(spec, {**(inputs or {}), **more_inputs})
    from ..models import load_model

    if cache is True:
        from ..cache import Cache

        cache = Cache()
    ctx = RunContext(load_model(model), cache or None, seed=seed, max_calls=max_calls, listeners=listeners,
                     cancel=cancel)
    return Executor(ctx, concurrency=concurrency, max_steps=max_steps, temperature=temperature,
                    max_tokens=max_tokens).run(spec, bound)
