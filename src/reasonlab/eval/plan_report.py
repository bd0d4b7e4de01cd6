"""The planning report: autonomous vs LLM-Modulo vs guided search vs planner, Blocksworld vs
Mystery (the obfuscation drop), and the rounds-to-success distribution — built from run records.

A record is a plain dict: dataset, strategy, model, valid (0/1), goal_reached,
executable_prefix, rounds_used, rounds_to_success, moves (guided search: moves to the valid
plan), independent_valid (a second validator's verdict on a reported-valid plan), tokens,
seconds, length_ratio (any may be None). `records_from_store`
reads them from an evaluation folder (`reasonlab eval … --out DIR`); benchmarks build them
directly. `render(records)` returns Markdown.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .intervals import wilson

Record = dict[str, Any]


def records_from_store(folder: str | Path) -> list[Record]:
    """Records of every finished planning row in an evaluation folder."""
    from .store import Store

    store = Store(folder, create=False)  # corrupt or missing: one line naming the file
    try:
        out = []
        for row in store.rows():
            m = row.metrics or {}
            if "valid_plan" not in m or row.status == "error":
                continue
            out.append({"dataset": row.key.dataset, "strategy": row.key.strategy, "model": row.key.model,
                        "item": row.key.item_id, "valid": m.get("valid_plan"),
                        "goal_reached": m.get("goal_reached"), "rounds_used": m.get("rounds_used"),
                        "rounds_to_success": m.get("rounds_to_success"), "length_ratio": m.get("length_ratio"),
                        "executable_prefix": m.get("executable_prefix"),
                        "tokens": row.prompt_tokens + row.completion_tokens, "seconds": row.seconds})
        return out
    finally:
        store.close()


def family(dataset: str) -> tuple[str, str]:
    """('blocksworld' | 'mystery' | 'random' | other, the rest of the spec) of a dataset spec."""
    prefix, _, rest = dataset.partition(":")
    if prefix == "mystery-blocksworld":
        return "mystery", rest
    if prefix == "random-blocksworld":
        return "random", rest
    if prefix.startswith("planbench-"):  # planbench-blocksworld / planbench-mystery: paired instances
        return prefix.removeprefix("planbench-"), "planbench" + (f":{rest}" if rest else "")
    return prefix, rest


def _mean(xs: Iterable[float | None]) -> float | None:
    vals = [float(x) for x in xs if x is not None]
    return sum(vals) / len(vals) if vals else None


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _rate(k: int, n: int) -> str:
    if n == 0:
        return "–"
    lo, hi = wilson(k, n)
    return f"{k}/{n} = {100 * k / n:.0f}% [{100 * lo:.0f}–{100 * hi:.0f}]"


def summary_rows(records: list[Record]) -> list[dict[str, Any]]:
    """One row per (dataset, strategy, model) with rates, rounds and cost."""
    groups: dict[tuple[str, str, str], list[Record]] = defaultdict(list)
    for r in records:
        groups[(r["dataset"], r["strategy"], r["model"])].append(r)
    rows = []
    for (ds, strat, model), rs in sorted(groups.items()):
        solved = [r for r in rs if r.get("valid")]
        tokens = sum(r.get("tokens") or 0 for r in rs)
        rows.append({
            "dataset": ds, "strategy": strat, "model": model, "n": len(rs), "valid": len(solved),
            "goal_reached": _mean(r.get("goal_reached") for r in rs),
            "executable_prefix": _mean(r.get("executable_prefix") for r in rs),
            "tokens_per_item": tokens / len(rs),
            "rounds_used": _mean(r.get("rounds_used") for r in rs),
            "length_ratio": _mean(r.get("length_ratio") for r in solved),
            "tokens_per_solved": (tokens / len(solved)) if solved else None,
            "rounds_to_success": _mean(r.get("rounds_to_success") for r in solved),
            "moves_to_success": _mean(r.get("moves") for r in solved),
            "rejected": sum(1 for r in solved if r.get("independent_valid") is False),
            "tokens_total": tokens,
            "seconds": _mean(r.get("seconds") for r in rs),
        })
    return rows


def render(records: list[Record], title: str = "Planning report") -> str:
    """Markdown: the summary table, the obfuscation drop, the rounds-to-success distribution."""
    lines = [f"# {title}", ""]
    if not records:
        return "\n".join([*lines, "No planning records."])
    rows = summary_rows(records)
    lines += ["## Autonomous vs LLM-Modulo vs guided search vs planner", "",
              "| dataset | strategy | model | valid plans [95% CI] | goal reached | executable prefix | "
              "mean rounds | to success | length / optimal | tokens per item | tokens per solved | s per item |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        tps = "–" if r["tokens_per_solved"] is None else f"{r['tokens_per_solved']:.0f}"
        rounds = "–" if r["rounds_used"] is None else f"{r['rounds_used']:.1f}"
        ratio = "–" if r["length_ratio"] is None else f"{r['length_ratio']:.2f}"
        secs = "–" if r["seconds"] is None else f"{r['seconds']:.2f}"
        to = ("–" if r["rounds_to_success"] is None and r["moves_to_success"] is None
              else f"{r['rounds_to_success']:.1f} rounds" if r["rounds_to_success"] is not None
              else f"{r['moves_to_success']:.1f} moves")
        lines.append(f"| {r['dataset']} | {r['strategy']} | {r['model']} | {_rate(r['valid'], r['n'])} | "
                     f"{_pct(r['goal_reached'])} | {_pct(r['executable_prefix'])} | {rounds} | {to} | {ratio} | "
                     f"{r['tokens_per_item']:.0f} | {tps} | {secs} |")

    # Obfuscation drop: same strategy, model and instance spec, plain vs mystery/random names.
    by_key = {(family(r["dataset"]), r["strategy"], r["model"]): r for r in rows}
    drops = []
    for ((fam, rest), strat, model), r in sorted(by_key.items()):
        if fam != "blocksworld":
            continue
        for other in ("mystery", "random"):
            o = by_key.get(((other, rest), strat, model))
            if o and r["n"] and o["n"]:
                a, b = r["valid"] / r["n"], o["valid"] / o["n"]
                drops.append(f"| {rest} | {strat} | {model} | {other} | {_pct(a)} | {_pct(b)} | "
                             f"{100 * (a - b):.0f} points |")
    if drops:
        lines += ["", "## Blocksworld vs obfuscated names (the drop)", "",
                  "| instances | strategy | model | variant | Blocksworld | obfuscated | drop |",
                  "|---|---|---|---|---|---|---|", *drops]

    hist_lines = []
    groups: dict[tuple[str, str, str], list[Record]] = defaultdict(list)
    for r in records:
        if "modulo" in r["strategy"]:
            groups[(r["dataset"], r["strategy"], r["model"])].append(r)
    for (ds, strat, model), rs in sorted(groups.items()):
        counts = Counter(int(r["rounds_to_success"]) for r in rs if r.get("rounds_to_success") is not None)
        failed = sum(1 for r in rs if r.get("rounds_to_success") is None)
        cells = ", ".join(f"round {k}: {v}" for k, v in sorted(counts.items())) or "none solved"
        hist_lines.append(f"| {ds} | {strat} | {model} | {cells} | {failed} |")
    if hist_lines:
        lines += ["", "## Rounds to success (LLM-Modulo)", "",
                  "| dataset | strategy | model | first valid plan at | never valid |", "|---|---|---|---|---|",
                  *hist_lines]
    checked = [r for r in records if r.get("valid") and "independent_valid" in r]
    if checked:
        bad = sum(1 for r in checked if r["independent_valid"] is False)
        lines += ["", f"Independent check (unified-planning's PlanValidator) of the {len(checked)} plans reported "
                      f"valid: {bad} rejected."]
    lines += ["", "A plan counts as valid only when the validator (pddl-pyvalidator) accepted it; "
              "intervals are Wilson 95% intervals. Tokens per solved = all tokens of the group / plans found."]
    return "\n".join(lines) + "\n"
