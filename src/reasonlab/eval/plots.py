"""PNG plots: accuracy vs cost with the Pareto frontier, and metrics vs model size (emergence)."""

from __future__ import annotations

import math
from pathlib import Path

from .results import Data, slug

SMOOTH = ("token_edit_distance", "gold_logprob", "brier", "mc_grade", "gold_prob")


def pareto(points: list[tuple[float, float]]) -> list[int]:
    """Indices of points on the frontier (less cost, more accuracy), sorted by cost.

    A point is on it when no other point has cost ≤ and accuracy ≥ with one of them strict.
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -math.inf
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def accuracy_vs_cost(data: Data, dataset: str, folder: Path) -> str | None:
    settings = data.settings(dataset)
    primary = data.primary(dataset)
    plt = _plt()
    fig, axes = plt.subplots(1, len(settings), figsize=(6 * len(settings), 4.5), squeeze=False)
    strategies = sorted({k[2] for k in data.cells if k[0] == dataset})
    models = sorted({k[3] for k in data.cells if k[0] == dataset})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = "osD^vP*X"
    for ax, setting in zip(axes[0], settings, strict=True):
        pts, labels = [], []
        for c in data.in_setting(dataset, setting):
            s = c.summary(primary, primary)
            if s.mean is None:
                continue
            x, y = c.tokens_per_item, 100 * s.mean
            si, mi = strategies.index(c.strategy), models.index(c.model)
            err = [[max(0.0, y - 100 * (s.lo or 0))], [max(0.0, 100 * (s.hi or 0) - y)]]  # never negative
            ax.errorbar([x], [y], yerr=err, fmt=markers[mi % 8],
                        color=colors[si % len(colors)], capsize=3,
                        label=c.strategy if len(models) == 1 else f"{c.strategy} · {c.model}")
            pts.append((x, y))
            labels.append(c.strategy)
        if pts:
            front = pareto(pts)
            ax.step([pts[i][0] for i in front], [pts[i][1] for i in front], where="post", color="black",
                    linestyle="--", linewidth=1, label="Pareto frontier")
            for i in front:
                ax.scatter([pts[i][0]], [pts[i][1]], s=160, facecolors="none", edgecolors="black")
        ax.set_xlabel("tokens per item")
        ax.set_ylabel(f"{primary} accuracy (%)")
        ax.set_title(f"{dataset}\n{setting}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    name = f"accuracy_vs_tokens_{slug(dataset)}.png"
    fig.savefig(folder / name, dpi=110)
    plt.close(fig)
    return name


def metric_vs_size(data: Data, dataset: str, folder: Path) -> str | None:
    """Strict, flexible and smooth metrics against parameter count, one panel per metric."""
    sizes = {m: (info.get("n_params") or 0) for m, info in data.models.items()}
    used = {sizes.get(k[3]) for k in data.cells if k[0] == dataset} - {0, None}
    if len(used) < 2:  # one size (or none known): nothing to compare, lone dots would only mislead
        return None
    primary = data.primary(dataset)
    metrics = [m for m in (primary, "strict", "flexible", *SMOOTH)
               if m in data.metric_names(dataset)]
    metrics = list(dict.fromkeys(metrics))
    series: dict[tuple[str, str], list[tuple[float, dict[str, float | None]]]] = {}
    for (ds, setting, strat, model), c in data.cells.items():
        if ds != dataset or not sizes.get(model):
            continue
        vals = {m: c.summary(m, primary).mean for m in metrics}
        series.setdefault((strat, setting), []).append((float(sizes[model]), vals))
    if not series:
        return None
    plt = _plt()
    cols = min(3, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.5 * rows), squeeze=False)
    many_settings = len({k[1] for k in series}) > 1
    for ax, m in zip(axes.flat, metrics, strict=False):
        for (strat, setting), pts in sorted(series.items()):
            pts = sorted(p for p in pts if p[1][m] is not None)
            if not pts:
                continue
            ys = [p[1][m] for p in pts]
            ys = [100 * y for y in ys] if m in ("strict", "flexible", primary, "mc_grade") else ys
            ax.plot([p[0] for p in pts], ys, marker="o", label=f"{strat} · {setting}" if many_settings else strat)
        ax.set_xscale("log")
        ax.set_xlabel("parameters")
        if m in ("strict", "flexible", primary, "mc_grade"):
            ax.set_ylabel("%")
        kind = "all-or-nothing" if m in ("strict", "flexible", primary, "mc_grade") else "smooth"
        ax.set_title(f"{m} ({kind})", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"{dataset}: metrics vs model size", fontsize=10)
    fig.tight_layout()
    name = f"metric_vs_size_{slug(dataset)}.png"
    fig.savefig(folder / name, dpi=110)
    plt.close(fig)
    return name


def draw_all(data: Data, folder: Path, warn=None) -> dict[str, list[str]]:
    """Every plot of every dataset; returns the file names per dataset. A plot that fails is skipped
    and reported through `warn(message)` (it never fails the run); without `warn` it raises."""
    out: dict[str, list[str]] = {}
    for ds in data.datasets():
        names = []
        for label, draw in (("accuracy vs tokens", accuracy_vs_cost), ("metrics vs model size", metric_vs_size)):
            try:
                names.append(draw(data, ds, folder))
            except Exception as e:  # noqa: BLE001 - a plot is an extra: report it, keep the numbers
                if warn is None:
                    raise
                warn(f"plot '{label}' of {ds} skipped: {type(e).__name__}: {str(e)[:200]}")
        out[ds] = [n for n in names if n]
    return out
