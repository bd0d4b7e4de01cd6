"""Mermaid text of a graph or flowchart (paste it into any Mermaid viewer); PNG drawing is in drawing.py."""

from __future__ import annotations

import re
from typing import Any

from .spec import Graph, Spec
from .structure import end_jumps, input_uses, structure
from .text_fit import shorten

_SHAPES = {  # Mermaid node shapes per kind
    "ask": ('["', '"]'), "compute": ('{{"', '"}}'), "tool": ('[["', '"]]'), "branch": ('{"', '"}'),
    "output": ('(["', '"])'), "parallel": ('[/"', '"\\]'), "input": ('[/"', '"/]'), "loop": ('(("', '"))'),
}


_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def _label(text: str, limit: int = 70) -> str:
    """Text for a quoted Mermaid label: braces, pipes and comparisons stay as they are (legal inside
    quotes); only a double quote, and a '<' that would open an HTML tag, become entity codes."""
    return _TAG_START.sub("#lt;", shorten(text, limit).replace('"', "#quot;"))


def to_mermaid(spec: Spec, answers: dict[str, Any] | None = None) -> str:
    """Mermaid `flowchart TD` text for a spec; `answers` (node → value) are shown under titles."""
    s = structure(spec)
    lines = ["flowchart TD"]
    if spec.name:
        lines.append(f"  %% {' '.join(spec.name.split())}")
    children: dict[str | None, list[dict[str, Any]]] = {}
    for n in s["nodes"]:
        children.setdefault(n["parent"], []).append(n)

    def node_line(n: dict[str, Any], indent: str) -> str:
        title = f"{n['id']}: {n['title']}" if n["title"] != n["id"] else n["id"]
        if answers and n["id"] in answers:
            title += f" ⇒ {answers[n['id']]}"
        a, b = _SHAPES.get(n["kind"], _SHAPES["ask"])
        return f"{indent}{n['id']}{a}{_label(title)}{b}"

    def emit(parent: str | None, indent: str) -> None:
        for n in children.get(parent, []):
            if n["id"] in children:  # a loop or parallel step: a subgraph holding its body
                lines.append(f'{indent}subgraph {n["id"]}["{_label(n["id"] + ": " + n["title"])}"]')
                lines.append(f"{indent}  direction TB")
                emit(n["id"], indent + "  ")
                lines.append(f"{indent}end")
            else:
                lines.append(node_line(n, indent))

    if isinstance(spec, Graph):
        for name in spec.inputs:
            lines.append(f'  in_{name}{_SHAPES["input"][0]}{_label("input " + name)}{_SHAPES["input"][1]}')
    emit(None, "  ")
    for name, node in input_uses(spec):
        lines.append(f"  in_{name} -.-> {node}")
    for e in s["edges"]:
        if e["label"].startswith("arm "):
            continue  # the arms are drawn inside the parallel step's subgraph
        arrow = f'-->|"{_label(e["label"], 20)}"|' if e["label"] else "-->"
        lines.append(f"  {e['from']} {arrow} {e['to']}")
    for k, (nid, label, in_loop) in enumerate(end_jumps(spec)):
        arrow = f'-->|"{_label(label, 20)}"|' if label else "-->"
        lines.append(f'  {nid} {arrow} end_{k}(["{"end of round" if in_loop else "end"}"])')
    for n in spec.walk():
        if n.loop:
            last = n.loop.carry or n.loop.body[-1].id
            until = n.loop.until.describe() if n.loop.until else "?"
            lines.append(f'  {last} -.->|"{_label("repeat until " + until, 40)}"| {n.loop.body[0].id}')
    if isinstance(spec, Graph) and spec.output:
        lines.append(f"  style {spec.output} stroke-width:3px")
    return "\n".join(lines) + "\n"
