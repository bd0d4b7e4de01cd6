"""Reasoning graphs and flowcharts as data: dataclasses, a JSON schema, and loading from YAML/JSON.

A *graph* is a set of nodes (sub-questions) with dependencies; a *flowchart* is a sequence of
steps with branches, loops and parallel arms over a typed state. Both share one node type
(`Node`, alias `Step`) and one file format (see docs/graphs.md). Every node remembers the line it
came from, so errors read ``file.yaml:12: node 'b': ...``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..answers.normalize import parse_number
from ..errors import InputError
from .expr import _yes

KINDS = ("ask", "compute", "tool", "branch", "loop", "parallel", "output")
ANSWER_KINDS = ("text", "number", "yesno", "choice", "raw")
TYPES = ("str", "int", "float", "number", "bool", "list", "dict", "any")
JOINS = ("last", "first", "append", "sum", "max", "min", "union")
ID_RE = r"^[A-Za-z_][A-Za-z0-9_]*$"
END = "end"


class SpecError(InputError):
    """A graph/flowchart file that cannot be loaded; the message points at file and line."""

    def __init__(self, message: str, *, source: str = "", line: int | None = None,
                 node: str | None = None) -> None:
        self.source, self.line, self.node, self.detail = source, line, node, message
        where = f"{source}:{line}: " if source and line else (f"{source}: " if source else "")
        who = f"node {node!r}: " if node else ""
        super().__init__(f"{where}{who}{message}")


# --------------------------------------------------------------------------------------------
# Templates: "{name}" refers to an input, a node's answer or a state key; "{{" / "}}" escape.
# --------------------------------------------------------------------------------------------
TEMPLATE_RE = re.compile(r"\{\{|\}\}|\{\s*([A-Za-z_]\w*)\s*\}")


def template_refs(template: str) -> list[str]:
    """Names a template refers to, in order of appearance (duplicates removed)."""
    return list(_refs(template or ""))


@lru_cache(maxsize=8192)
def _refs(template: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for m in TEMPLATE_RE.finditer(template):
        if m.group(1):
            seen.setdefault(m.group(1), None)
    return tuple(seen)


def _fmt(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return "" if v is None else str(v)


def render(template: str, env: dict[str, Any]) -> Any:
    """Fill a template. A template that is exactly one ``{name}`` returns the value itself (typed)."""
    m = TEMPLATE_RE.fullmatch((template or "").strip()) if isinstance(template, str) else None
    if m and m.group(1):
        return env[m.group(1)]

    def sub(mm: re.Match[str]) -> str:
        if mm.group(0) == "{{":
            return "{"
        if mm.group(0) == "}}":
            return "}"
        return _fmt(env[mm.group(1)])

    return TEMPLATE_RE.sub(sub, template)


def escape(text: str) -> str:
    """Make arbitrary text safe to use as a template (no references)."""
    return text.replace("{", "{{").replace("}", "}}")


# --------------------------------------------------------------------------------------------
# Dataclasses
# --------------------------------------------------------------------------------------------
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

    def error(self, message: str, node: Node | None = None, line: int | None = None) -> SpecError:
        return SpecError(message, source=self.source, line=line or (node.line if node else self.line),
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

    def run(self, model: Any = "smollm2", **inputs: Any) -> Any:
        """Validate and execute on a model (spec or Model); returns a GraphRun."""
        from .executor import run_spec

        return run_spec(self, model, inputs)


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

    def run(self, model: Any = "smollm2", **inputs: Any) -> Any:
        from .executor import run_spec

        return run_spec(self, model, inputs)


# --------------------------------------------------------------------------------------------
# JSON schema of the file format
# --------------------------------------------------------------------------------------------
_COND = {"oneOf": [
    {"type": "string", "minLength": 1},
    {"type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
     "properties": {"if": {"type": "string", "minLength": 1}, "expr": {"type": "string", "minLength": 1},
                    "ask": {"type": "string", "minLength": 1}}},
]}
_ID = {"type": "string", "pattern": ID_RE}
_TEMPLATE = {"type": "string"}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "reasonlab graph or flowchart",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": ["graph", "flowchart"]},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "inputs": {"oneOf": [
            {"type": "array", "items": _ID},
            {"type": "object", "propertyNames": {"pattern": ID_RE}, "additionalProperties": {"oneOf": [
                {"$ref": "#/$defs/var"}, {"type": ["string", "number", "boolean", "array", "null"]}]}},
        ]},
        "state": {"type": "object", "propertyNames": {"pattern": ID_RE}, "additionalProperties": {"oneOf": [
            {"$ref": "#/$defs/var"}, {"enum": list(TYPES)}]}},
        "nodes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        "steps": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        "output": _ID,
        "start": _ID,
        "max_steps": {"type": "integer", "minimum": 1},
        "concurrency": {"type": "integer", "minimum": 1, "maximum": 256},
    },
    "$defs": {
        "var": {"type": "object", "additionalProperties": False, "properties": {
            "type": {"enum": list(TYPES)}, "default": {}, "required": {"type": "boolean"},
            "join": {"enum": list(JOINS)}, "description": {"type": "string"}}},
        "cond": _COND,
        "node": {
            "type": "object",
            "required": ["id"],
            "additionalProperties": False,
            "properties": {
                "id": _ID,
                "label": {"type": "string"},
                "ask": _TEMPLATE,
                "answer": {"enum": list(ANSWER_KINDS)},
                "system": {"type": "string"},
                "max_tokens": {"type": "integer", "minimum": 1, "maximum": 32768},
                "temperature": {"type": "number", "minimum": 0, "maximum": 5},
                "instruct": {"type": "boolean"},
                "compute": {"oneOf": [{"type": "string", "minLength": 1},
                                      {"type": "object", "minProperties": 1,
                                       "propertyNames": {"pattern": ID_RE},
                                       "additionalProperties": {"type": "string", "minLength": 1}}]},
                "tool": {"type": "string", "minLength": 1},
                "args": {"type": "object"},
                "after": {"oneOf": [_ID, {"type": "array", "items": _ID}]},
                "set": _ID,
                "next": _ID,
                "branch": {"$ref": "#/$defs/cond"},
                "then": _ID,
                "else": _ID,
                "loop": {"type": "object", "additionalProperties": False, "required": ["body", "max"],
                         "properties": {
                             "body": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/node"}},
                             "max": {"type": "integer", "minimum": 1, "maximum": 100000},
                             "until": {"$ref": "#/$defs/cond"},
                             "start": _TEMPLATE,
                             "carry": _ID,
                             "on_max": {"enum": ["stop", "error"]}}},
                "parallel": {"type": "array", "minItems": 1,
                             "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/node"}}},
                "output": {"type": ["string", "number", "boolean"]},
            },
        },
    },
}


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
Path_ = tuple[Any, ...]


def _yaml_with_lines(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML (JSON is accepted too) and map every path in the document to its 1-based line."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        ctx = f" ({e.context} that starts at line {e.context_mark.line + 1})" if e.context and e.context_mark \
            and e.context_mark.line + 1 != line else ""
        raise SpecError(f"not valid YAML/JSON: {e.problem or e}{ctx}", source=source, line=line) from None
    except yaml.YAMLError as e:
        raise SpecError(f"not valid YAML/JSON: {e}", source=source) from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}

    def walk(node: yaml.Node, path: Path_) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
                lines[(*path, key, "<key>")] = k.start_mark.line + 1
                walk(v, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, (*path, i))

    if root is not None:
        walk(root, ())
    return data, lines


def _line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return lines.get(())


def _check_schema(data: Any, source: str, lines: dict[Path_, int]) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    err = jsonschema.exceptions.best_match(errors)
    # Descend into oneOf/anyOf to the most specific complaint.
    while err.context:
        err = jsonschema.exceptions.best_match(err.context)
    path = tuple(err.absolute_path)
    node_id = None
    cursor: Any = data
    for part in path:
        try:
            cursor = cursor[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(cursor, dict) and isinstance(cursor.get("id"), str):
            node_id = cursor["id"]
    where = "/".join(str(p) for p in path) or "top level"
    msg = err.message
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        msg = f"unknown field(s) {', '.join(map(repr, extra))}"
        line = _line_of(lines, (*path, extra[0], "<key>")) if extra else _line_of(lines, path)
    else:
        line = _line_of(lines, path)
    raise SpecError(f"{msg} (at {where})", source=source, line=line, node=node_id)


def loads(text: str, source: str = "<string>") -> Graph | Flowchart:
    """Load a graph or flowchart from YAML or JSON text (schema-checked, not yet validated)."""
    data, lines = _yaml_with_lines(text, source)
    return from_dict(data, source=source, lines=lines)


def load(path: str | Path) -> Graph | Flowchart:
    """Load a graph or flowchart file (.yaml, .yml or .json)."""
    p = Path(path)
    if not p.is_file():
        raise SpecError("file not found", source=str(p))
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"cannot read: {e}", source=str(p)) from None
    return loads(text, source=str(p))


def from_dict(data: Any, source: str = "<dict>", lines: dict[Path_, int] | None = None) -> Graph | Flowchart:
    """Build a Graph or Flowchart from parsed data, checking it against SCHEMA."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise SpecError("expected a mapping with 'nodes' (a graph) or 'steps' (a flowchart)",
                        source=source, line=_line_of(lines, ()))
    _check_schema(data, source, lines)
    kind = data.get("kind") or ("flowchart" if "steps" in data else "graph")
    key = "steps" if kind == "flowchart" else "nodes"
    other = "nodes" if key == "steps" else "steps"
    if other in data:
        raise SpecError(f"a {kind} lists its {key!r}, not {other!r}", source=source,
                        line=_line_of(lines, (other,)))
    if key not in data or not data[key]:
        raise SpecError(f"a {kind} needs a non-empty {key!r} list", source=source, line=_line_of(lines, ()))
    b = _Builder(source, lines, kind)
    common = dict(
        inputs=b.inputs(data.get("inputs")),
        name=str(data.get("name", "")), description=str(data.get("description", "")),
        max_steps=data.get("max_steps"), concurrency=data.get("concurrency"), source=source,
        line=_line_of(lines, ()),
    )
    nodes = b.nodes(data[key], (key,))
    if kind == "graph":
        for k in ("state", "start"):
            if k in data:
                raise SpecError(f"{k!r} belongs to flowcharts (use kind: flowchart and 'steps')",
                                source=source, line=_line_of(lines, (k,)))
        return Graph(nodes=nodes, output=data.get("output"), **common)
    if "output" in data:
        raise SpecError("a flowchart ends at an 'output' step, not a top-level 'output'",
                        source=source, line=_line_of(lines, ("output",)))
    state = {name: b.var(name, v, ("state", name), is_state=True) for name, v in (data.get("state") or {}).items()}
    return Flowchart(nodes=nodes, state=state, start=data.get("start"), **common)


class _Builder:
    def __init__(self, source: str, lines: dict[Path_, int], kind: str) -> None:
        self.source, self.lines, self.kind = source, lines, kind

    def line(self, path: Path_) -> int | None:
        return _line_of(self.lines, path)

    def inputs(self, raw: Any) -> dict[str, Var]:
        if raw is None:
            return {}
        if isinstance(raw, list):
            return {n: Var(n, "str", None, True, line=self.line(("inputs", i))) for i, n in enumerate(raw)}
        return {n: self.var(n, v, ("inputs", n), is_state=False) for n, v in raw.items()}

    def var(self, name: str, v: Any, path: Path_, *, is_state: bool) -> Var:
        line = self.line(path)
        if isinstance(v, dict):
            join = v.get("join")
            if join and not is_state:
                raise SpecError(f"input {name!r}: 'join' applies to state keys only", source=self.source,
                                line=line)
            default = v.get("default")
            tp = v.get("type") or (_type_of(default) if default is not None else ("str" if not is_state else "any"))
            required = bool(v.get("required", default is None and not is_state))
            var = Var(name, tp, default, required, join or "last", join is not None, v.get("description", ""), line)
        elif is_state:
            var = Var(name, str(v), None, False, line=line)
        else:
            var = Var(name, _type_of(v) if v is not None else "str", v, v is None, line=line)
        if var.join in ("append", "union") and var.type not in ("list", "any"):
            raise SpecError(f"state key {name!r}: join {var.join!r} needs type list", source=self.source, line=line)
        if var.join == "sum" and var.type not in ("int", "float", "number", "any"):
            raise SpecError(f"state key {name!r}: join 'sum' needs a numeric type", source=self.source, line=line)
        if var.default is None and is_state and var.join not in ("first", "max", "min"):
            # typed zero values; keys joined by first/max/min start empty so the first write counts
            var.default = {"list": [], "int": 0, "float": 0.0, "number": 0, "str": "", "bool": False,
                           "dict": {}}.get(var.type)
        return var

    def cond(self, raw: Any, path: Path_) -> Cond:
        line = self.line(path)
        if isinstance(raw, str):
            return Cond(expr=raw, line=line)
        if "ask" in raw:
            return Cond(ask=raw["ask"], line=line)
        return Cond(expr=raw.get("if", raw.get("expr")), line=line)

    def nodes(self, raw: list[dict[str, Any]], path: Path_) -> list[Node]:
        return [self.node(d, (*path, i)) for i, d in enumerate(raw)]

    def node(self, d: dict[str, Any], path: Path_) -> Node:
        line = self.line(path)
        kinds = [k for k in KINDS if k in d]
        if len(kinds) != 1:
            what = "none" if not kinds else " and ".join(kinds)
            raise SpecError(f"a node needs exactly one of {', '.join(KINDS)} (found {what})",
                            source=self.source, line=line, node=d.get("id"))
        kind = kinds[0]
        if self.kind == "graph":
            for k in ("set", "next", "then", "else", "parallel", "branch", "output"):
                if k in d:
                    raise SpecError(f"{k!r} is a flowchart field; graph nodes use 'after' and named answers",
                                    source=self.source, line=self.line((*path, k, "<key>")), node=d["id"])
        elif "after" in d:
            raise SpecError("'after' is a graph field; flowchart steps run in order (use 'next')",
                            source=self.source, line=self.line((*path, "after", "<key>")), node=d["id"])
        after = d.get("after", [])
        n = Node(
            id=d["id"], kind=kind, ask=d.get("ask"), answer=d.get("answer", "text"), system=d.get("system"),
            max_tokens=d.get("max_tokens"), temperature=d.get("temperature"), instruct=d.get("instruct", True),
            compute=d.get("compute"), tool=d.get("tool"), args=dict(d.get("args") or {}),
            after=[after] if isinstance(after, str) else list(after), set=d.get("set"), next=d.get("next"),
            then=d.get("then"), else_=d.get("else"), output=d.get("output"), label=d.get("label"), line=line,
        )
        if kind == "branch":
            n.branch = self.cond(d["branch"], (*path, "branch"))
        if kind == "loop":
            lp = d["loop"]
            n.loop = Loop(
                body=self.nodes(lp["body"], (*path, "loop", "body")), max=lp["max"],
                until=self.cond(lp["until"], (*path, "loop", "until")) if "until" in lp else None,
                start=lp.get("start"), carry=lp.get("carry"), on_max=lp.get("on_max", "stop"),
            )
        if kind == "parallel":
            n.arms = [self.nodes(arm, (*path, "parallel", i)) for i, arm in enumerate(d["parallel"])]
        return n


def _type_of(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "dict"
    return "str"


_PLAIN_INT = re.compile(r"-?\d{1,18}")


def coerce(value: Any, tp: str, what: str = "value") -> Any:
    """Convert a value (often model text) to a declared type; raises InputError when impossible."""
    if tp in ("any", "") or value is None:
        return value
    if tp == "str":
        return value if isinstance(value, str) else _fmt(value)
    if tp in ("int", "float", "number"):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            num: Any = value
        elif isinstance(value, str) and _PLAIN_INT.fullmatch(value):
            num = int(value)  # fast path for the common case
        else:
            f = parse_number(str(value))
            if f is None:
                raise InputError(f"{what}: expected a number, got {str(value)[:60]!r}")
            num = int(f) if f.denominator == 1 else float(f)
        if tp == "int":
            if isinstance(num, float) and not num.is_integer():
                return num  # keep the information rather than truncating a model's 2.5
            return int(num)
        return float(num) if tp == "float" else num
    if tp == "bool":
        return _yes(value)
    if tp == "list":
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            try:
                v = json.loads(value)
                if isinstance(v, list):
                    return v
            except ValueError:
                pass
        return [value]
    if tp == "dict":
        if isinstance(value, dict):
            return value
        try:
            v = json.loads(str(value))
        except ValueError:
            raise InputError(f"{what}: expected a JSON object, got {str(value)[:60]!r}") from None
        if not isinstance(v, dict):
            raise InputError(f"{what}: expected a JSON object")
        return v
    return value
