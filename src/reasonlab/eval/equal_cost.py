"""Equal-cost comparison: accuracy against generated tokens per item, and claims only at matched tokens.

A strategy that spends 4× the tokens of another is not "better" for scoring a few points more.
For every (dataset, setting, model) this section lists each strategy's accuracy (95 % Wilson
interval) against its completion tokens per item, then states "A beats B" only where A spends at
most `slack` (10 %) more tokens than B. Where A is dearer, a strategy that voted over samples
(self-consistency, DiVeRSe, PAL with k > 1 — their stored `paths`) is cut down to its first k′
samples, re-voted from the stored answers, with k′ the largest whose tokens fit B's budget; the
claim is then made (or not) at that matched cost. Otherwise the pair is reported as "not
comparable at equal cost". A difference counts as significant only when the two Wilson
intervals do not overlap (conservative).

`equal_cost_section(data)` returns markdown lines; the report calls it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..answers import vote_key
from .intervals import wilson
from .results import Cell, Data

SLACK = 0.10


@dataclass
class Point:
    """One strategy (or a truncated vote of it) on the accuracy/tokens plane."""

    label: str
    correct: int
    n: int
    tokens: float  # completion tokens per item

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.correct, self.n)


def point(cell: Cell, primary: str) -> Point:
    vals = cell.values(primary, primary)
    correct = sum(1 for v in vals if v)
    return Point(cell.strategy, correct, len(vals), cell.per_item("completion_tokens"))


def _paths(row: Any) -> list[dict[str, Any]] | None:
    d = (row.details or {}).get("strategy") or {}
    paths = d.get("paths")
    return paths if isinstance(paths, list) and paths and all("key" in p for p in paths) else None


def truncated_curve(cell: Cell) -> list[Point]:
    """Accuracy and tokens of the vote over the first k′ stored samples, k′ = 1 … k (majority, ties
    to the earliest answer). Empty when some row has no stored paths."""
    rows = [r for r in cell.rows if r.status != "error"]
    per_row = [_paths(r) for r in rows]
    if not rows or any(p is None for p in per_row):
        return []
    k = min(len(p) for p in per_row if p)
    curve = []
    for kk in range(1, k + 1):
        correct = 0
        tokens = 0.0
        for r, paths in zip(rows, per_row, strict=True):
            first = sorted(paths or [], key=lambda p: p.get("index", 0))[:kk]
            counts: dict[str, int] = {}
            order: dict[str, int] = {}
            for p in first:
                if p.get("key") is not None and p.get("finish", "stop") != "repetition":
                    counts[p["key"]] = counts.get(p["key"], 0) + 1
                    order.setdefault(p["key"], p.get("index", 0))
            share = (r.completion_tokens / len(paths)) if paths else 0.0
            tokens += sum(p.get("tokens") or share for p in first)
            if counts:
                win = min(counts, key=lambda key: (-counts[key], order[key]))
                correct += win == vote_key(r.gold, "auto")
        curve.append(Point(f"{cell.strategy}@{kk}", correct, len(rows), tokens / len(rows)))
    return curve


def _fmt(p: Point) -> str:
    lo, hi = p.interval
    return f"{100 * p.accuracy:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}] at {p.tokens:.0f} tokens"


def claims(points: list[Point], curves: dict[str, list[Point]], slack: float = SLACK) -> list[str]:
    """Sentences comparing each pair only at matched tokens."""
    out = []
    for a in points:
        for b in points:
            if a is b or a.accuracy <= b.accuracy:
                continue
            if a.tokens <= b.tokens * (1 + slack):
                sig = "" if a.interval[0] > b.interval[1] else " (intervals overlap: not significant)"
                out.append(f"- **{a.label} beats {b.label}** at no more tokens: {_fmt(a)} vs {_fmt(b)}{sig}.")
                continue
            fit = [p for p in curves.get(a.label, []) if p.tokens <= b.tokens * (1 + slack)]
            if fit:
                m = fit[-1]
                if m.accuracy > b.accuracy:
                    sig = "" if m.interval[0] > b.interval[1] else " (intervals overlap: not significant)"
                    out.append(f"- **{m.label} beats {b.label}** at matched tokens: {_fmt(m)} vs {_fmt(b)}{sig}.")
                else:
                    out.append(f"- {a.label} is ahead of {b.label} only by spending more: at matched tokens "
                               f"{m.label} scores {_fmt(m)} vs {_fmt(b)}.")
                continue
            out.append(f"- {a.label} vs {b.label}: not comparable at equal cost ({a.tokens / max(b.tokens, 1):.1f}× "
                       f"the tokens; {_fmt(a)} vs {_fmt(b)}).")
    return out


def equal_cost_section(data: Data) -> list[str]:
    """Markdown: per (dataset, setting, model), accuracy vs tokens/item and the matched-token claims."""
    out = ["## Equal-cost comparison", "",
           "Accuracy against completion tokens per item; \"A beats B\" only where A spends at most "
           f"{int(SLACK * 100)} % more tokens than B, or after cutting a sampled vote down to B's tokens.", ""]
    groups: dict[tuple[str, str, str], list[Cell]] = {}
    for (ds, setting, _strategy, model), cell in sorted(data.cells.items()):
        groups.setdefault((ds, setting, model), []).append(cell)
    for (ds, setting, model), cells in groups.items():
        primary = data.primary(ds)
        points = [point(c, primary) for c in cells]
        curves = {c.strategy: truncated_curve(c) for c in cells}
        out += [f"### {ds} · {setting} · {model}", "", "| strategy | accuracy [95 % CI] | tokens/item | n |",
                "|---|---|---|---|"]
        for p in sorted(points, key=lambda p: p.tokens):
            lo, hi = p.interval
            out.append(f"| {p.label} | {100 * p.accuracy:.1f} [{100 * lo:.1f}, {100 * hi:.1f}] | {p.tokens:.0f} | {p.n} |")
        for name, curve in curves.items():
            if len(curve) > 1:
                out.append("")
                out.append(f"{name} cut to its first k samples: " + ", ".join(
                    f"k={i + 1}: {100 * p.accuracy:.0f} % at {p.tokens:.0f}" for i, p in enumerate(curve)))
        found = claims(points, curves)
        out += ["", *(found or ["- (one strategy only, or no accuracy differences)"]), ""]
    return out
