"""The results table `reasonlab eval` and `reasonlab report` print at the end: per dataset, one row per
strategy × model (× setting, where there are several) with the accuracy and its 95% interval, tokens
and seconds per item, and the gain over `direct` paired by item and run."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

from .intervals import bootstrap_mean
from .results import Cell, Data

GAIN_HELP = "gain over direct: accuracy points over `direct` on the same items and runs, 95% bootstrap interval"


def is_direct(strategy: str) -> bool:
    """`direct`, possibly with options: 'direct(max_tokens=32)'."""
    return strategy == "direct" or strategy.startswith("direct(")


@dataclass
class Gain:
    mean: float
    lo: float
    hi: float
    n: int

    def fmt(self) -> str:
        return f"{100 * self.mean:+.1f} [{100 * self.lo:+.1f}, {100 * self.hi:+.1f}]"


def gain_over_direct(data: Data, cell: Cell, primary: str) -> Gain | None:
    """Points gained over `direct` (same dataset, setting, model), paired by (run, item), with a 95% interval."""
    if is_direct(cell.strategy):
        return None
    bases = [c for k, c in sorted(data.cells.items())
             if k[0] == cell.dataset and k[1] == cell.setting and k[3] == cell.model and is_direct(k[2])]
    if not bases:
        return None
    base = bases[0]
    mine = {(r.key.run, r.key.item_id): v for r, v in zip(cell.rows, cell.values(primary, primary), strict=True)}
    theirs = {(r.key.run, r.key.item_id): v for r, v in zip(base.rows, base.values(primary, primary), strict=True)}
    diffs = [mine[k] - theirs[k] for k in mine.keys() & theirs.keys()
             if mine[k] is not None and theirs[k] is not None]
    if not diffs:
        return None
    lo, hi = bootstrap_mean(diffs)
    return Gain(sum(diffs) / len(diffs), lo, hi, len(diffs))


def accuracy_text(cell: Cell, primary: str) -> str:
    s = cell.summary(primary, primary)
    if s.mean is None:
        return "–"
    if not s.rate:
        return f"{s.mean:.3g} [{s.lo:.3g}, {s.hi:.3g}]"
    return f"{100 * s.mean:.1f} [{100 * (s.lo or 0):.1f}, {100 * (s.hi or 0):.1f}]"


def short_model(spec: str) -> str:
    """A model spec as a column entry: file paths reduced to the file name."""
    scheme, sep, rest = spec.partition(":")
    if sep and "/" in rest and scheme in ("llama", "scripted", "gguf"):
        return f"{scheme}:{rest.rsplit('/', 1)[-1]}"
    return spec


def _num(x: float, digits: int) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def table_rows(data: Data, dataset: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one dataset's table."""
    primary = data.primary(dataset)
    settings = data.settings(dataset)
    header = (["setting"] if len(settings) > 1 else []) + [
        "strategy", "model", "accuracy % [95% CI]", "n", "errors", "tokens/item", "s/item", "gain over direct"]
    rows = []
    for setting in settings:
        for c in data.in_setting(dataset, setting):
            gain = gain_over_direct(data, c, primary)
            rows.append(([setting] if len(settings) > 1 else []) + [
                c.strategy, short_model(c.model), accuracy_text(c, primary), str(len(c.rows)), str(c.errors),
                _num(c.tokens_per_item, 0), _num(c.per_item("seconds"), 2), gain.fmt() if gain else "–"])
    return header, rows


def align(header: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Columns padded to their widest entry; numbers right-aligned."""
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]

    def numeric(i: int) -> bool:
        return all(r[i][:1].isdigit() or r[i][:1] in "+-–" for r in rows) and bool(rows)

    def line(cells: list[str]) -> str:
        return indent + "  ".join(c.rjust(w) if numeric(i) else c.ljust(w)
                                  for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(header), indent + "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def results_table(data: Data) -> str:
    """The whole table as text (empty when nothing ran yet)."""
    out: list[str] = []
    for ds in data.datasets():
        header, rows = table_rows(data, ds)
        if not rows:
            continue
        out += [f"{ds} (primary metric: {data.primary(ds)})", *align(header, rows), ""]
    if not out:
        return ""
    note = ("accuracy: share of tasks whose primary metric is right, 95% Wilson interval (errored tasks count "
            f"as wrong); n: items × runs; tokens/item, s/item: model cost per task; {GAIN_HELP}.")
    out += textwrap.wrap(note, 100)
    return "\n".join(out)


def table_of(folder) -> str:
    """The results table of an evaluation folder, read from its store."""
    from .results import load
    from .store import Store

    store = Store(folder)
    try:
        return results_table(load(store))
    finally:
        store.close()
