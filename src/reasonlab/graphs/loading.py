"""Load graphs and flowcharts from YAML/JSON text, files or parsed data, checked against the schema."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from .file_schema import SCHEMA
from .spec import KINDS, Cond, Flowchart, Graph, GraphError, Loop, Node, Var
from .values import type_of
from .yaml_reader import MAX_BYTES, PathKey, check_shape, line_of, read_yaml

__all__ = ["from_dict", "load", "loads"]


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator  # imported on first use: it is slow to import

    return Draft202012Validator(SCHEMA)


def _check_schema(data: Any, source: str, lines: dict[PathKey, int]) -> None:
    from jsonschema.exceptions import best_match

    errors = list(_validator().iter_errors(data))
    if not errors:
        return
    err = best_match(errors)
    # Descend into oneOf/anyOf to the most specific complaint.
    while err.context:
        err = best_match(err.context)
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
        line = line_of(lines, (*path, extra[0], "<key>")) if extra else line_of(lines, path)
    else:
        line = line_of(lines, path)
    raise GraphError(f"{msg} (at {where})", source=source, line=line, node=node_id)


def loads(text: str, source: str = "<string>") -> Graph | Flowchart:
    """Load a graph or flowchart from YAML or JSON text (schema-checked, not yet validated)."""
    data, lines = read_yaml(text, source)
    return from_dict(data, source=source, lines=lines)


def load(path: str | Path) -> Graph | Flowchart:
    """Load a graph or flowchart file (.yaml, .yml or .json)."""
    p = Path(path)
    if not p.is_file():
        raise GraphError("not a regular file" if p.exists() else "file not found", source=str(p))
    try:
        if p.stat().st_size > MAX_BYTES * 4:  # characters can take up to 4 bytes; read_yaml counts them
            raise GraphError(f"file too large (at most {MAX_BYTES} characters)", source=str(p))
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise GraphError(f"cannot read: {e}", source=str(p)) from None
    return loads(text, source=str(p))


def from_dict(data: Any, source: str = "<dict>", lines: dict[PathKey, int] | None = None) -> Graph | Flowchart:
    """Build a Graph or Flowchart from parsed data, checking it against SCHEMA."""
    if lines is None:
        check_shape(data, source)  # read_yaml bounded YAML input already
    lines = lines or {}
    if not isinstance(data, dict):
        raise GraphError("expected a mapping with 'nodes' (a graph) or 'steps' (a flowchart)",
                        source=source, line=line_of(lines, ()))
    _check_schema(data, source, lines)
    kind = data.get("kind") or ("flowchart" if "steps" in data else "graph")
    key = "steps" if kind == "flowchart" else "nodes"
    other = "nodes" if key == "steps" else "steps"
    if other in data:
        raise GraphError(f"a {kind} lists its {key!r}, not {other!r}", source=source,
                        line=line_of(lines, (other,)))
    if key not in data or not data[key]:
        raise GraphError(f"a {kind} needs a non-empty {key!r} list", source=source, line=line_of(lines, ()))
    b = _Builder(source, lines, kind)
    common = dict(
        inputs=b.inputs(data.get("inputs")),
        name=str(data.get("name", "")), description=str(data.get("description", "")),
        max_steps=data.get("max_steps"), concurrency=data.get("concurrency"), source=source,
        line=line_of(lines, ()),
    )
    nodes = b.nodes(data[key], (key,))
    if kind == "graph":
        for k in ("state", "start"):
            if k in data:
                raise GraphError(f"{k!r} belongs to flowcharts (use kind: flowchart and 'steps')",
                                source=source, line=line_of(lines, (k,)))
        return Graph(nodes=nodes, output=data.get("output"), **common)
    if "output" in data:
        raise GraphError("a flowchart ends at an 'output' step, not a top-level 'output'",
                        source=source, line=line_of(lines, ("output",)))
    state = {name: b.var(name, v, ("state", name), is_state=True) for name, v in (data.get("state") or {}).items()}
    return Flowchart(nodes=nodes, state=state, start=data.get("start"), **common)


class _Builder:
    def __init__(self, source: str, lines: dict[PathKey, int], kind: str) -> None:
        self.source, self.lines, self.kind = source, lines, kind

    def line(self, path: PathKey) -> int | None:
        return line_of(self.lines, path)

    def inputs(self, raw: Any) -> dict[str, Var]:
        if raw is None:
            return {}
        if isinstance(raw, list):
            return {n: Var(n, "str", None, True, line=self.line(("inputs", i))) for i, n in enumerate(raw)}
        return {n: self.var(n, v, ("inputs", n), is_state=False) for n, v in raw.items()}

    def var(self, name: str, v: Any, path: PathKey, *, is_state: bool) -> Var:
        line = self.line(path)
        if isinstance(v, dict):
            join = v.get("join")
            if join and not is_state:
                raise GraphError(f"input {name!r}: 'join' applies to state keys only", source=self.source,
                                line=line)
            default = v.get("default")
            tp = v.get("type") or (type_of(default) if default is not None else ("str" if not is_state else "any"))
            required = bool(v.get("required", default is None and not is_state))
            var = Var(name, tp, default, required, join or "last", join is not None, v.get("description", ""), line)
        elif is_state:
            var = Var(name, str(v), None, False, line=line)
        else:
            var = Var(name, type_of(v) if v is not None else "str", v, v is None, line=line)
        if var.join in ("append", "union") and var.type not in ("list", "any"):
            raise GraphError(f"state key {name!r}: join {var.join!r} needs type list", source=self.source, line=line)
        if var.join == "sum" and var.type not in ("int", "float", "number", "any"):
            raise GraphError(f"state key {name!r}: join 'sum' needs a numeric type", source=self.source, line=line)
        if var.default is None and is_state and var.join not in ("first", "max", "min"):
            # typed zero values; keys joined by first/max/min start empty so the first write counts
            var.default = {"list": [], "int": 0, "float": 0.0, "number": 0, "str": "", "bool": False,
                           "dict": {}}.get(var.type)
        return var

    def cond(self, raw: Any, path: PathKey) -> Cond:
        line = self.line(path)
        if isinstance(raw, str):
            return Cond(expr=raw, line=line)
        if "ask" in raw:
            return Cond(ask=raw["ask"], line=line)
        return Cond(expr=raw.get("if", raw.get("expr")), line=line)

    def nodes(self, raw: list[dict[str, Any]], path: PathKey) -> list[Node]:
        return [self.node(d, (*path, i)) for i, d in enumerate(raw)]

    def node(self, d: dict[str, Any], path: PathKey) -> Node:
        line = self.line(path)
        kinds = [k for k in KINDS if k in d]
        if len(kinds) != 1:
            what = "none" if not kinds else " and ".join(kinds)
            raise GraphError(f"a node needs exactly one of {', '.join(KINDS)} (found {what})",
                            source=self.source, line=line, node=d.get("id"))
        kind = kinds[0]
        if self.kind == "graph":
            for k in ("set", "next", "then", "else", "parallel", "branch", "output"):
                if k in d:
                    raise GraphError(f"{k!r} is a flowchart field; graph nodes use 'after' and named answers",
                                    source=self.source, line=self.line((*path, k, "<key>")), node=d["id"])
        elif "after" in d:
            raise GraphError("'after' is a graph field; flowchart steps run in order (use 'next')",
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
