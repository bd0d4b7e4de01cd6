"""The flowchart interpreter: steps in order, branches, loops, and parallel arms whose writes are
merged into the typed state by each key's join rule (last/first/append/union/sum/max/min)."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import InputError
from .bookkeeping import RunBook
from .expr import evaluate
from .outcome import GraphRun, NodeFailed, NodeRun
from .spec import END, Flowchart, Node, Var
from .steps import StepRunner
from .templates import render
from .values import coerce


class FlowchartRunner:
    """Runs a validated Flowchart; records go to `book`, single steps run through `steps`."""

    def __init__(self, book: RunBook, steps: StepRunner) -> None:
        self.book, self.steps = book, steps

    def run(self, f: Flowchart, inputs: dict[str, Any]) -> GraphRun:
        state = {k: copy.deepcopy(v.default) for k, v in f.state.items()}
        err: NodeFailed | None = None
        answer: Any = None
        out: tuple[str, Any] | None = None
        try:
            out = self._sequence(f.nodes, f, state, inputs, f.start, None, None)
            answer = out[1] if out else None
        except NodeFailed as e:
            err = e
        return self.book.finish(inputs, answer, state, err, out[0] if out else None)

    def _write(self, f: Flowchart, state: dict[str, Any], key: str, value: Any, node: str,
               log: list[tuple[str, Any]] | None) -> None:
        var = f.state[key]
        apply_join(var, state, key, value, node)
        if log is not None:
            log.append((key, value))

    def _sequence(self, steps: list[Node], f: Flowchart, state: dict[str, Any], inputs: dict[str, Any],
                  start: str | None, iteration: int | None,
                  log: list[tuple[str, Any]] | None) -> tuple[str, Any] | None:
        """Run steps from `start`; returns (output step id, value) when an output step ran, else None."""
        index = {s.id: i for i, s in enumerate(steps)}
        i: int | None = index[start] if start else 0
        while i is not None and i < len(steps):
            s = steps[i]
            fall = steps[i + 1].id if i + 1 < len(steps) else None
            self.book.visit(s.id)
            env = {**inputs, **state}
            if iteration is not None:
                env["iteration"] = iteration
            target: str | None = s.next or fall
            if s.kind == "output":
                value = self.book.guard(s, lambda nr, s=s, env=env: render(s.output, env)
                                    if isinstance(s.output, str) else s.output, iteration)
                return (s.id, value)
            if s.kind == "branch":
                assert s.branch is not None
                taken = self.book.guard(s, lambda nr, s=s, env=env: self.steps.cond(s.branch, env, s, nr, iteration),
                                    iteration)
                target = s.then if taken else (s.else_ or s.next or fall)
            elif s.kind == "compute" and isinstance(s.compute, dict):
                def comp(nr: NodeRun, s: Node = s, env: dict[str, Any] = env) -> dict[str, Any]:
                    local = dict(env)
                    done: dict[str, Any] = {}
                    for k, e in (s.compute or {}).items():  # type: ignore[union-attr]
                        local[k] = done[k] = evaluate(e, local)
                        self._write(f, state, k, local[k], s.id, log)
                        local[k] = state[k]
                    return done
                self.book.guard(s, comp, iteration)
            elif s.kind == "loop":
                out = self.book.guard(s, lambda nr, s=s: self._flow_loop(s, nr, f, state, inputs, log), iteration)
                if isinstance(out, tuple):
                    return out
            elif s.kind == "parallel":
                out = self.book.guard(s, lambda nr, s=s: self._parallel(s, f, state, inputs, iteration, log), iteration)
                if isinstance(out, tuple):
                    return out
            else:
                def basic(nr: NodeRun, s: Node = s, env: dict[str, Any] = env) -> Any:
                    value = self.steps.basic(s, env, "", nr, iteration)
                    if s.set:
                        self._write(f, state, s.set, value, s.id, log)
                    return value
                self.book.guard(s, basic, iteration)
            if target is None or target == END:
                return None
            i = index[target]
        return None

    def _flow_loop(self, s: Node, nr: NodeRun, f: Flowchart, state: dict[str, Any], inputs: dict[str, Any],
                   log: list[tuple[str, Any]] | None) -> Any:
        lp = s.loop
        assert lp is not None
        exited, rounds = False, 0
        for it in range(lp.max):
            out = self._sequence(lp.body, f, state, inputs, None, it, log)
            rounds = it + 1
            if out is not None:
                nr.iterations = rounds
                return out
            env = {**inputs, **state, "iteration": it}
            if lp.until is not None and self.steps.cond(lp.until, env, s, nr, it):
                exited = True
                break
        nr.end_loop(rounds, exited, lp.max, lp.on_max)
        return rounds

    def _parallel(self, s: Node, f: Flowchart, state: dict[str, Any], inputs: dict[str, Any],
                  iteration: int | None, log: list[tuple[str, Any]] | None) -> Any:
        arms = s.arms or []
        logs: list[list[tuple[str, Any]]] = [[] for _ in arms]

        def arm(k: int) -> Any:
            return self._sequence(arms[k], f, copy.deepcopy(state), inputs, None, iteration, logs[k])

        workers = min(len(arms), self.book.workers)
        if workers <= 1:
            results = [arm(k) for k in range(len(arms))]
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="reasonlab-arm") as pool:
                futures = [pool.submit(arm, k) for k in range(len(arms))]
                errors = [fu.exception() for fu in futures]
                first = next((e for e in errors if e is not None), None)
                if first is not None:
                    raise first
                results = [fu.result() for fu in futures]
        # The join: every arm's writes, in arm order, through each key's join rule.
        for k_log in logs:
            for key, value in k_log:
                self._write(f, state, key, value, s.id, log)
        return {"arms": len(arms), "writes": sum(len(x) for x in logs), "results": results}


def apply_join(var: Var, state: dict[str, Any], key: str, value: Any, node: str) -> None:
    """Write `value` to state[key] through the key's join rule (last/first/append/sum/max/min/union)."""
    try:
        rule = var.join
        if rule == "append":
            state[key] = [*(state.get(key) or []), value]
            return
        if rule == "union":
            items = list(state.get(key) or [])
            for v in value if isinstance(value, list) else [value]:
                if v not in items:
                    items.append(v)
            state[key] = items
            return
        v = coerce(value, var.type, f"state key {key!r}")
        old = state.get(key)
        if rule == "last" or old is None:
            state[key] = v
        elif rule == "first":
            return
        elif rule == "sum":
            state[key] = coerce(old, "number") + coerce(v, "number")
        elif rule == "max":
            state[key] = max(old, v)
        elif rule == "min":
            state[key] = min(old, v)
    except (InputError, TypeError) as e:
        raise NodeFailed(node, f"node {node!r}: cannot write {key!r}: {e}") from None
