"""The graph scheduler: every node whose dependencies are done is submitted to a bounded pool of
worker threads (at most `concurrency` at a time); a loop node re-runs its body sub-graph until its
exit condition holds or its `max` is reached. The first failure stops new nodes from starting."""

from __future__ import annotations

import queue
import threading
from collections import deque
from typing import Any

from ..context import Cancelled
from .bookkeeping import RunBook
from .outcome import GraphRun, NodeFailed, NodeRun
from .refs import graph_refs
from .spec import Graph, Node
from .steps import StepRunner
from .structure import graph_output
from .templates import render
from .values import to_plain


class GraphRunner:
    """Runs a validated Graph; records go to `book`, single nodes run through `steps`."""

    def __init__(self, book: RunBook, steps: StepRunner) -> None:
        self.book, self.steps = book, steps

    def run(self, g: Graph, inputs: dict[str, Any]) -> GraphRun:
        top = {n.id: n for n in g.nodes}
        deps = {n.id: [r for r in graph_refs(n) if r in top and r != n.id] for n in g.nodes}
        answers: dict[str, Any] = {}
        err: NodeFailed | None = None
        try:
            self._schedule(g.nodes, deps, answers, inputs)
        except NodeFailed as e:
            err = e
        out = graph_output(g)
        return self.book.finish(inputs, answers.get(out), answers, err, out)

    def _schedule(self, nodes: list[Node], deps: dict[str, list[str]], answers: dict[str, Any],
                  inputs: dict[str, Any]) -> None:
        """Ready-queue scheduling. `self.book.workers` threads take ready nodes from a shared queue; a
        worker that finishes a node counts down its children and queues those now ready. The first
        failure stops new nodes from starting; it is raised once the nodes in flight finish."""
        by_id = {n.id: n for n in nodes}
        waiting = {nid: len(set(d)) for nid, d in deps.items()}
        children: dict[str, list[str]] = {nid: [] for nid in by_id}
        for nid, ds in deps.items():
            for d in set(ds):
                children[d].append(nid)
        initial = [n.id for n in nodes if waiting[n.id] == 0]

        if self.book.workers == 1:  # no threads needed: run in dependency order on this thread
            ready = deque(initial)
            while ready:
                nid = ready.popleft()
                env = {**inputs, **{d: answers[d] for d in deps[nid]}}
                answers[nid] = self._node(by_id[nid], env, deps[nid])
                for c in children[nid]:
                    waiting[c] -= 1
                    if waiting[c] == 0:
                        ready.append(c)
            return

        todo: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        lock = threading.Lock()
        finished = threading.Event()
        failures: list[BaseException] = []
        remaining = [len(nodes)]

        def worker() -> None:
            while True:
                nid = todo.get()
                if nid is None:
                    return
                if failures:
                    continue  # stopping: drain without starting anything new
                try:
                    env = {**inputs, **{d: answers[d] for d in deps[nid]}}
                    value = self._node(by_id[nid], env, deps[nid])
                except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
                    with lock:
                        failures.append(e)
                    finished.set()
                    continue
                now_ready = []
                with lock:
                    answers[nid] = value
                    remaining[0] -= 1
                    for c in children[nid]:
                        waiting[c] -= 1
                        if waiting[c] == 0:
                            now_ready.append(c)
                    if remaining[0] == 0:
                        finished.set()
                for c in now_ready:
                    todo.put(c)

        threads = [threading.Thread(target=worker, name=f"reasonlab-graph-{k}", daemon=True)
                   for k in range(min(self.book.workers, len(nodes)))]
        for nid in initial:
            todo.put(nid)
        for t in threads:
            t.start()
        try:
            finished.wait()
        finally:
            if not finished.is_set():  # interrupted: let workers drain
                failures.append(Cancelled("run interrupted"))
            for _ in threads:
                todo.put(None)
            for t in threads:
                t.join()
        if failures:
            raise failures[0]

    def _node(self, n: Node, env: dict[str, Any], deps: list[str]) -> Any:
        if n.loop:
            return self.book.guard(n, lambda nr: self._loop(n, nr, env))
        return self.book.guard(n, lambda nr: self.steps.basic(n, *self.steps.with_facts(n, env, deps), nr, None))

    def _loop(self, n: Node, nr: NodeRun, env: dict[str, Any]) -> Any:
        """Re-run the body sub-graph; {current} carries a value between rounds (see spec.Loop)."""
        lp = n.loop
        assert lp is not None
        body = {b.id: b for b in lp.body}
        bdeps = {b.id: [r for r in graph_refs(b) if r in body and r != b.id] for b in lp.body}
        order = _topo(lp.body, bdeps)
        carry = lp.carry or lp.body[-1].id
        current: Any = render(lp.start, env) if lp.start else ""
        rounds = 0
        exited = False
        for it in range(lp.max):
            benv = {**env, "current": current, "iteration": it}
            for b in order:
                benv[b.id] = self.book.guard(b, lambda bnr, b=b, benv=benv, it=it: self.steps.basic(
                    b, *self.steps.with_facts(b, benv, bdeps[b.id]), bnr, it), iteration=it)
            current = benv[carry]
            rounds = it + 1
            benv["current"] = current
            nr.history.append({"iteration": it, "answer": to_plain(current)})
            if lp.until is not None and self.steps.cond(lp.until, benv, n, nr, it):
                exited = True
                break
        nr.end_loop(rounds, exited, lp.max, lp.on_max)
        return current


def _topo(nodes: list[Node], deps: dict[str, list[str]]) -> list[Node]:
    by_id = {n.id: n for n in nodes}
    done: set[str] = set()
    out: list[Node] = []

    def visit(nid: str) -> None:
        if nid in done:
            return
        done.add(nid)
        for d in deps.get(nid, ()):
            visit(d)
        out.append(by_id[nid])

    for n in nodes:
        visit(n.id)
    return out
