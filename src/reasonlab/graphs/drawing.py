"""Draw a graph or flowchart as a PNG with matplotlib (no Graphviz or browser needed).

A small layered layout: nodes on rows by longest path, edges that span rows routed through
placeholder slots (so no edge crosses a box), rows ordered by the barycentre of their neighbours.
Branches are diamonds with "yes"/"no" edge labels, inputs parallelograms, outputs stadiums. A
loop's repeat edge runs back up in a lane right of everything it passes, labelled with its exit
condition; parallel arms rejoin the step after them with dotted edges. Texts are wrapped and
cut at word boundaries with "…".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .spec import END, Flowchart, Spec
from .structure import end_jumps, input_uses, sequences, structure
from .text_fit import shorten, wrap

ROW = 1.7  # vertical pitch between rows (data units; 1 unit is drawn 0.9 inch)
BOX_W, BOX_H = 2.6, 0.8
DIAMOND_W, DIAMOND_H = 2.9, 1.0
GAP = 0.45  # between neighbours in a row
DUMMY_W = 0.25  # the slot of an edge passing through a row
END_W, END_H = 1.5, 0.5  # where a flowchart jumps to `end`
COLORS = {"ask": "#dbeafe", "compute": "#dcfce7", "tool": "#fef9c3", "branch": "#fde68a", "loop": "#ede9fe",
          "parallel": "#fce7f3", "output": "#e5e7eb", "input": "#ffffff", "end": "#f3f4f6"}
STYLES = {"solid": "-", "dashed": "--", "dotted": ":"}


@dataclass
class _Item:
    id: str
    kind: str
    text: list[str] = field(default_factory=list)
    dummy: bool = False
    level: int = 0
    x: float = 0.0

    @property
    def w(self) -> float:
        return DUMMY_W if self.dummy else DIAMOND_W if self.kind == "branch" else END_W if self.kind == "end" \
            else BOX_W

    @property
    def h(self) -> float:
        return 0.0 if self.dummy else DIAMOND_H if self.kind == "branch" else END_H if self.kind == "end" \
            else BOX_H


@dataclass
class _Edge:
    src: str
    dst: str
    label: str = ""
    style: str = "solid"
    via: list[str] = field(default_factory=list)  # placeholder items on the rows in between


def _ends(spec: Flowchart) -> tuple[list[_Item], list[_Edge]]:
    """A small `end` terminal for each jump to `end` (and each branch side that leaves its block)."""
    items: list[_Item] = []
    edges: list[_Edge] = []
    for nid, label, in_loop in end_jumps(spec):
        items.append(_Item(f"end·{nid}·{label}", "end", ["end of round" if in_loop else "end"]))
        edges.append(_Edge(nid, items[-1].id, label))
    return items, edges


def diagram(spec: Spec, answers: dict[str, Any] | None = None) -> tuple[list[_Item], list[_Edge], list[_Edge]]:
    """Items, forward edges and loop-back edges of a spec (layout not yet done)."""
    s = structure(spec)
    items = [_Item(f"in_{name}", "input", wrap(f"input {name}", 30, 2)) for name in
             (spec.inputs if s["kind"] == "graph" else {})]
    for n in s["nodes"]:
        width = 20 if n["kind"] == "branch" else 34
        text = [n["id"], *wrap(n["title"], width, 2 if n["kind"] == "branch" else 3)] if n["title"] != n["id"] \
            else [n["id"]]
        if answers and n["id"] in answers:
            text.append("⇒ " + shorten(str(answers[n["id"]]), width - 2))
        items.append(_Item(n["id"], n["kind"], text))
    ids = {it.id for it in items}
    fwd = [_Edge(e["from"], e["to"], e["label"]) for e in s["edges"] if e["from"] in ids and e["to"] in ids]
    fwd += [_Edge(f"in_{name}", node, "", "dashed") for name, node in input_uses(spec) if f"in_{name}" in ids]
    back: list[_Edge] = []
    for n in spec.walk():
        if n.loop and n.loop.body:
            fwd.append(_Edge(n.id, n.loop.body[0].id, "body"))
            last = n.loop.carry or n.loop.body[-1].id
            until = n.loop.until.describe() if n.loop.until else "?"
            back.append(_Edge(last, n.loop.body[0].id, f"repeat (≤{n.loop.max}×) until {until}", "dashed"))
    if isinstance(spec, Flowchart):  # parallel arms rejoin the step after the parallel step
        ends, to_end = _ends(spec)
        items += ends
        fwd += to_end
        for seq, _parent in sequences(spec.nodes):
            for i, n in enumerate(seq):
                after = n.next or (seq[i + 1].id if i + 1 < len(seq) else None)
                if n.arms and after and after != END and any(n.arms):
                    fwd = [e for e in fwd if not (e.src == n.id and e.dst == after)]  # drawn as the join
                    fwd += [_Edge(arm[-1].id, after, "", "dotted") for arm in n.arms if arm]
    return items, fwd, back


def _layers(items: list[_Item], fwd: list[_Edge], back: list[_Edge]) -> None:
    """Longest-path rows; an edge that closes a cycle (against file order) becomes a back edge."""
    order = {it.id: i for i, it in enumerate(items)}
    by_id = {it.id: it for it in items}
    while True:
        indeg = {i: 0 for i in order}
        for e in fwd:
            indeg[e.dst] += 1
        ready = [i for i in order if indeg[i] == 0]
        done: list[str] = []
        while ready:
            a = ready.pop(0)
            done.append(a)
            for e in fwd:
                if e.src == a:
                    indeg[e.dst] -= 1
                    if indeg[e.dst] == 0:
                        ready.append(e.dst)
        if len(done) == len(order):
            break
        stuck = set(order) - set(done)
        against = [e for e in fwd if e.src in stuck and e.dst in stuck and order[e.src] >= order[e.dst]]
        for e in against or [e for e in fwd if e.src in stuck and e.dst in stuck][:1]:
            fwd.remove(e)
            back.append(_Edge(e.src, e.dst, e.label, "dashed"))
    for a in done:
        for e in fwd:
            if e.src == a:
                by_id[e.dst].level = max(by_id[e.dst].level, by_id[a].level + 1)


def _place(items: list[_Item], fwd: list[_Edge]) -> dict[int, list[_Item]]:
    """Placeholder items for long edges, row order by barycentres, then x positions."""
    by_id = {it.id: it for it in items}
    for k, e in enumerate(fwd):
        a, b = by_id[e.src], by_id[e.dst]
        for lv in range(a.level + 1, b.level):
            d = _Item(f"·{k}·{lv}", "dummy", dummy=True, level=lv)
            items.append(d)
            by_id[d.id] = d
            e.via.append(d.id)
    rows: dict[int, list[_Item]] = {}
    for it in items:
        rows.setdefault(it.level, []).append(it)
    nbrs: dict[str, tuple[list[str], list[str]]] = {it.id: ([], []) for it in items}
    for e in fwd:
        chain = [e.src, *e.via, e.dst]
        for a, b in zip(chain, chain[1:], strict=False):
            nbrs[b][0].append(a)
            nbrs[a][1].append(b)
    index = {it.id: float(i) for row in rows.values() for i, it in enumerate(row)}
    levels = sorted(rows)
    for sweep in range(6):  # barycentre ordering: down with parents, up with children
        down = sweep % 2 == 0
        for lv in levels if down else reversed(levels):
            row = rows[lv]
            keys = {it.id: _mean([index[o] for o in nbrs[it.id][0 if down else 1]], index[it.id]) for it in row}
            row.sort(key=lambda it: keys[it.id])
            for i, it in enumerate(row):
                index[it.id] = float(i)
    for lv in levels:  # first placement: packed and centred
        _pack(rows[lv], [0.0] * len(rows[lv]))
    for sweep in range(4):  # then pulled towards neighbours while keeping order and gaps
        down = sweep % 2 == 0
        for lv in levels[1:] if down else reversed(levels[:-1]):
            row = rows[lv]
            want = [_mean([by_id[o].x for o in nbrs[it.id][0 if down else 1]], it.x) for it in row]
            _pack(row, want)
    return rows


def _mean(xs: list[float], default: float) -> float:
    return sum(xs) / len(xs) if xs else default


def _pack(row: list[_Item], want: list[float]) -> None:
    """x as close to `want` as the order and gaps allow (shifted so the mean offset is zero)."""
    x = -1e9
    for it, w in zip(row, want, strict=True):
        left = max(w - it.w / 2, x)
        it.x = left + it.w / 2
        x = left + it.w + GAP
    shift = _mean([w - it.x for it, w in zip(row, want, strict=True)], 0.0)
    for it in row:
        it.x += shift


def _outermost(it: _Item, rows: dict[int, list[_Item]], side: int) -> bool:
    """No box lies beyond `it` on its row towards `side` (+1 right, -1 left)."""
    return not any(o is not it and not o.dummy and (o.x - it.x) * side > 0 for o in rows[it.level])


def _port(it: _Item, dx: float, bottom: bool, y: float) -> tuple[float, float]:
    """A point on the bottom (or top) outline of an item, dx from its centre."""
    if it.dummy:
        return it.x, y
    sign = -1 if bottom else 1
    if it.kind == "branch":  # along the diamond's sloped sides
        return it.x + dx, y + sign * (it.h / 2 - abs(dx) * it.h / it.w)
    return it.x + dx, y + sign * it.h / 2


@dataclass
class Layout:
    """A drawing before it is drawn: items with x and row, and every edge as a polyline."""

    items: list[_Item]
    ypos: dict[int, float]
    edges: list[tuple[list[tuple[float, float]], _Edge]]  # forward edges, first point at the source
    loops: list[tuple[list[tuple[float, float]], _Edge, int]]  # loop-backs and the side of their lane
    bounds: tuple[float, float, float, float]  # xmin, xmax, ymin, ymax
    output: str | None

    def box(self, it: _Item) -> tuple[float, float, float, float]:
        y = self.ypos[it.level]
        return it.x - it.w / 2, y - it.h / 2, it.x + it.w / 2, y + it.h / 2


def layout(spec: Spec, answers: dict[str, Any] | None = None) -> Layout:
    """Rows, order and x of every item, and the polylines of every edge."""
    items, fwd, back = diagram(spec, answers)
    _layers(items, fwd, back)
    rows = _place(items, fwd)
    by_id = {it.id: it for it in items}
    ypos = {lv: -lv * ROW for lv in rows}
    xmin = min(it.x - it.w / 2 for it in items) - 0.3
    xmax = max(it.x + it.w / 2 for it in items) + 0.3
    ymin, ymax = -max(rows) * ROW - DIAMOND_H / 2 - 0.6, DIAMOND_H / 2 + 0.3
    loops: list[tuple[list[tuple[float, float]], _Edge, int]] = []
    reach: dict[int, tuple[float, float]] = {  # per row: leftmost and rightmost ink so far
        lv: (min(it.x - it.w / 2 for it in row), max(it.x + it.w / 2 for it in row)) for lv, row in rows.items()}

    def label_width(e: _Edge) -> float:
        return 0.15 + 0.075 * max(map(len, wrap(e.label, 24, 3)), default=0)

    def nearer_side(a: _Item, b: _Item, left: float, right: float) -> int:
        return 1 if right - max(a.x, b.x) <= min(a.x, b.x) - left else -1

    selfs = [e for e in back if e.src == e.dst]
    for e in selfs:  # a one-step body: a small loop beside its box
        a = by_id[e.src]
        lo, hi = reach[a.level]
        side = nearer_side(a, a, lo, hi)
        if not _outermost(a, rows, side):
            continue
        ya = ypos[a.level]
        edge, lane = a.x + side * a.w / 2, a.x + side * (a.w / 2 + 0.4)
        loops.append(([(edge, ya - a.h / 4), (lane, ya - a.h / 4), (lane, ya + a.h / 4), (edge, ya + a.h / 4)],
                      e, side))
        reach[a.level] = (min(lo, lane - label_width(e)), hi) if side < 0 else (lo, max(hi, lane + label_width(e)))
    drawn = {id(x[1]) for x in loops}
    for k, e in enumerate([e for e in back if id(e) not in drawn]):  # a lane beside everything it passes
        a, b = by_id[e.src], by_id[e.dst]
        span = range(min(a.level, b.level), max(a.level, b.level) + 1)
        right = max(reach[lv][1] for lv in span) + 0.4 + 0.35 * k
        left = min(reach[lv][0] for lv in span) - 0.4 - 0.35 * k
        side = nearer_side(a, b, left, right)
        lane = right if side > 0 else left
        ya, yb = ypos[a.level], ypos[b.level]
        below, above = ya - DIAMOND_H / 2 - 0.2, yb + DIAMOND_H / 2 + 0.2
        da, db = side * a.w / 4, side * b.w / 4
        start = [(a.x + side * a.w / 2, ya)] if _outermost(a, rows, side) else \
            [_port(a, da, True, ya), (a.x + da, below), (lane, below)]
        end = [(b.x + side * b.w / 2, yb)] if _outermost(b, rows, side) else \
            [(lane, above), (b.x + db, above), _port(b, db, False, yb)]
        pts = [*start, (lane, start[-1][1]), (lane, end[0][1]), *end]
        loops.append(([p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]], e, side))
        ymin = min(ymin, below - 0.2)
        for lv in span:
            lo, hi = reach[lv]
            reach[lv] = (min(lo, lane - label_width(e)), hi) if side < 0 else (lo, max(hi, lane + label_width(e)))
    xmin = min(xmin, *(lo for lo, _ in reach.values()))
    xmax = max(xmax, *(hi for _, hi in reach.values()))
    # Forward edges leave and enter boxes at ports spread by the direction they go.
    outs: dict[str, list[tuple[float, _Edge]]] = {}
    ins: dict[str, list[tuple[float, _Edge]]] = {}
    for e in fwd:
        chain = [e.src, *e.via, e.dst]
        outs.setdefault(e.src, []).append((by_id[chain[1]].x, e))
        ins.setdefault(e.dst, []).append((by_id[chain[-2]].x, e))
    dx: dict[tuple[int, bool], float] = {}
    for bottom, groups in ((True, outs), (False, ins)):
        for nid, group in groups.items():
            it = by_id[nid]
            span = it.w * (0.25 if it.kind == "branch" else 0.5)
            ordered = sorted(group, key=lambda g: g[0])
            for i, (_, e) in enumerate(ordered):
                dx[(id(e), bottom)] = 0.0 if len(ordered) == 1 else -span / 2 + span * i / (len(ordered) - 1)
    edges = []
    for e in fwd:
        a, b = by_id[e.src], by_id[e.dst]
        pts = [_port(a, dx[(id(e), True)], True, ypos[a.level])]
        for d in (by_id[v] for v in e.via):
            pts += [(d.x, ypos[d.level] + DIAMOND_H / 2), (d.x, ypos[d.level] - DIAMOND_H / 2)]
        pts.append(_port(b, dx[(id(e), False)], False, ypos[b.level]))
        edges.append((pts, e))
    return Layout(items, ypos, edges, loops, (xmin, xmax, ymin, ymax), structure(spec).get("output"))


def render_png(spec: Spec, path: str | Path, answers: dict[str, Any] | None = None) -> Path:
    """Draw `spec` (optionally with node answers) to a PNG file; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Polygon
    from matplotlib.path import Path as MplPath

    lay = layout(spec, answers)
    xmin, xmax, ymin, ymax = lay.bounds
    fig = plt.figure(figsize=(min(60.0, (xmax - xmin) * 0.9), min(60.0, (ymax - ymin) * 0.9 + 0.4)))
    ax = fig.add_axes((0, 0, 1, 1 - 0.4 / ((ymax - ymin) * 0.9 + 0.4)))
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.axis("off")
    if spec.name:
        fig.suptitle(shorten(spec.name, 90), fontsize=10, y=0.995, va="top")

    def arrow(pts: list[tuple[float, float]], color: str, style: str) -> None:
        codes = [MplPath.MOVETO] + [MplPath.LINETO] * (len(pts) - 1)
        ax.add_patch(FancyArrowPatch(path=MplPath(pts, codes), arrowstyle="-|>", mutation_scale=10, color=color,
                                     lw=1.1, linestyle=STYLES[style], zorder=1, shrinkA=0, shrinkB=0))

    for pts, e in lay.edges:
        arrow(pts, "#9ca3af" if e.style != "solid" else "#374151", e.style)
        if e.label:
            (x1, y1), (x2, y2) = pts[0], pts[1]
            t = 0.45 if len(pts) == 2 else 0.6
            ax.text(x1 + (x2 - x1) * t, y1 + (y2 - y1) * t, e.label, fontsize=7, ha="center", va="center",
                    color="#111827", zorder=4, bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="#d1d5db", lw=0.5))
    for pts, e, side in lay.loops:
        arrow(pts, "#b91c1c", "dashed")
        lx = max(p[0] for p in pts) if side > 0 else min(p[0] for p in pts)
        ax.text(lx + 0.12 * side, (pts[0][1] + pts[-1][1]) / 2, "\n".join(wrap(e.label, 24, 3)), fontsize=7,
                color="#b91c1c", ha="left" if side > 0 else "right", va="center", zorder=4)
    for it in lay.items:
        if it.dummy:
            continue
        x, y = it.x, lay.ypos[it.level]
        fc, ec = COLORS.get(it.kind, "#ffffff"), "#374151"
        if it.kind == "branch":
            patch: Any = Polygon([(x, y + it.h / 2), (x + it.w / 2, y), (x, y - it.h / 2), (x - it.w / 2, y)],
                                 closed=True, fc=fc, ec=ec, lw=1)
        elif it.kind == "input":
            sk = 0.18
            patch = Polygon([(x - it.w / 2 + sk, y + it.h / 2), (x + it.w / 2, y + it.h / 2),
                             (x + it.w / 2 - sk, y - it.h / 2), (x - it.w / 2, y - it.h / 2)],
                            closed=True, fc=fc, ec=ec, lw=1, ls="--")
        else:
            style = "round,pad=0,rounding_size=0.08" if it.kind not in ("output", "end") else \
                f"round,pad=0,rounding_size={it.h / 2 - 0.02:.2f}"
            heavy = it.kind in ("loop", "parallel") or it.id == lay.output
            patch = FancyBboxPatch((x - it.w / 2, y - it.h / 2), it.w, it.h, boxstyle=style, fc=fc, ec=ec,
                                   lw=2 if heavy else 1)
        patch.set_zorder(2)
        ax.add_patch(patch)
        ax.text(x, y, "\n".join(it.text), ha="center", va="center", fontsize=7, zorder=3, linespacing=1.15)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
