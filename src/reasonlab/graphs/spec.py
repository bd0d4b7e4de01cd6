"""Reasoning graphs and flowcharts as data: the types both are made of.

A *graph* is a set of nodes (sub-questions) with dependencies; a *flowchart* is a sequence of
steps with branches, loops and parallel arms over a typed state. Both share one node type
(`Node`, alias `Step`) and one file format (docs/graphs.md; loading in `loading.py`, the JSON
schema in `file_schema.py`). Every node remembers the line it came from, so errors read
``file.yaml:12: node 'b': ...``. Run one with `reasonlab.graphs.run(spec, model, **inputs)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

KINDS = ("ask", "compute", "tool", "branch", "loop", "parallel", "output")
ANSWER_KINDS = ("text", "number", "yesno", "choice", "raw")
TYPES = ("str", "int", "float", "number", "bool", "list", "dict", "any")
JOINS = ("last", "first", "append", "sum", "max", "min", "union")
ID_RE = r"^[A-Za-z_][A-Za-z0-9_]*$"
END = "end"


class GraphError(InputError):
    """A graph/flowchart that cannot be loaded or run as written; the message points at file and line."""

    def __init__(self, message: str, *, source: str = "", line: int | None = None,
                 node: str | None = None) -> None:
        self.source, self.line, self.node, self.detail = source, line, node, message
        where = f"{source}:{line}: " if source and line else (f"{source}: " if source else "")
        who = f"node {node!r}: " if node else ""
        super().__init__(f"{where}{who}{message}")


@dataclass
class Var:
    """An input or a state key: its type, default, and (state) how concurrent writes join."""

    name: str
    type: str = "any"
    default: Any = None
    required: bool = False
    join: str = "last"
    join_explicit: bool = False
    description: str = ""
    line: int | None = None


@dataclass
class Cond:
    """A condition: a safe expression, or a yes/no question put to the model."""

    expr: str | None = None
    ask: str | None = None
    line: int | None = None

    def describe(self) -> str:
        return self.expr if self.expr is not None else f"ask: {self.ask}"


@dataclass
class Loop:
    """Repeat `body` until `until` holds, at most `max` times.

    In a graph the body is a sub-graph re-run each round; ``{current}`` holds the carried value
    (first `start`, then the answer of body node `carry`, default the last) and ``{iteration}``
    the round number (0-based). In a flowchart the body is a step sequence over the shared state.
    """

    body: list[Node]
    max: int
    until: Cond | None = None
    start: str | None = None
    carry: str | None = None
    on_max: str = "stop"  # "stop": leave the loop with the last value; "error": fail the run


@dataclass
class Node:
    """A graph node or flowchart step. `kind` is one of KINDS."""

    id: str
    kind: str
    ask: str | None = None
    answer: str = "text"
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    instruct: bool = True
    compute: str | dict[str, str] | None = None
    tool: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    after: list[str] = field(default_factory=list)
    set: str | None = None
    next: str | None = None
    branch: Cond | None = None
    then: str | None = None
    else_: str | None = None
    loop: Loop | None = None
    arms: list[list[Node]] | None = None
    output: Any = None
    label: str | None = None
    line: int | None = None

    def title(self) -> str:
        """A short human label (for diagrams)."""
        if self.label:
            return self.label
        if self.kind == "ask":
            return self.ask or self.id
        if self.kind == "compute":
            c = self.compute
            return c if isinstance(c, str) else "; ".join(f"{k} = {v}" for k, v in (c or {}).items())
        if self.kind == "tool":
            return f"tool {self.tool}"
        if self.kind == "branch" and self.branch:
            return self.branch.describe()
        if self.kind == "loop" and self.loop:
            return f"loop ≤{self.loop.max}× until {self.loop.until.describe() if self.loop.until else '?'}"
        if self.kind == "output":
            return f"output {self.output}"
        if self.kind == "parallel":
            return f"parallel: {len(self.arms or [])} arms"
        return self.id


Step = Node


@dataclass
class Spec:
    """What graphs and flowcharts share."""

    nodes: list[Node] = field(default_factory=list)
    inputs: dict[str, Var] = field(default_factory=dict)
    name: str = ""
    description: str = ""
    max_steps: int | None = None
    concurrency: int | None = None
    source: str = "<python>"
    line: int | None = None
    kind: str = "graph"

    def walk(self) -> list[Node]:
        """Every node, nested ones (loop bodies, parallel arms) included, in file order."""
        out: list[Node] = []

        def visit(nodes: list[Node]) -> None:
            for n in nodes:
                out.append(n)
                if n.loop:
                    visit(n.loop.body)
                for arm in n.arms or []:
                    visit(arm)

        visit(self.nodes)
        return out

    def find(self, node_id: str) -> Node | None:
        return next((n for n in self.walk() if n.id == node_id), None)

    def error(self, message: str, node: Node | None = None, line: int | None = None) -> GraphError:
        return GraphError(message, source=self.source, line=line or (node.line if node else self.line),
                         node=node.id if node else None)

    def input(self, name: str, type: str = "str", default: Any = None, required: bool | None = None,
              description: str = "") -> Spec:
        """Declare an input (Python API); returns self for chaining."""
        self.inputs[name] = Var(name, type, default, default is None if required is None else required,
                                description=description)
        return self

    def add(self, node: Node) -> Node:
        self.nodes.append(node)
        return node

    # Python-API builders shared by both kinds ------------------------------------------
    def ask(self, id: str, prompt: str, *, answer: str = "text", after: list[str] | None = None,
            set: str | None = None, **kw: Any) -> Node:
        return self.add(Node(id, "ask", ask=prompt, answer=answer, after=list(after or []), set=set, **kw))

    def compute(self, id: str, expr: str | dict[str, str], **kw: Any) -> Node:
        return self.add(Node(id, "compute", compute=expr, **kw))

    def tool(self, id: str, name: str, args: dict[str, Any] | None = None, **kw: Any) -> Node:
        return self.add(Node(id, "tool", tool=name, args=dict(args or {}), **kw))

    def loop(self, id: str, body: list[Node], *, max: int, until: str | Cond, **kw: Any) -> Node:
        cond = until if isinstance(until, Cond) else Cond(expr=until)
        loop_kw = {k: kw.pop(k) for k in ("start", "carry", "on_max") if k in kw}
        return self.add(Node(id, "loop", loop=Loop(body, max, cond, **loop_kw), **kw))


@dataclass
class Graph(Spec):
    """Sub-questions with dependencies; `output` names the node whose answer is the answer."""

    output: str | None = None
    kind: str = "graph"


@dataclass
class Flowchart(Spec):
    """Steps over a typed state, starting at `start` (default: the first step)."""

    state: dict[str, Var] = field(default_factory=dict)
    start: str | None = None
    kind: str = "flowchart"

    def var(self, name: str, type: str = "any", default: Any = None, join: str | None = None) -> Flowchart:
        self.state[name] = Var(name, type, default, join=join or "last", join_explicit=join is not None)
        return self

    def branch(self, id: str, cond: str | Cond, then: str, else_: str | None = None, **kw: Any) -> Node:
        c = cond if isinstance(cond, Cond) else Cond(expr=cond)
        return self.add(Node(id, "branch", branch=c, then=then, else_=else_, **kw))

    def parallel(self, id: str, arms: list[list[Node]], **kw: Any) -> Node:
        return self.add(Node(id, "parallel", arms=arms, **kw))

    def out(self, id: str, value: str, **kw: Any) -> Node:
        return self.add(Node(id, "output", output=value, **kw))
