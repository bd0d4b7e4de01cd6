"""Static checks before anything runs: unknown references, unreachable nodes, cycles outside
loops, loops without an exit or a budget, parallel writes without a join rule, bad expressions."""

from __future__ import annotations

from dataclasses import dataclass

from .expr import ExprError
from .expr import names as expr_names
from .refs import cond_refs, node_refs
from .spec import END, Flowchart, Graph, GraphError, Node, Spec
from .templates import template_refs

LOOP_VARS = ("current", "iteration")
FACTS = "facts"


@dataclass
class Issue:
    message: str
    node: str | None = None
    line: int | None = None

    def render(self, source: str = "") -> str:
        where = f"{source}:{self.line}: " if source and self.line else (f"{source}: " if source else "")
        who = f"node {self.node!r}: " if self.node else ""
        return f"{where}{who}{self.message}"


class ValidationError(GraphError):
    """One or more problems found by `validate`; `.issues` lists them all, the message shows them."""

    def __init__(self, issues: list[Issue], source: str) -> None:
        self.issues = issues
        first = issues[0]
        more = f" (and {len(issues) - 1} more: " + "; ".join(
            (f"line {i.line}: " if i.line else "") + i.render() for i in issues[1:4]) + \
            (" …" if len(issues) > 4 else "") + ")" if len(issues) > 1 else ""
        super().__init__(first.message + more, source=source, line=first.line, node=first.node)


def validate(spec: Spec, *, check_tools: bool = True) -> list[Issue]:
    """Every problem found in `spec` (empty list: it may run)."""
    v = _Validator(spec, check_tools)
    if isinstance(spec, Flowchart):
        v.flowchart(spec)
    else:
        assert isinstance(spec, Graph)
        v.graph(spec)
    return v.issues


def check(spec: Spec, *, check_tools: bool = True) -> Spec:
    """Raise ValidationError when `spec` has problems; return it otherwise."""
    issues = validate(spec, check_tools=check_tools)
    if issues:
        raise ValidationError(issues, spec.source)
    return spec


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """A cycle in a directed graph (node → successors) as a path a → … → a, or None."""
    color: dict[str, int] = {}
    stack: list[str] = []
    for root in edges:
        if color.get(root):
            continue
        it_stack = [(root, iter(edges.get(root, ())))]
        color[root] = 1
        stack.append(root)
        while it_stack:
            node, it = it_stack[-1]
            nxt = next(it, None)
            if nxt is None:
                color[node] = 2
                stack.pop()
                it_stack.pop()
                continue
            if nxt not in edges:
                continue
            c = color.get(nxt, 0)
            if c == 1:
                return stack[stack.index(nxt):] + [nxt]
            if c == 0:
                color[nxt] = 1
                stack.append(nxt)
                it_stack.append((nxt, iter(edges.get(nxt, ()))))
    return None


class _Validator:
    def __init__(self, spec: Spec, check_tools: bool) -> None:
        self.spec = spec
        self.check_tools = check_tools
        self.issues: list[Issue] = []
        self._tools: set[str] | None = None

    def add(self, msg: str, node: Node | None = None, line: int | None = None) -> None:
        self.issues.append(Issue(msg, node.id if node else None, line or (node.line if node else None)))

    def refs(self, n: Node, is_graph: bool) -> list[str]:
        try:
            return node_refs(n, is_graph)
        except ExprError as e:
            self.add(str(e), n)
            return []

    def ids(self) -> None:
        seen: dict[str, Node] = {}
        for n in self.spec.walk():
            if n.id == END:
                self.add(f"{END!r} is reserved (it means: stop here); rename this node", n)
            if isinstance(self.spec, Graph) and n.id in self.spec.inputs:
                self.add(f"id {n.id!r} is also an input name; rename one of them", n)
            if n.id in seen:
                where = f" (first at line {seen[n.id].line})" if seen[n.id].line is not None else ""
                self.add(f"duplicate id {n.id!r}{where}", n)
            seen.setdefault(n.id, n)
        if not self.spec.nodes:
            self.add("no nodes", line=self.spec.line)

    def tool(self, n: Node) -> None:
        if n.kind != "tool" or not self.check_tools:
            return
        if self._tools is None:
            from ..tools import list_tools

            self._tools = set(list_tools())
        if n.tool not in self._tools:
            self.add(f"unknown tool {n.tool!r} (known: {', '.join(sorted(self._tools)) or 'none'})", n)

    # -- graphs ---------------------------------------------------------------------------
    def graph(self, g: Graph) -> None:
        self.ids()
        top = {n.id: n for n in g.nodes}
        inputs = set(g.inputs)
        deps: dict[str, list[str]] = {}
        for n in g.nodes:
            deps[n.id] = self._graph_node(n, top, inputs, scope=None)
        cyc = find_cycle({k: v for k, v in deps.items()})
        if cyc:
            self.add("cycle outside a loop: " + " → ".join(cyc) + " (repeat work with a loop node)", top[cyc[0]])
        out = g.output
        depended = {d for ds in deps.values() for d in ds}
        sinks = [i for i in top if i not in depended]
        if out is None:
            if len(sinks) > 1:
                self.add(f"several final nodes ({', '.join(sinks)}): name the answer with 'output:'",
                         line=g.line)
            return
        if out not in top:
            inner = g.find(out)
            hint = " (it is inside a loop; name the loop instead)" if inner else ""
            self.add(f"output {out!r} is not a node{hint}", line=g.line)
            return
        if cyc:
            return
        used = _ancestors(out, deps)
        for n in g.nodes:
            if n.id not in used:
                self.add(f"unreachable: the output {out!r} does not depend on this node", n)

    def _graph_node(self, n: Node, top: dict[str, Node], inputs: set[str], scope: Node | None) -> list[str]:
        """Check one graph node; return its dependencies at its own level."""
        self.tool(n)
        if n.kind == "compute" and not isinstance(n.compute, str):
            self.add("a graph compute node holds one expression (its answer)", n)
        body_ids = {b.id for b in scope.loop.body} if scope and scope.loop else set()
        deps: list[str] = []
        refs = self.refs(n, True)
        if n.loop:
            if n.loop.until is None:
                self.add("loop without an exit condition ('until')", n)
            body = {b.id: b for b in n.loop.body}
            if n.loop.carry and n.loop.carry not in body:
                self.add(f"loop carry {n.loop.carry!r} is not a node of its body", n)
            for b in n.loop.body:
                if b.loop:
                    self.add("loops cannot be nested in a graph; use a flowchart", b)
            inner: dict[str, list[str]] = {}
            outer_refs: list[str] = []
            for b in n.loop.body:
                bd = self._graph_node(b, top, inputs, scope=n)
                inner[b.id] = [d for d in bd if d in body]
                outer_refs += [d for d in bd if d not in body]
            if n.loop.until:
                try:
                    ur = cond_refs(n.loop.until)
                except ExprError as e:
                    self.add(str(e), n, n.loop.until.line)
                    ur = []
                for r in ur:
                    if r in body or r in LOOP_VARS:
                        continue
                    if r in top or r in inputs:
                        outer_refs.append(r)
                    else:
                        self.add(f"loop exit refers to unknown {r!r}", n, n.loop.until.line)
            cyc = find_cycle(inner)
            if cyc:
                self.add("cycle inside a loop body: " + " → ".join(cyc), body[cyc[0]])
            carry = n.loop.carry or n.loop.body[-1].id
            used = _ancestors(carry, inner)
            if n.loop.until and n.loop.until.expr is not None:
                try:
                    for r in expr_names(n.loop.until.expr):
                        if r in body:
                            used |= _ancestors(r, inner)
                except ExprError:
                    pass
            elif n.loop.until and n.loop.until.ask:
                for r in template_refs(n.loop.until.ask):
                    if r in body:
                        used |= _ancestors(r, inner)
            for b in n.loop.body:
                if b.id not in used:
                    self.add(f"unreachable: neither the loop's carried value ({carry!r}) nor its exit uses "
                             "this node", b)
            refs = refs + [r for r in outer_refs if r not in refs]
        for r in refs:
            if r == n.id:
                self.add("refers to its own answer (a cycle); use a loop to repeat", n)
            elif r in inputs or r == FACTS:
                continue
            elif scope is not None and (r in body_ids or r in LOOP_VARS):
                deps.append(r)
            elif r in top:
                deps.append(r)
            elif r in LOOP_VARS:
                self.add(f"{{{r}}} is only defined inside a loop body", n)
            elif self.spec.find(r) is not None:
                self.add(f"refers to {r!r}, which is inside a loop; refer to the loop node instead", n)
            else:
                self.add(f"unknown reference {r!r} (not an input or a node)", n)
        return [d for d in dict.fromkeys(deps) if d not in LOOP_VARS]

    # -- flowcharts -----------------------------------------------------------------------
    def flowchart(self, f: Flowchart) -> None:
        self.ids()
        known = set(f.inputs) | set(f.state)
        self._sequence(f.nodes, f, known, start=f.start, where="top level", in_loop=False)
        if not any(n.kind == "output" for n in f.walk()):
            self.add("no 'output' step: the flowchart never produces an answer", line=f.line)

    def _sequence(self, steps: list[Node], f: Flowchart, known: set[str], *, start: str | None,
                  where: str, in_loop: bool, in_arm: bool = False) -> None:
        ids = [s.id for s in steps]
        by_id = {s.id: s for s in steps}
        edges: dict[str, list[str]] = {}
        for i, s in enumerate(steps):
            fall = ids[i + 1] if i + 1 < len(ids) else None
            succ: list[str | None] = []
            if s.kind == "output":
                if in_arm:
                    self.add("an output step cannot sit inside a parallel arm", s)
            elif s.kind == "branch":
                if not s.then:
                    self.add("a branch needs 'then' (and optionally 'else')", s)
                succ = [s.then, s.else_ or s.next or fall]
            else:
                succ = [s.next or fall]
            for t in succ:
                if t is not None and t != END and t not in by_id:
                    other = f.find(t)
                    hint = f" (it is in a different block; jumps stay within the {where})" if other else ""
                    self.add(f"jumps to unknown step {t!r}{hint}", s)
            edges[s.id] = [t for t in succ if t in by_id]
            self._step(s, f, known, in_loop)
        if start is not None and start not in by_id:
            self.add(f"start step {start!r} is not a step", line=f.line)
            return
        first = start or (ids[0] if ids else None)
        cyc = find_cycle(edges)
        if cyc:
            self.add("cycle outside a loop: " + " → ".join(cyc) + " (use a loop step with 'until' and 'max')",
                     by_id[cyc[0]])
        if first is None:
            return
        seen = _ancestors(first, edges)  # forward reachability (edges point to successors)
        for s in steps:
            if s.id not in seen:
                self.add(f"unreachable: no path from {first!r} leads here ({where})", s)

    def _step(self, s: Node, f: Flowchart, known: set[str], in_loop: bool) -> None:
        self.tool(s)
        scope = known | ({"iteration"} if in_loop else set())
        for r in self.refs(s, False):
            if r not in scope:
                hint = " ('iteration' exists inside loops only)" if r == "iteration" else \
                    " (declare it under 'state:' and write it with 'set:')"
                self.add(f"unknown reference {r!r}{hint}", s)
        if s.set is not None and s.set not in f.state:
            self.add(f"writes {s.set!r}, which is not a declared state key", s)
        if s.kind in ("ask", "tool") and s.set is None:
            self.add(f"an {s.kind} step needs 'set:' (the state key its answer goes to)", s)
        if s.kind == "compute":
            if isinstance(s.compute, str) and s.set is None:
                self.add("a compute step with one expression needs 'set:'", s)
            if isinstance(s.compute, dict):
                for k in s.compute:
                    if k not in f.state:
                        self.add(f"computes {k!r}, which is not a declared state key", s)
        if s.kind == "loop" and s.loop:
            lp = s.loop
            if lp.until is None:
                self.add("loop without an exit condition ('until')", s)
            if lp.start or lp.carry:
                self.add("'start'/'carry' belong to graph loops; flowchart loops work on the state", s)
            if lp.until is not None:
                try:
                    for r in cond_refs(lp.until):
                        if r not in known and r != "iteration":
                            self.add(f"loop exit refers to unknown {r!r}", s, lp.until.line)
                except ExprError as e:
                    self.add(str(e), s, lp.until.line)
            self._sequence(lp.body, f, known, start=None, where=f"body of loop {s.id!r}", in_loop=True)
        if s.kind == "parallel" and s.arms:
            writers: dict[str, list[int]] = {}
            for i, arm in enumerate(s.arms):
                self._sequence(arm, f, known, start=None, where=f"arm {i + 1} of {s.id!r}", in_loop=in_loop,
                               in_arm=True)
                for key in sorted(_writes(arm)):
                    writers.setdefault(key, []).append(i + 1)
            for key, arms in writers.items():
                var = f.state.get(key)
                if len(arms) > 1 and var is not None and not var.join_explicit:
                    self.add(f"state key {key!r} is written by arms {arms} of this parallel step: declare "
                             f"how they join (state: {key}: {{join: last|append|sum|max|min|first|union}})", s)


def _writes(steps: list[Node]) -> set[str]:
    out: set[str] = set()
    for s in steps:
        if s.set:
            out.add(s.set)
        if isinstance(s.compute, dict):
            out |= set(s.compute)
        if s.loop:
            out |= _writes(s.loop.body)
        for arm in s.arms or []:
            out |= _writes(arm)
    return out


def _ancestors(root: str, edges: dict[str, list[str]]) -> set[str]:
    """`root` and everything reachable from it following `edges`."""
    seen = {root}
    todo = [root]
    while todo:
        for d in edges.get(todo.pop(), ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen
