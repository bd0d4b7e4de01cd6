"""Aggregate the results store into report.md and results.csv (and call the plots)."""

from __future__ import annotations

import csv
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

from .equal_cost import equal_cost_section
from .glossary import glossary
from .metrics import Summary
from .results import ACCURACY_KEYS, Cell, Data, load, slug
from .store import Store
from .table import gain_over_direct, is_direct

__all__ = ["ACCURACY_KEYS", "Cell", "Data", "load", "slug", "is_direct", "render_markdown", "write_csv",
           "write_report"]


def _pct(x: float | None) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def _acc(s: Summary) -> str:
    if s.mean is None:
        return "–"
    return f"{100 * s.mean:.1f} [{100 * (s.lo or 0):.1f}, {100 * (s.hi or 0):.1f}]"


def _gain(data: Data, cell: Cell, primary: str) -> str:
    g = gain_over_direct(data, cell, primary)
    return g.fmt() if g else "–"


def human(n: float | None) -> str:
    """1234567 → '1.23M' (parameter counts)."""
    if not n:
        return "unknown"
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(int(n))


def _present(preferred: list[str], present: set[str]) -> list[str]:
    """Names in the order the config lists them, then any others the results hold."""
    return [x for x in dict.fromkeys(preferred) if x in present] + sorted(present - set(preferred))


def header(data: Data) -> list[str]:
    """What the tables below hold, read from the results themselves (not from the last command alone)."""
    cfg = data.meta.get("config", {})
    strategies = _present(cfg.get("strategies", []), {k[2] for k in data.cells})
    models = _present(cfg.get("models", []), {k[3] for k in data.cells})
    settings = sorted({k[1] for k in data.cells})
    runs = sorted({r.key.run for c in data.cells.values() for r in c.rows})
    temp = cfg.get("temperature")
    parts = [f"Strategies: {', '.join(strategies) or '–'}", f"models: {', '.join(models) or '–'}",
             f"settings: {', '.join(f'`{s}`' for s in settings) or '–'}"]
    if runs:
        parts.append(f"runs: {len(runs)}" + (f" (seeds {cfg.get('seed')}…)" if cfg.get("seed") is not None else ""))
    parts.append(f"temperature: {temp if temp is not None else 'default (0.01 for greedy strategies)'}")
    return [" · ".join(parts), ""]


def provenance(data: Data) -> list[str]:
    """The commands that filled this folder, and the versions they ran with."""
    commands = data.meta.get("commands") or []
    versions = data.meta.get("versions") or {}
    out = ["## How this report was made", ""]
    if commands:
        out += ["The results come from " + ("this command" if len(commands) == 1 else "these commands, in order")
                + " (re-running one resumes it; `reasonlab report FOLDER` re-renders this file):", "", "```",
                *commands, "```", ""]
    else:
        out += ["The results were made through the Python API (`reasonlab.eval.harness.Harness`); no command "
                "was recorded.", ""]
    if versions:
        out += ["Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", ""]
    return out


def render_markdown(data: Data, plots: dict[str, list[str]] | None = None) -> str:
    out = ["# Evaluation report", "", *header(data)]
    opts = {k.split(":", 1)[1]: v for k, v in data.meta.items() if k.startswith("strategy:") and v}
    opts = {k: v for k, v in opts.items() if any(c[2] == k for c in data.cells)}
    if opts:
        out += ["Strategy options: " + "; ".join(f"{name}: " + ", ".join(f"{k}={v}" for k, v in o.items())
                                                 for name, o in sorted(opts.items())), ""]
    out += provenance(data)
    out += ["Accuracy is the dataset's primary metric in percent with its 95% Wilson interval; "
            "n counts item × run tasks; errored tasks count as wrong and are listed under *errors*. "
            "Gain over direct is paired by item and run, with a 95% bootstrap interval. Every column and "
            "metric is explained in one line under *What the numbers mean* at the end.", ""]
    total_rows = sum(len(c.rows) for c in data.cells.values())
    total_err = sum(c.errors for c in data.cells.values())
    tokens = sum(r.prompt_tokens + r.completion_tokens for c in data.cells.values() for r in c.rows)
    secs = sum(r.seconds for c in data.cells.values() for r in c.rows)
    calls = sum(r.calls for c in data.cells.values() for r in c.rows)
    out += [f"Totals: {total_rows} tasks, **{total_err} errored**, {tokens} tokens, {calls} model calls, "
            f"{secs:.1f} model-seconds.", ""]
    for ds in data.datasets():
        primary = data.primary(ds)
        out += [f"## {ds}", "", f"Primary metric: `{primary}`.", ""]
        settings = data.settings(ds)
        for setting in settings:
            cells = data.in_setting(ds, setting)
            out += [f"### Setting `{setting}`", "",
                    "| strategy | model | accuracy % [95% CI] | strict % | n | errors | tokens/item | calls/item "
                    "| s/item | gain over direct (points) |",
                    "|---|---|---|---|---|---|---|---|---|---|"]
            for c in cells:
                acc = c.summary(primary, primary)
                strict = c.summary("strict", primary)
                out.append(f"| {c.strategy} | {c.model} | {_acc(acc)} | {_pct(strict.mean)} | {len(c.rows)} | "
                           f"{c.errors} | {c.tokens_per_item:.0f} | {c.per_item('calls'):.1f} | "
                           f"{c.per_item('seconds'):.2f} | {_gain(data, c, primary)} |")
            out.append("")
            metrics = data.metric_names(ds)
            if metrics:
                out += ["All metrics (mean [95% CI], n; rates in %, missing values excluded):", "",
                        "| strategy | model | " + " | ".join(metrics) + " |",
                        "|---|---|" + "---|" * len(metrics)]
                level = data.model_level(ds, setting)
                for c in cells:
                    vals = []
                    for m in metrics:
                        s = c.summary(m, primary)
                        if m in level.get(c.model, {}) and not any(m in r.metrics for r in c.rows):
                            vals.append("model-level ↓")  # no prompt of its own: scored once for the model
                            continue
                        vals.append("missing" if s.mean is None else
                                    (f"{_acc(s)} n={s.n}" if s.rate else
                                     f"{s.mean:.3g} [{s.lo:.3g}, {s.hi:.3g}] n={s.n}"))
                    out.append(f"| {c.strategy} | {c.model} | " + " | ".join(vals) + " |")
                out.append("")
            out += model_level_table(data, ds, setting)
        if len(settings) > 1:
            out += ["### Emergence settings side by side", "",
                    "Accuracy % [95% CI] per setting; in brackets after it, the per-run means (one per seed).", "",
                    "| strategy | model | " + " | ".join(f"`{s}`" for s in settings) + " |",
                    "|---|---|" + "---|" * len(settings)]
            pairs = sorted({(k[2], k[3]) for k in data.cells if k[0] == ds})
            for strat, model in pairs:
                vals = []
                for s in settings:
                    c = data.cells.get((ds, s, strat, model))
                    if c is None:
                        vals.append("–")
                        continue
                    runs = c.run_means(primary, primary)
                    spread = f" ({', '.join(_pct(v) for v in runs)})" if len(runs) > 1 else ""
                    vals.append(_acc(c.summary(primary, primary)) + spread)
                out.append(f"| {strat} | {model} | " + " | ".join(vals) + " |")
            out.append("")
        for p in (plots or {}).get(ds, []):
            out += [f"![{p}]({p})", ""]
    out += equal_cost_section(data)  # accuracy vs tokens, claims only at matched tokens (equal_cost.py)
    if data.models:
        out += ["## Models", "", "| model | backend | parameters | log-probabilities |", "|---|---|---|---|"]
        for spec, info in sorted(data.models.items()):
            out.append(f"| {spec} | {info.get('backend')} | {human(info.get('n_params'))} | "
                       f"{'yes' if info.get('supports_logprobs') else 'no (smooth log-prob metrics missing)'} |")
        out.append("")
    shown = {m for ds in data.datasets() for m in data.metric_names(ds)}
    shown |= {m for ds in data.datasets() for st in data.settings(ds)
              for metrics in data.model_level(ds, st).values() for m in metrics}
    out += glossary(sorted(shown, key=lambda m: (m not in ACCURACY_KEYS, m)))
    errs = [r for c in data.cells.values() for r in c.rows if r.status == "error"]
    if errs:
        out += ["## Errors", "", f"{len(errs)} tasks errored (re-run the same command to retry them):", ""]
        for r in errs[:20]:
            k = r.key
            out.append(f"- {k.dataset} · {k.setting} · {k.model} · {k.strategy} · run {k.run} · item {k.item_id}: "
                       f"{(r.error or '').splitlines()[0][:200] if r.error else ''}")
        if len(errs) > 20:
            out.append(f"- … and {len(errs) - 20} more (see results.csv)")
        out.append("")
    return "\n".join(out)


def model_level_table(data: Data, dataset: str, setting: str) -> list[str]:
    """Smooth metrics of the model itself, for strategies that give no prompt of their own: once per model."""
    table = data.model_level(dataset, setting)
    if not table:
        return []
    names = sorted({m for metrics in table.values() for m in metrics})
    out = ["Model-level smooth metrics (scored once per item under the `direct` strategy's prompt; they "
           "describe the model, not the strategies above that reason before answering):", "",
           "| model | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for model, metrics in table.items():
        out.append(f"| {model} | " + " | ".join("missing" if (s := metrics.get(m)) is None or s.mean is None
                                                else s.fmt(3) for m in names) + " |")
    return [*out, ""]


def write_csv(data: Data, path: Path) -> None:
    metric_names = sorted({m for c in data.cells.values() for r in c.rows for m in r.metrics})
    cols = ["dataset", "setting", "model", "strategy", "run", "item_id", "seed", "status", "gold", "prediction",
            "strict_answer", *metric_names, "prompt_tokens", "completion_tokens", "calls", "seconds",
            "attempts", "error"]
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for _, c in sorted(data.cells.items()):
            for r in c.rows:
                d = r.flat()
                for m in metric_names:
                    v = r.metrics.get(m)
                    d[m] = "" if v is None else v
                d["prediction"] = d["prediction"] or ""
                d["strict_answer"] = d["strict_answer"] or ""
                d["error"] = d["error"] or ""
                w.writerow(d)
    os.replace(tmp, path)


def _write_atomic(path: Path, text: str) -> None:
    """Write then rename, so a reader (or an interruption) never sees half a report."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _stderr_warning(message: str) -> None:
    print(f"reasonlab: warning: {message}", file=sys.stderr)


def write_report(folder: str | Path, plots: bool = True, warn: Callable[[str], None] | None = None) -> Path:
    """(Re-)render results.csv, report.md and the PNG plots of an evaluation folder from its store.

    The numbers are written first; plots come after and a plot that fails is a warning (`warn`,
    by default a line on stderr), never a failed report."""
    folder = Path(folder)
    warn = warn or _stderr_warning
    store = Store(folder)
    try:
        data = load(store)
    finally:
        store.close()
    write_csv(data, folder / "results.csv")
    path = folder / "report.md"
    _write_atomic(path, render_markdown(data))
    if plots and data.cells:
        try:
            from .plots import draw_all

            images = draw_all(data, folder, warn=warn)
        except Exception as e:  # noqa: BLE001 - e.g. matplotlib missing or broken: the numbers stand
            warn(f"no plots: {type(e).__name__}: {str(e)[:200]}")
            images = {}
        if any(images.values()):
            _write_atomic(path, render_markdown(data, images))
    return path
