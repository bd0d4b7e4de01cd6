"""`reasonlab eval` (run an evaluation, resumably) and `reasonlab report DIR` (re-render it)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import expect_batching, kv_option, parse_kv, threads_option, weights_option


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _shots(value: str | None) -> list[int | None]:
    if value is None:
        return [None]
    try:
        out: list[int | None] = [int(v) for v in _csv(value)]
    except ValueError:
        raise click.BadParameter(f"--shots takes integers such as 0 or 0,3 (got {value!r})") from None
    if not out or any(v is not None and v < 0 for v in out):
        raise click.BadParameter("--shots must be 0 or more")
    return out


@click.command(name="eval")
@click.option("--dataset", "-d", "datasets", multiple=True, required=True, metavar="SPEC",
              help="jsonl:PATH[?question=F&answer=F] | csv:PATH | parquet:PATH | hf:DATASET[?split=S] | "
              "bigbench:TASK[/SUBTASK] | procedural:KIND[?n=N&seed=S] … (repeat for more).")
@click.option("--strategies", "-s", default="direct,zero-shot-cot", show_default=True,
              help="Comma-separated strategies (see `reasonlab strategies`).")
@click.option("--models", "-m", default="smollm2", show_default=True, envvar="REASONLAB_MODELS",
              help="Comma-separated model specs (each loaded once).")
@threads_option
@weights_option
@kv_option
@click.option("--limit", "-n", type=int, help="First N items of each dataset.")
@click.option("--runs", type=int, default=1, show_default=True, help="Runs per setting, seeds SEED, SEED+1, …")
@click.option("--seed", type=int, default=0, show_default=True, help="Base sampling seed.")
@click.option("--shots", help="Exemplars for strategies with a `shots` option; a list such as 0,3 runs each.")
@click.option("--prompt-format", "prompt_formats", default="closed", show_default=True,
              help="open | closed | closed-adversarial (multiple choice; a comma list runs each).")
@click.option("--temperature", "-t", type=float,
              help="Temperature of every strategy. Default: 0.01 for greedy strategies, sampling ones keep theirs.")
@click.option("--concurrency", "-c", type=int, default=1, show_default=True, help="Tasks run at once (threads).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the results store, report.md, results.csv and plots.")
@click.option("--option", "-o", "extra", multiple=True, metavar="[STRATEGY.]KEY=VALUE",
              help="A strategy option for every chosen strategy that has it, or for one strategy.")
@click.option("--exemplars", help="Few-shot exemplars for strategies with an `exemplars` option: `dataset` "
              "draws them from the dataset itself (never an evaluated item), or a built-in set name / JSONL path.")
@click.option("--tolerance", type=float, default=0.0, show_default=True,
              help="Relative tolerance when comparing numeric answers.")
@click.option("--smooth/--no-smooth", default=True, show_default=True,
              help="Score log-probability metrics (extra scoring calls, where the backend supports them).")
@click.option("--cache/--no-cache", default=False, show_default=True,
              help="Use the completion cache (off: costs and seconds are measured honestly).")
@click.option("--timeout", type=float, help="Seconds per task before it is stopped and recorded as an error.")
@click.option("--progress/--no-progress", default=True, help="Show the progress bar.")
@click.option("--plots/--no-plots", default=True, show_default=True, help="Draw PNG plots.")
@click.option("--log-samples", is_flag=True,
              help="Also write OUT/samples.jsonl: per task its prompt, output, extracted answers and metrics.")
def eval_cmd(datasets: tuple[str, ...], strategies: str, models: str, limit: int | None, runs: int, seed: int,
             shots: str | None, prompt_formats: str, temperature: float | None, concurrency: int, out: Path,
             extra: tuple[str, ...], exemplars: str | None, tolerance: float, smooth: bool, cache: bool,
             timeout: float | None,
             progress: bool, plots: bool, log_samples: bool = False) -> None:
    """Evaluate strategies × models on datasets; resumable (re-run the same command).

    \b
    Examples:
      reasonlab eval -d procedural:two-step-arithmetic -n 50 -s direct,zero-shot-cot -m smollm2 --out runs/a
      reasonlab eval -d bigbench:emoji_movie --prompt-format closed,closed-adversarial --shots 0,3 \\
          --runs 3 -s direct,few-shot-cot --out runs/emoji
      reasonlab report runs/a           # re-render report.md, results.csv and plots
    """
    from ..eval.harness import EvalConfig, Harness
    from ..eval.report import write_report

    for name in _csv(strategies):  # --weights auto: batched decoding ahead (concurrent tasks, k > 1)
        expect_batching(name, parse_kv(extra), concurrency=concurrency)

    cfg = EvalConfig(
        datasets=list(datasets), strategies=_csv(strategies), models=_csv(models), out=out, limit=limit,
        runs=runs, seed=seed, shots=_shots(shots), prompt_formats=_csv(prompt_formats),
        temperature=temperature, concurrency=concurrency,
        options=parse_kv(extra),
        tolerance=tolerance, smooth=smooth, cache=cache, timeout=timeout, exemplars=exemplars)
    harness = Harness(cfg, progress=progress)
    from ..eval.provenance import record

    record(harness.store)  # the exact command and the versions, for the report
    try:
        try:
            done = harness.run()
            failed = harness.failures()
            if log_samples:
                from ..eval.samples_log import write_samples

                click.echo(f"samples: {write_samples(harness, out)}")
        except KeyboardInterrupt:
            click.echo(f"reasonlab: interrupted; finished items are saved in {out} — re-run the same command "
                       "to resume", err=True)
            raise
    finally:
        harness.close()
    path = write_report(out, plots=plots)
    from ..eval.table import table_of

    click.echo(table_of(out))
    others = f", {harness.by_others} by another evaluation into this folder" if harness.by_others else ""
    click.echo(f"{done.done} tasks run now ({done.errors} errored){others}; report: {path}")
    if failed:  # exit 1: the results contain failures (see the exit codes in `reasonlab --help`)
        click.echo(f"reasonlab: {failed} tasks errored; re-run the same command to retry them", err=True)
        sys.exit(1)


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--plots/--no-plots", default=True, show_default=True, help="Draw PNG plots.")
def report(folder: Path, plots: bool) -> None:
    """Re-render report.md, results.csv and plots of an evaluation FOLDER from its results store."""
    from ..errors import InputError
    from ..eval.report import write_report
    from ..eval.store import Store

    if not (folder / Store.FILENAME).is_file():
        raise InputError(f"{folder}: no {Store.FILENAME} here (run `reasonlab eval --out {folder}` first)")
    from ..eval.table import table_of

    path = write_report(folder, plots=plots)
    click.echo(table_of(folder))
    click.echo(f"report: {path}")


COMMANDS = [eval_cmd, report]
