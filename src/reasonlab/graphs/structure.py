"""A spec's nodes and edges as plain data (for `graph show --json`, drawings and the web page)."""

from __future__ import annotations

from typing import Any

from .expr import ExprError
from .refs import graph_refs, node_refs
from .spec import END, Flowchart, Graph, Node, Spec


def structure(spec: Spec) -> dict[str, Any]:
    """{"kind", "name", "nodes": [{id, kind, title, parent, line, answer_kind}], "edges": [{from, to,
    label}], "output" (graphs)}. Works on specs that fail validation too (unknown targets are left out)."""
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
    out: dict[str, Any] = {"kind": spec.kind, "name": spec.name, "nodes": nodes, "edges": edges}
    if isinstance(spec, Graph):
        out["output"] = graph_output(spec)
    return out


def graph_output(g: Graph) -> str | None:
    """The output node: the named one, else the only node nothing depends on, else the last."""
    if g.output or not g.nodes:
        return g.output
    used: set[str] = set()
    for n in g.nodes:
        try:
            used |= set(graph_refs(n))
        except ExprError:
            pass
    sinks = [n.id for n in g.nodes if n.id not in used]
    return sinks[0] if len(sinks) == 1 else g.nodes[-1].id


def input_uses(spec: Spec) -> list[tuple[str, str]]:
    """(input, node id) for every node of a graph that reads an input (drawn as input → node edges)."""
    if not isinstance(spec, Graph):
        return []
    out: list[tuple[str, str]] = []
    for n in spec.walk():
        try:
            refs = node_refs(n, True)
        except ExprError:
            refs = []
        out += [(r, n.id) for r in refs if r in spec.inputs]
    return out


def sequences(nodes: list[Node], parent: Node | None = None) -> list[tuple[list[Node], Node | None]]:
    """Every step sequence (top level, loop bodies, parallel arms) with the step that holds it."""
    out = [(nodes, parent)]
    for n in nodes:
        if n.loop:
            out += sequences(n.loop.body, n)
        for arm in n.arms or []:
            out += sequences(arm, n)
    return out


def end_jumps(spec: Spec) -> list[tuple[str, str, bool]]:
    """(step id, edge label, inside a loop body) for each flowchart jump to `end` and each branch
    side that leaves its block — the edges `structure` leaves out. Inside a loop body such an end
    finishes the round (the loop then checks its exit)."""
    if not isinstance(spec, Flowchart):
        return []
    out: list[tuple[str, str, bool]] = []
    for seq, parent in sequences(spec.nodes):
        in_loop = parent is not None and parent.kind == "loop"
        for i, n in enumerate(seq):
            fall = seq[i + 1].id if i + 1 < len(seq) else None
            jumps = [("yes", n.then), ("no", n.else_ or n.next or fall)] if n.kind == "branch" else \
                [("", n.next)] if n.kind != "output" else []
            out += [(n.id, label, in_loop) for label, target in jumps
                    if target == END or (target is None and n.kind == "branch")]
    return out
