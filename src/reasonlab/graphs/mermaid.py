"""Draw a graph or flowchart: Mermaid text (paste into any Mermaid viewer) or a PNG via matplotlib."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .executor import structure
from .spec import Graph, Spec, template_refs

_SHAPES = {  # Mermaid node shapes per kind
    "ask": ('["', '"]'), "compute": ('{{"', '"}}'), "tool": ('[["', '"]]'), "branch": ('{"', '"}'),
    "output": ('(["', '"])'), "parallel": ('[/"', '"\\]'), "input": ('[/"', '"/]'), "loop": ('(("', '"))'),
}


def _label(text: str, limit: int = 70) -> str:
    t = " ".join(str(text).split())
    if len(t) > limit:
        t = t[: limit - 1] + "…"
    return t.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;").replace("{", "#123;") \
        .replace("}", "#125;").replace("|", "#124;")


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
    if isinstance(spec, Graph):
        for n in spec.walk():
            for r in dict.fromkeys(template_refs(n.ask or "")):
                if r in spec.inputs:
                    lines.append(f"  in_{r} -.-> {n.id}")
    for e in s["edges"]:
        if e["label"].startswith("arm "):
            continue  # the arms are drawn inside the parallel step's subgraph
        arrow = f'-->|"{_label(e["label"], 20)}"|' if e["label"] else "-->"
        lines.append(f"  {e['from']} {arrow} {e['to']}")
    for n in spec.walk():
        if n.loop:
            last = n.loop.carry or n.loop.body[-1].id
            until = n.loop.until.describe() if n.loop.until else "?"
            lines.append(f'  {last} -.->|"{_label("repeat until " + until, 40)}"| {n.loop.body[0].id}')
    if isinstance(spec, Graph) and spec.output:
        lines.append(f"  style {spec.output} stroke-width:3px")
    return "\n".join(lines) + "\n"


def render_png(spec: Spec, path: str | Path, answers: dict[str, Any] | None = None) -> Path:
    """Draw the spec as a layered diagram with matplotlib (no external renderer needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import textwrap

    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    s = structure(spec)
    nodes = s["nodes"]
    ids = [n["id"] for n in nodes]
    edges = [(e["from"], e["to"], e["label"]) for e in s["edges"] if e["from"] in ids and e["to"] in ids]
    # Loop bodies hang below their loop node (parallel arms already have "arm k" edges).
    kinds = {n["id"]: n["kind"] for n in nodes}
    for n in nodes:
        if n["parent"] is not None and kinds[n["parent"]] == "loop":
            siblings = [m["id"] for m in nodes if m["parent"] == n["parent"]]
            if n["id"] == siblings[0]:
                edges.append((n["parent"], n["id"], "body"))
    # Longest-path layering over forward edges (file order breaks cycles: back edges are skipped).
    order = {nid: i for i, nid in enumerate(ids)}
    level = {nid: 0 for nid in ids}
    for _ in range(len(ids)):
        changed = False
        for a, b, _lab in edges:
            if order[a] < order[b] and level[b] < level[a] + 1:
                level[b] = level[a] + 1
                changed = True
        if not changed:
            break
    rows: dict[int, list[str]] = {}
    for nid in ids:
        rows.setdefault(level[nid], []).append(nid)
    slot = 3.0  # data units per node; boxes are 2.6 wide
    width = slot * max(len(r) for r in rows.values())
    fig_w, fig_h = max(6.0, 1.1 * width), max(3.0, 1.6 * len(rows))
    fig, ax = plt.subplots(figsize=(fig_w, fig_h))
    pos: dict[str, tuple[float, float]] = {}
    for lv, row in rows.items():
        for i, nid in enumerate(row):
            pos[nid] = ((i + 0.5) * width / len(row), -lv)
    colors = {"ask": "#dbeafe", "compute": "#dcfce7", "tool": "#fef9c3", "branch": "#fde68a",
              "loop": "#ede9fe", "parallel": "#fce7f3", "output": "#e5e7eb"}
    by_id = {n["id"]: n for n in nodes}
    for a, b, lab in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        back = order[a] >= order[b]
        ax.annotate("", xy=(x2, y2 + 0.25), xytext=(x1, y1 - 0.25),
                    arrowprops=dict(arrowstyle="->", color="#b91c1c" if back else "#374151",
                                    connectionstyle="arc3,rad=0.3" if back else "arc3", lw=1.2))
        if lab:
            ax.text((x1 + x2) / 2, (y1 + y2) / 2, lab, fontsize=7, color="#6b7280", ha="center")
    for nid, (x, y) in pos.items():
        n = by_id[nid]
        title = n["title"] if len(n["title"]) < 90 else n["title"][:87] + "…"
        text = f"{nid}\n" + "\n".join(textwrap.wrap(title, 28)[:3]) if title != nid else nid
        if answers and nid in answers:
            text += f"\n⇒ {str(answers[nid])[:30]}"
        box = FancyBboxPatch((x - 1.3, y - 0.3), 2.6, 0.6, boxstyle="round,pad=0.05",
                             fc=colors.get(n["kind"], "#ffffff"), ec="#374151", lw=1)
        ax.add_patch(box)
        ax.text(x, y, text, ha="center", va="center", fontsize=7)
    ax.set_xlim(0, width)
    ax.set_ylim(-len(rows) + 0.3, 0.7)
    ax.axis("off")
    if spec.name:
        ax.set_title(spec.name, fontsize=10)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return out
