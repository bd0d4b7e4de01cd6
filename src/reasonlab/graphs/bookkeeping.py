"""Run bookkeeping shared by the graph scheduler and the flowchart interpreter: per-node records,
the global step budget, start/end events, the path taken, and the final GraphRun."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..context import Cancelled, DryRunStop, RunContext
from ..errors import ReasonlabError
from .outcome import GraphRun, NodeFailed, NodeRun
from .spec import Node, Spec
from .structure import structure
from .values import to_plain


class Budget:
    """The global step budget: every node run (loop rounds included) takes one step."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self, node: str) -> None:
        with self._lock:
            if self.used >= self.limit:
                raise NodeFailed(node, f"step budget of {self.limit} exhausted at node {node!r}", "budget")
            self.used += 1


def default_budget(spec: Spec) -> int:
    """Every node once plus every loop's maximum rounds of its body, at least 1000."""
    total = 0

    def count(nodes: list[Node], mult: int) -> None:
        nonlocal total
        for n in nodes:
            total += mult
            if n.loop:
                count(n.loop.body, mult * n.loop.max)
            for arm in n.arms or []:
                count(arm, mult)

    count(spec.nodes, 1)
    return max(1000, total)


class RunBook:
    """What one run of `spec` records; thread-safe. `guard` wraps every node execution."""

    def __init__(self, ctx: RunContext, spec: Spec, *, max_steps: int | None, workers: int) -> None:
        self.ctx = ctx
        self.spec = spec
        self.workers = workers
        self.by_id = {n.id: n for n in spec.walk()}
        self.nodes: dict[str, NodeRun] = {}
        for n in spec.nodes:
            self._register(n, None)
        self.budget = Budget(max_steps or spec.max_steps or default_budget(spec))
        self.events: list[tuple[str, str]] = []
        self.path: list[str] = []
        self.lock = threading.Lock()
        self.t0 = time.perf_counter()

    def _register(self, n: Node, parent: str | None) -> None:
        self.nodes[n.id] = NodeRun(n.id, n.kind, parent=parent)
        for b in n.loop.body if n.loop else []:
            self._register(b, n.id)
        for arm in n.arms or []:
            for b in arm:
                self._register(b, n.id)

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def visit(self, step_id: str) -> None:
        """A flowchart step was reached (the path)."""
        with self.lock:
            self.path.append(step_id)

    def _start(self, n: Node, iteration: int | None) -> NodeRun:
        nr = self.nodes[n.id]
        with self.lock:
            nr.status, nr.started, nr.ended = "running", self.now(), None
            self.events.append(("start", n.id))
        if self.ctx.listeners:
            self.ctx.emit("node", {"id": n.id, "kind": n.kind, "status": "running", "iteration": iteration,
                                   "started": nr.started})
        return nr

    def _end(self, nr: NodeRun, answer: Any, iteration: int | None) -> None:
        with self.lock:
            nr.status, nr.answer, nr.ended = "done", answer, self.now()
            nr.runs += 1
            if iteration is not None or nr.runs > 1:
                nr.history.append({"iteration": iteration, "answer": answer, "seconds": nr.seconds})
            self.events.append(("end", nr.id))
        if self.ctx.listeners:
            self.ctx.emit("node", {"id": nr.id, "kind": nr.kind, "status": "done", "answer": to_plain(answer),
                                   "raw": nr.raw, "iteration": iteration, "seconds": nr.seconds})

    def _fail(self, nr: NodeRun, message: str) -> None:
        with self.lock:
            nr.status, nr.error, nr.ended = "error", message, self.now()
            self.events.append(("end", nr.id))
        if self.ctx.listeners:
            self.ctx.emit("node", {"id": nr.id, "kind": nr.kind, "status": "error", "error": message})

    def guard(self, n: Node, fn: Callable[[NodeRun], Any], iteration: int | None = None) -> Any:
        """Run one node: budget, start/end records, and any error turned into NodeFailed(n.id)."""
        self.budget.take(n.id)
        nr = self._start(n, iteration)
        try:
            value = fn(nr)
        except NodeFailed as e:
            self._fail(nr, str(e))
            raise
        except (DryRunStop, Cancelled):
            self._fail(nr, "stopped")
            raise
        except KeyError as e:  # a template reference with no value yet
            self._fail(nr, f"no value for {e}")
            raise NodeFailed(n.id, f"node {n.id!r}: no value for {e}") from None
        except Exception as e:  # noqa: BLE001 - any failure of one node ends the run, named
            msg = str(e) if isinstance(e, ReasonlabError) else f"{type(e).__name__}: {e}"
            self._fail(nr, msg)
            raise NodeFailed(n.id, f"node {n.id!r} failed: {msg}") from e
        self._end(nr, value, iteration)
        return value

    def finish(self, inputs: dict[str, Any], answer: Any, state: dict[str, Any], err: NodeFailed | None,
               output_node: str | None) -> GraphRun:
        """The GraphRun: nodes never started become "skipped"; listeners get "graph_done"."""
        for nr in self.nodes.values():
            if nr.status == "pending":
                nr.status = "skipped"
        spec = self.spec
        run = GraphRun(
            kind=spec.kind, name=spec.name, status="error" if err else "ok", answer=None if err else answer,
            nodes=self.nodes, inputs=inputs, state=state, steps=self.budget.used, max_steps=self.budget.limit,
            seconds=self.now(), error=str(err) if err else None, failed_node=err.node if err else None,
            path=self.path, events=self.events, structure=structure(spec), output_node=output_node)
        if self.ctx.listeners:
            self.ctx.emit("graph_done", {"status": run.status, "answer": to_plain(run.answer), "error": run.error})
        return run
