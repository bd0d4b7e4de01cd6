"""`reasonlab bootstrap`: a pool of the model's own verified solutions, for similarity-picked exemplars."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import model_option, parse_kv


@click.command()
@click.option("--dataset", "-d", required=True, metavar="SPEC", help="Training data, e.g. jsonl:../shared/data/gsm8k/train.jsonl")
@click.option("--strategy", "-s", default="zero-shot-cot", show_default=True,
              help="Strategy whose verified solutions are kept (pal/pot keep programs).")
@model_option
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Pool file (JSONL exemplars); POOL.log.jsonl records every processed item.")
@click.option("--option", "-o", "extra", multiple=True, metavar="KEY=VALUE", help="A strategy option.")
@click.option("--skip", default="0-199", show_default=True,
              help="Positions (0-based) never run nor pooled: the report slice. 'none' to use every item.")
@click.option("--start", type=int, default=0, show_default=True, help="First position to consider.")
@click.option("--limit", "-n", type=int, help="Most items to process (already processed ones count).")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option("--cache/--no-cache", default=False, show_default=True, help="Use the completion cache.")
def bootstrap(dataset: str, strategy: str, model: str, out: Path, extra: tuple[str, ...], skip: str, start: int,
              limit: int | None, seed: int, cache: bool) -> None:
    """Run STRATEGY over a training file and keep only solutions verified correct (resumable).

    \b
    A solution is kept when its answer equals the gold answer; for programs (pal, pot, tree with
    mode=code) also when the program ran to the end in the sandbox and returned it. Re-run the
    same command to resume; Ctrl-C loses no finished item. Use the pool with
      reasonlab ask -s few-shot-cot -o exemplars=pool.jsonl -o selection=similar "…"
    \b
    Example:
      reasonlab bootstrap -d jsonl:../shared/data/gsm8k/train.jsonl -s pal -m llama:MODEL.gguf \\
          --start 200 -n 300 --out runs/pool-pal.jsonl
    """
    from ..eval.bootstrap import BootstrapConfig, Outcome, check_pool
    from ..eval.bootstrap import bootstrap as run_bootstrap

    cfg = BootstrapConfig(dataset=dataset, strategy=strategy, model=model, out=out, options=parse_kv(extra),
                          skip=skip, start=start, limit=limit, seed=seed, cache=cache)

    def show(o: Outcome) -> None:
        click.echo(f"{o.index:5d} {o.id:>8} {o.status:10} answer={o.answer} gold={o.gold} "
                   f"({o.tokens} tokens, {o.seconds:.1f}s)", err=True)

    try:
        counts = run_bootstrap(cfg, on_item=show)
    except KeyboardInterrupt:
        click.echo(f"reasonlab: interrupted; finished items are saved in {out} — re-run the same command to resume",
                   err=True)
        raise
    if out.is_file():
        check_pool(out, dataset, skip)
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()) + f" pool={out}")


COMMANDS = [bootstrap]
