"""`reasonlab show DIR ITEM`: one item of a finished evaluation, in full (audit a run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


def _votes(d: dict[str, Any]) -> list[str]:
    """The vote table: answer, paths, summed weight, and each path's confidence / finish."""
    votes = d.get("votes") if isinstance(d.get("votes"), dict) else {}
    weights = d.get("weights") or {}
    lines = ["  votes:", f"    {'answer':>14} {'paths':>5} {'weight':>8}"] if votes else []
    for key, n in sorted(votes.items(), key=lambda kv: (-(weights.get(kv[0]) or kv[1]), kv[0])):
        w = weights.get(key)
        lines.append(f"    {key:>14} {n:>5} {'' if w is None else f'{w:8.3f}'}")
    for p in d.get("paths") or []:
        conf = p.get("confidence")
        lines.append(f"    path {p.get('index'):>2}: answer={p.get('answer')!s:<10} "
                     f"confidence={'-' if conf is None else f'{conf:.3f}'} weight={p.get('weight')} "
                     f"kept={p.get('kept', True)} finish={p.get('finish', 'stop')} tokens={p.get('tokens', '')}")
    return lines


def _programs(d: dict[str, Any]) -> list[str]:
    samples = d.get("samples") if isinstance(d.get("samples"), list) else (
        [{"index": 0, "answer": None, "rounds": d["rounds"]}] if isinstance(d.get("rounds"), list) else [])
    lines = []
    for s in samples:
        for a in s.get("rounds") or []:
            if not isinstance(a, dict) or "code" not in a:
                continue  # not a program round (plan-modulo's rounds stay in "details")
            lines.append(f"  program {s.get('index')} round {a.get('round')}: answer={a.get('answer')} "
                         f"value={a.get('value')} exit={a.get('exit_code')} finish={a.get('finish')} "
                         f"error={(a.get('error') or '').splitlines()[-1:] or ''}")
            if a.get("code"):
                lines += ["    " + ln for ln in a["code"].splitlines()]
    return lines


def _tree(d: dict[str, Any]) -> list[str]:
    tree = d.get("tree")
    if not isinstance(tree, dict):
        return []
    best = set(tree.get("best") or [])
    lines = [f"  tree: mode={tree.get('mode')} scoring={tree.get('scoring')} levels={tree.get('levels')} "
             f"budget={tree.get('budget')}"]
    for n in tree.get("nodes") or []:
        mark = "*" if n["id"] in best else " "
        lines.append(f"   {mark}{'  ' * n['depth']}[{n['id']}] {n['status']:8} {n['score']:.3f} {n['step'][:90]}"
                     + (f"  → {n['answer']}" if n.get("answer") is not None else "")
                     + (f"  ({n['error']})" if n.get("error") else ""))
    return lines


def _first_win(rows: list[Any], strategy: str, baseline: str = "direct") -> str:
    """The first item (in run order) that `strategy` got right and `baseline` got wrong."""
    from ..errors import InputError

    def right(r: Any) -> bool:
        return bool(r.metrics.get("flexible", r.metrics.get("strict", 0)))

    by_item: dict[str, dict[str, bool]] = {}
    for r in rows:
        by_item.setdefault(r.key.item_id, {})[r.key.strategy] = right(r)
    if not any(strategy in v for v in by_item.values()):
        raise InputError(f"no results for strategy {strategy!r} in this folder")
    for item_id, got in by_item.items():
        if got.get(strategy) and not got.get(baseline, False):
            click.echo(f"(the first item {strategy} got right and {baseline} did not: {item_id})")
            return item_id
    first = next(iter(by_item))
    click.echo(f"({strategy} beat {baseline} on no item of this run; showing the first item, {first})")
    return first


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.argument("item")
@click.option("--strategy", "-s", help="Only this strategy.")
@click.option("--json", "as_json", is_flag=True, help="Print the stored rows as JSON.")
def show(folder: Path, item: str, strategy: str | None, as_json: bool) -> None:
    """Print item ITEM of the evaluation in FOLDER in full: answer, votes with confidences, programs
    and their runs, the search tree, the drawn graph, the reasoning.

    ITEM is an item id, or win:STRATEGY for the first item STRATEGY got right and direct got wrong.
    """
    from ..errors import InputError
    from ..eval.store import Store

    if not (folder / Store.FILENAME).is_file():
        raise InputError(f"{folder}: no {Store.FILENAME} here (run `reasonlab eval --out {folder}` first)")
    store = Store(folder)
    try:
        every = list(store.rows())
    finally:
        store.close()
    if item.startswith("win:"):
        item = _first_win(every, item[4:])
    rows = [r for r in every if r.key.item_id == item and (strategy is None or r.key.strategy == strategy)]
    if not rows:
        raise InputError(f"{folder}: no results for item {item!r}" + (f" with strategy {strategy!r}" if strategy else ""))
    if as_json:
        click.echo(json.dumps([{**r.flat(), "metrics": r.metrics, "details": r.details} for r in rows],
                              ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"item {item}: {rows[0].question}\ngold: {rows[0].gold}")
    for r in rows:
        k = r.key
        click.echo(f"\n=== {k.strategy} · {k.model} · {k.dataset} · {k.setting} · run {k.run}")
        click.echo(f"  answer={r.prediction} strict={r.strict_answer} status={r.status} metrics={r.metrics}")
        click.echo(f"  tokens: prompt {r.prompt_tokens}, completion {r.completion_tokens}; calls {r.calls}; "
                   f"{r.seconds:.1f}s" + (f"; error: {r.error}" if r.error else ""))
        d = r.details.get("strategy") or {}
        shown = {"votes", "weights", "paths", "tree"}
        for part, keys in ((_votes(d), ()), (_programs(d), ("samples", "rounds", "program")), (_tree(d), ())):
            if part:
                click.echo("\n".join(part))
                shown.update(keys)
        rest = {k2: v for k2, v in d.items() if k2 not in shown}
        if rest:
            click.echo("  details: " + json.dumps(rest, ensure_ascii=False, default=str)[:4000])
        if r.details.get("note"):
            click.echo(f"  note: {r.details['note']}")
        click.echo("  reasoning:\n" + "\n".join("    " + ln for ln in (r.details.get("reasoning") or "").splitlines()))


COMMANDS = [show]
