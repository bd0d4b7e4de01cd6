"""The results of an evaluation grouped for reporting: cells of (dataset, setting, strategy, model).

Read by the report (tables) and the plots; `slug` names their files.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .metrics import Summary, summarize
from .store import ModelItem, Row, Store

ACCURACY_KEYS = ("strict", "flexible")


@dataclass
class Cell:
    """All rows of one (dataset, setting, strategy, model), all runs."""

    dataset: str
    setting: str
    strategy: str
    model: str
    rows: list[Row] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(r.status == "error" for r in self.rows)

    def values(self, metric: str, primary: str) -> list[float | None]:
        """Per-row values; an errored row counts as wrong (0) for accuracies, missing otherwise."""
        out: list[float | None] = []
        if not any(metric in r.metrics for r in self.rows):
            return [None] * len(self.rows)  # a metric this dataset does not have
        for r in self.rows:
            if r.status == "error":
                out.append(0.0 if metric in ACCURACY_KEYS or metric == primary else None)
            else:
                out.append(r.metrics.get(metric))
        return out

    def summary(self, metric: str, primary: str) -> Summary:
        return summarize(metric, self.values(metric, primary))

    def per_item(self, attr: str) -> float:
        return sum(getattr(r, attr) for r in self.rows) / len(self.rows) if self.rows else math.nan

    @property
    def tokens_per_item(self) -> float:
        return sum(r.prompt_tokens + r.completion_tokens for r in self.rows) / max(1, len(self.rows))

    def run_means(self, metric: str, primary: str) -> list[float]:
        by_run: dict[int, list[float]] = defaultdict(list)
        for r, v in zip(self.rows, self.values(metric, primary), strict=True):
            if v is not None:
                by_run[r.key.run].append(v)
        return [sum(v) / len(v) for _, v in sorted(by_run.items()) if v]


@dataclass
class Data:
    """The store's rows grouped for reporting."""

    cells: dict[tuple[str, str, str, str], Cell]
    models: dict[str, dict[str, Any]]
    meta: dict[str, Any]
    model_metrics: dict[ModelItem, dict[str, float | None]] = field(default_factory=dict)

    def datasets(self) -> list[str]:
        return sorted({k[0] for k in self.cells})

    def settings(self, dataset: str) -> list[str]:
        return sorted({k[1] for k in self.cells if k[0] == dataset})

    def in_setting(self, dataset: str, setting: str) -> list[Cell]:
        return [c for k, c in sorted(self.cells.items()) if k[0] == dataset and k[1] == setting]

    def primary(self, dataset: str) -> str:
        return (self.meta.get(f"dataset:{dataset}") or {}).get("primary", "flexible")

    def metric_names(self, dataset: str) -> list[str]:
        names: set[str] = set()
        for k, c in self.cells.items():
            if k[0] == dataset:
                for r in c.rows:
                    names.update(r.metrics)
        first = list(dict.fromkeys(m for m in (self.primary(dataset), *ACCURACY_KEYS) if m in names))
        return first + sorted(names - set(first))

    def model_level(self, dataset: str, setting: str) -> dict[str, dict[str, Summary]]:
        """Model-level metrics (scored once per item, not per strategy) summarised per model."""
        by_model: dict[str, list[dict[str, float | None]]] = defaultdict(list)
        for k, metrics in self.model_metrics.items():
            if k.dataset == dataset and k.setting == setting:
                by_model[k.model].append(metrics)
        out: dict[str, dict[str, Summary]] = {}
        for model, rows in sorted(by_model.items()):
            names = sorted({m for r in rows for m in r})
            out[model] = {m: summarize(m, [r.get(m) for r in rows]) for m in names}
        return out


def load(store: Store) -> Data:
    cells: dict[tuple[str, str, str, str], Cell] = {}
    for row in store.rows():
        k = row.key
        key = (k.dataset, k.setting, k.strategy, k.model)
        cells.setdefault(key, Cell(*key)).rows.append(row)
    return Data(cells, store.models(), store.meta(), store.model_metrics())


def slug(text: str) -> str:
    """A file-name-safe short form of a dataset spec (paths reduced to their file name)."""
    prefix, _, arg = text.partition(":")
    if "/" in arg and Path(arg.split("?")[0]).suffix:
        arg = Path(arg).stem
    return re.sub(r"[^A-Za-z0-9]+", "-", f"{prefix}-{arg}").strip("-").lower()[:80] or "x"
