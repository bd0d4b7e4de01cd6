"""Run graphs (ready-queue scheduler over a bounded thread pool) and flowcharts (flowchart.py).

Graph: every node whose dependencies are done is submitted; independent nodes run concurrently
(at most `concurrency` at a time); a loop node re-runs its body until its exit condition holds or
its `max` is reached. Flowchart: steps run in order, following branches; loops repeat a body;
parallel arms run concurrently on copies of the state and are merged by each key's join rule.

A global step budget bounds the work. A failing node, or the budget running out, ends the run
with status "error", an error message naming the node, and the partial answers/state kept.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..answers import extract
from ..answers.filters import answer_is, chains, choice_letter, run_chain
from ..context import Cancelled, DryRunStop, RunContext
from ..errors import InputError, ReasonlabError
from .expr import ExprError, _yes, evaluate
from .flowchart import FlowchartRunner, apply_join
from .outcome import GraphRun, NodeFailed, NodeRun
from .spec import END, Cond, Flowchart, Graph, Node, Spec, _fmt, coerce, render, template_refs
from .validate import check

__all__ = ["Executor", "GraphRun", "NodeFailed", "NodeRun", "apply_join", "bind_inputs", "graph_output",
           "parse_answer", "run_spec", "structure"]

DEFAULT_CONCURRENCY = 4
DEFAULT_MAX_TOKENS = 256

_NUMBER_CHAIN = chains("number")[1]

INSTRUCTIONS = {
    "number": "Think briefly, then finish with: The answer is <number>.",
    "text": "Answer briefly, then finish with: The answer is <answer>.",
    "yesno": "Reply with yes or no.",
    "choice": "Finish with: The answer is <letter>.",
    "raw": "",
}


def structure(spec: Spec) -> dict[str, Any]:
    """Nodes and edges of a spec as plain data (for the web page and `--json`)."""
    from .validate import node_refs

    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, str]] = []
    is_graph = isinstance(spec, Graph)

    def add(seq: list[Node], parent: str | None, level_ids: set[str]) -> None:
        ids = [n.id for n in seq]
        for i, n in enumerate(seq):
            nodes.append({"id": n.id, "kind": n.kind, "title": n.title(), "parent": parent, "line": n.line,
                          "answer_kind": n.answer if n.kind == "ask" else None})
            if is_graph:
                try:
                    refs = node_refs(n, True)
                except ExprError:
                    refs = []
                for r in refs:
                    if r in level_ids and r != n.id:
                        edges.append({"from": r, "to": n.id, "label": ""})
            else:
                fall = ids[i + 1] if i + 1 < len(ids) else None
                if n.kind == "branch":
                    for lab, t in (("yes", n.then), ("no", n.else_ or n.next or fall)):
                        if t and t != END:
                            edges.append({"from": n.id, "to": t, "label": lab})
                elif n.kind != "output":
                    t = n.next or fall
                    if t and t != END:
                        edges.append({"from": n.id, "to": t, "label": ""})
            if n.loop:
                add(n.loop.body, n.id, {b.id for b in n.loop.body})
            for k, arm in enumerate(n.arms or []):
                add(arm, n.id, {b.id for b in arm})
                if arm:
                    edges.append({"from": n.id, "to": arm[0].id, "label": f"arm {k + 1}"})

    add(spec.nodes, None, {n.id for n in spec.nodes})
    out = {"kind": spec.kind, "name": spec.name, "nodes": nodes, "edges": edges}
    if isinstance(spec, Graph):
        out["output"] = graph_output(spec)
    return out


def graph_output(g: Graph) -> str | None:
    """The output node: the named one, else the only node nothing depends on, else the last."""
    from .validate import node_refs

    if g.output or not g.nodes:
        return g.output
    used: set[str] = set()
    for n in g.nodes:
        try:
            used |= set(_graph_refs(n, node_refs))
        except ExprError:
            pass
    sinks = [n.id for n in g.nodes if n.id not in used]
    return sinks[0] if len(sinks) == 1 else g.nodes[-1].id


def bind_inputs(spec: Spec, given: dict[str, Any], *, strict: bool = True) -> dict[str, Any]:
    """Declared inputs with defaults applied and types coerced; unknown or missing → InputError."""
    out: dict[str, Any] = {}
    unknown = [k for k in given if k not in spec.inputs]
    if unknown and strict:
        known = ", ".join(spec.inputs) or "none"
        raise InputError(f"{spec.source}: unknown input {unknown[0]!r} (inputs: {known})")
    for name, var in spec.inputs.items():
        if name in given:
            out[name] = coerce(given[name], var.type, f"input {name!r}")
        elif var.default is not None:
            out[name] = coerce(var.default, var.type, f"input {name!r}")
        elif var.required:
            raise InputError(f"{spec.source}: missing input {name!r} (pass --input {name}=VALUE)")
        else:
            out[name] = None
    return out


def parse_answer(text: str, kind: str) -> tuple[Any, str | None]:
    """The answer of a node's reply by its answer kind, and a note when it had to fall back."""
    t = (text or "").strip()
    if kind == "raw":
        return t, None
    if kind == "yesno":
        return _yes(t), None
    if kind == "choice":
        ex = extract(t, "choice")
        paren = re.search(r"\(([A-J])\)", t)
        letter = ex.strict or (paren.group(1) if paren else None) or ex.flexible or choice_letter(t)
        return (letter, None) if letter else (t, "no option letter found; kept the whole reply")
    if kind == "number":
        got, _ = run_chain(t, _NUMBER_CHAIN)  # the flexible chain alone: strict is its prefix
        if got is None:
            return t, "no number found; kept the whole reply"
        try:
            return coerce(got, "number"), None
        except InputError:
            return got, None
    return (answer_is(t) or t), None


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self, node: str) -> None:
        with self._lock:
            if self.used >= self.limit:
                raise NodeFailed(node, f"step budget of {self.limit} exhausted at node {node!r}", "budget")
            self.used += 1


class Executor(FlowchartRunner):
    """Runs a validated spec on a RunContext.

    concurrency: most nodes/arms running at once; max_steps: the global step budget (default:
    the spec's, else enough for every node once plus every loop's maximum);
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
        self._lock = threading.Lock()

    # -- shared machinery -------------------------------------------------------------------
    def _setup(self, spec: Spec) -> None:
        self.spec = spec
        self.by_id = {n.id: n for n in spec.walk()}
        self.nodes: dict[str, NodeRun] = {}
        for n in spec.nodes:
            self._register(n, None)
        limit = self.max_steps or spec.max_steps or _default_budget(spec)
        self.budget = _Budget(limit)
        self.events: list[tuple[str, str]] = []
        self.path: list[str] = []
        self.t0 = time.perf_counter()
        self.workers = max(1, self.concurrency or spec.concurrency or DEFAULT_CONCURRENCY)

    def _register(self, n: Node, parent: str | None) -> None:
        self.nodes[n.id] = NodeRun(n.id, n.kind, parent=parent)
        if n.loop:
            for b in n.loop.body:
                self._register(b, n.id)
        for arm in n.arms or []:
            for b in arm:
                self._register(b, n.id)

    def _now(self) -> float:
        return time.perf_counter() - self.t0

    def _start(self, n: Node, iteration: int | None = None) -> NodeRun:
        nr = self.nodes[n.id]
        with self._lock:
            nr.status, nr.started, nr.ended = "running", self._now(), None
            self.events.append(("start", n.id))
        if self.ctx.listeners:
            self.ctx.emit("node", {"id": n.id, "kind": n.kind, "status": "running", "iteration": iteration,
                                   "started": nr.started})
        return nr

    def _end(self, nr: NodeRun, answer: Any, iteration: int | None = None) -> None:
        with self._lock:
            nr.status, nr.answer, nr.ended = "done", answer, self._now()
            nr.runs += 1
            if iteration is not None or nr.runs > 1:
                nr.history.append({"iteration": iteration, "answer": answer, "seconds": nr.seconds})
            self.events.append(("end", nr.id))
        if self.ctx.listeners:
            self.ctx.emit("node", {"id": nr.id, "kind": nr.kind, "status": "done", "answer": _plain(answer),
                                   "raw": nr.raw, "iteration": iteration, "seconds": nr.seconds})

    def _fail(self, nr: NodeRun, message: str) -> None:
        with self._lock:
            nr.status, nr.error, nr.ended = "error", message, self._now()
            self.events.append(("end", nr.id))
        if self.ctx.listeners:
            self.ctx.emit("node", {"id": nr.id, "kind": nr.kind, "status": "error", "error": message})

    def _guard(self, n: Node, fn: Callable[[NodeRun], Any], iteration: int | None = None) -> Any:
        """Run one node: budget, start/end bookkeeping, and errors turned into NodeFailed(n.id)."""
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

    def _ask_model(self, n: Node, nr: NodeRun, prompt: str, kind: str, iteration: int | None) -> Any:
        instr = INSTRUCTIONS.get(kind, "") if n.instruct else ""
        content = f"{prompt}\n\n{instr}" if instr else prompt
        messages = ([{"role": "system", "content": str(n.system)}] if n.system else []) + \
            [{"role": "user", "content": content}]
        nr.prompt = content
        before = len(self.ctx.calls)
        text = self.ctx.complete(
            messages, label=f"{self.label_prefix}:{n.id}",
            temperature=self.temperature if n.temperature is None else n.temperature,
            max_tokens=n.max_tokens or (16 if kind == "yesno" else self.max_tokens),
            meta={"node": n.id, "iteration": iteration})
        nr.calls += [c.id for c in self.ctx.calls[before:] if c.meta.get("node") == n.id]
        nr.raw = text
        answer, note = parse_answer(text, kind)
        nr.note = note
        return answer

    def _cond(self, c: Cond, env: dict[str, Any], n: Node, nr: NodeRun, iteration: int | None) -> bool:
        if c.expr is not None:
            return bool(evaluate(c.expr, env))
        return bool(self._ask_model(n, nr, render(c.ask or "", env), "yesno", iteration))

    def _basic(self, n: Node, env: dict[str, Any], prefix: str, nr: NodeRun, iteration: int | None) -> Any:
        """ask / compute(str) / tool: the value of the node given an environment."""
        if n.kind == "ask":
            prompt = _as_text(render(n.ask or "", env))
            nr.asked = prompt
            return self._ask_model(n, nr, f"{prefix}\n\n{prompt}" if prefix else prompt, n.answer, iteration)
        if n.kind == "compute" and isinstance(n.compute, str):
            return evaluate(n.compute, env)
        if n.kind == "tool":
            from ..tools import call_tool

            args = {k: (render(v, env) if isinstance(v, str) else v) for k, v in n.args.items()}
            nr.prompt = f"{n.tool}({args})"
            out = call_tool(n.tool or "", args)
            nr.raw = out
            return out
        raise NodeFailed(n.id, f"node {n.id!r}: cannot run a {n.kind} node here")

    def _finish(self, spec: Spec, inputs: dict[str, Any], answer: Any, state: dict[str, Any],
                err: NodeFailed | None, output_node: str | None) -> GraphRun:
        for nr in self.nodes.values():
            if nr.status == "pending":
                nr.status = "skipped"
        run = GraphRun(
            kind=spec.kind, name=spec.name, status="error" if err else "ok", answer=None if err else answer,
            nodes=self.nodes, inputs=inputs, state=state, steps=self.budget.used, max_steps=self.budget.limit,
            seconds=self._now(), error=str(err) if err else None, failed_node=err.node if err else None,
            path=self.path, events=self.events, structure=structure(spec), output_node=output_node)
        if self.ctx.listeners:
            self.ctx.emit("graph_done", {"status": run.status, "answer": _plain(run.answer), "error": run.error})
        return run

    # -- graphs -------------------------------------------------------------------------------
    def run(self, spec: Spec, inputs: dict[str, Any]) -> GraphRun:
        """Execute `spec` (validated beforehand) with bound inputs."""
        self._setup(spec)
        if isinstance(spec, Flowchart):
            return self._run_flowchart(spec, inputs)
        assert isinstance(spec, Graph)
        return self._run_graph(spec, inputs)

    def _run_graph(self, g: Graph, inputs: dict[str, Any]) -> GraphRun:
        from .validate import node_refs

        top = {n.id: n for n in g.nodes}
        deps = {n.id: [r for r in _graph_refs(n, node_refs) if r in top and r != n.id] for n in g.nodes}
        answers: dict[str, Any] = {}
        err: NodeFailed | None = None
        try:
            self._schedule(g.nodes, deps, answers, inputs)
        except NodeFailed as e:
            err = e
        out = graph_output(g)
        return self._finish(g, inputs, answers.get(out), answers, err, out)

    def _schedule(self, nodes: list[Node], deps: dict[str, list[str]], answers: dict[str, Any],
                  inputs: dict[str, Any]) -> None:
        """Ready-queue scheduling. `self.workers` threads take ready nodes from a shared queue; a
        worker that finishes a node counts down its children and queues those now ready. The first
        failure stops new nodes from starting; it is raised once the nodes in flight finish."""
        by_id = {n.id: n for n in nodes}
        waiting = {nid: len(set(d)) for nid, d in deps.items()}
        children: dict[str, list[str]] = {nid: [] for nid in by_id}
        for nid, ds in deps.items():
            for d in set(ds):
                children[d].append(nid)
        initial = [n.id for n in nodes if waiting[n.id] == 0]

        if self.workers == 1:  # no threads needed: run in dependency order on this thread
            ready = deque(initial)
            while ready:
                nid = ready.popleft()
                env = {**inputs, **{d: answers[d] for d in deps[nid]}}
                answers[nid] = self._graph_node(by_id[nid], env, deps[nid])
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
                    value = self._graph_node(by_id[nid], env, deps[nid])
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
                   for k in range(min(self.workers, len(nodes)))]
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

    def _graph_node(self, n: Node, env: dict[str, Any], deps: list[str]) -> Any:
        if n.loop:
            return self._guard(n, lambda nr: self._graph_loop(n, nr, env))
        return self._guard(n, lambda nr: self._basic(n, *self._with_facts(n, env, deps), nr, None))

    def _with_facts(self, n: Node, env: dict[str, Any], deps: list[str]) -> tuple[dict[str, Any], str]:
        """Bind {facts} — the answers of dependencies the prompt does not name, as lines — and
        return it as a prefix too when the prompt has no {facts} of its own."""
        if n.kind != "ask":
            return env, ""
        named = set(template_refs(n.ask or ""))
        hidden = [d for d in deps if d not in named and d in self.nodes]
        if not hidden and "facts" not in named:
            return env, ""
        lines = []
        for d in hidden:
            src = self.by_id.get(d)
            title = ((src.label if src else None) or self.nodes[d].asked
                     or (f"{d} = {src.title()}" if src is not None and src.kind != "loop" else d)).strip()
            lines.append(f"- {title.splitlines()[0] if title else d} → {_fmt(env.get(d))}")
        facts = "Known so far:\n" + "\n".join(lines) if lines else ""
        return {**env, "facts": facts}, ("" if "facts" in named else facts)

    def _graph_loop(self, n: Node, nr: NodeRun, env: dict[str, Any]) -> Any:
        from .validate import node_refs

        lp = n.loop
        assert lp is not None
        body = {b.id: b for b in lp.body}
        bdeps = {b.id: [r for r in _graph_refs(b, node_refs) if r in body and r != b.id] for b in lp.body}
        order = _topo(lp.body, bdeps)
        carry = lp.carry or lp.body[-1].id
        current: Any = render(lp.start, env) if lp.start else ""
        rounds = 0
        exited = False
        for it in range(lp.max):
            benv = {**env, "current": current, "iteration": it}
            for b in order:
                benv[b.id] = self._guard(b, lambda bnr, b=b, benv=benv, it=it: self._basic(
                    b, *self._with_facts(b, benv, bdeps[b.id]), bnr, it), iteration=it)
            current = benv[carry]
            rounds = it + 1
            benv["current"] = current
            nr.history.append({"iteration": it, "answer": _plain(current)})
            if lp.until is not None and self._cond(lp.until, benv, n, nr, it):
                exited = True
                break
        nr.end_loop(rounds, exited, lp.max, lp.on_max)
        return current

    # -- flowcharts ---------------------------------------------------------------------------
def _graph_refs(n: Node, node_refs: Callable[[Node, bool], list[str]]) -> list[str]:
    refs = node_refs(n, True)
    if n.loop:
        inner = {b.id for b in n.loop.body}
        for b in n.loop.body:
            refs += [r for r in node_refs(b, True) if r not in inner]
        if n.loop.until is not None:
            from .validate import _cond_refs

            refs += [r for r in _cond_refs(n.loop.until) if r not in inner]
    return list(dict.fromkeys(refs))


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


def _default_budget(spec: Spec) -> int:
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


def _as_text(v: Any) -> str:
    return v if isinstance(v, str) else _fmt(v)


def _plain(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool, type(None))):
        return v
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return str(v)


def run_spec(spec: Spec, model: Any = "smollm2", inputs: dict[str, Any] | None = None, *,
             ctx: RunContext | None = None, cache: Any = None, **kw: Any) -> GraphRun:
    """Validate `spec`, bind inputs and execute it on `model` (a spec string or Model)."""
    check(spec)
    bound = bind_inputs(spec, dict(inputs or {}))
    if ctx is None:
        from ..models import load_model

        ctx = RunContext(load_model(model), cache)
    return Executor(ctx, **kw).run(spec, bound)
