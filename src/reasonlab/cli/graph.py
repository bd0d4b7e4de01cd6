"""`reasonlab graph run|show|check`: run, draw and validate graph/flowchart files."""

from __future__ import annotations

import click

from ._common import echo_json, json_option, load_cache, model_option, no_cache_option, parse_kv


@click.group()
def graph() -> None:
    """Run, draw and check reasoning graphs and flowcharts (YAML or JSON files).

    \b
    Examples:
      reasonlab graph run examples/multi_hop.yaml
      reasonlab graph run examples/refine_loop.yaml --input topic="why the sky is blue" --json
      reasonlab graph show examples/shopping_flow.yaml --png flow.png
      reasonlab graph show examples/*.yaml --png drawings/
      reasonlab graph check examples/*.yaml
    """


@graph.command("run")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--input", "-i", "inputs", multiple=True, metavar="KEY=VALUE", help="An input value (repeat).")
@model_option
@json_option
@no_cache_option
@click.option("--concurrency", type=click.IntRange(1, 256), help="Most nodes running at once (default: file's, else 4).")
@click.option("--max-steps", type=click.IntRange(1), help="Global step budget (default: file's, else automatic).")
@click.option("--max-tokens", type=click.IntRange(1), default=256, show_default=True,
              help="Token limit of ask steps that set none.")
@click.option("--seed", type=int, default=0, show_default=True, help="Base sampling seed.")
@click.option("--trace", is_flag=True, help="Print each node as it starts and finishes (stderr).")
def run_cmd(file: str, inputs: tuple[str, ...], model: str, as_json: bool, no_cache: bool,
            concurrency: int | None, max_steps: int | None, max_tokens: int, seed: int, trace: bool) -> None:
    """Validate FILE and run it; prints the answer (and each node's answer), or JSON with --json."""
    from ..context import RunContext
    from ..errors import ReasonlabError
    from ..graphs import Executor, bind_inputs, check, load
    from ..models import load_model

    spec = check(load(file))
    bound = bind_inputs(spec, parse_kv(inputs, "input"))
    listeners = []
    if trace and not as_json:
        def show(event: str, p: dict) -> None:
            if event == "node":
                it = f" [round {p['iteration']}]" if p.get("iteration") is not None else ""
                extra = f" → {p.get('answer')!r}" if p["status"] == "done" else (
                    f": {p.get('error')}" if p["status"] == "error" else "")
                click.echo(f"  {p['status']:<7} {p['id']}{it}{extra}", err=True)
        listeners.append(show)
    ctx = RunContext(load_model(model), load_cache(no_cache), seed=seed, listeners=listeners)
    result = Executor(ctx, concurrency=concurrency, max_steps=max_steps, max_tokens=max_tokens).run(spec, bound)
    usage = ctx.usage()
    if as_json:
        echo_json({**result.to_dict(), "model": ctx.model.spec, "usage": usage.to_dict(),
                   "calls": [c.to_dict() for c in ctx.calls]})
    else:
        for nid, nr in result.nodes.items():
            if nr.status in ("done", "error"):
                shown = nr.error if nr.status == "error" else _short(nr.answer)
                runs = f" ×{nr.runs}" if nr.runs > 1 else ""
                click.echo(f"  {nid:<16} {nr.status:<5}{runs} {shown}", err=True)
        if result.kind == "flowchart" and result.state:
            click.echo(f"  state: {_short(result.state, 200)}", err=True)
        if result.status == "ok":
            click.echo(_short(result.answer, 10_000))
        click.echo(f"[{result.kind} {spec.name or file} on {ctx.model.spec}: {result.steps} steps, {usage.calls} calls"
                   f"{f' (+{usage.cached_calls} cached)' if usage.cached_calls else ''}, "
                   f"{usage.prompt_tokens}+{usage.completion_tokens} tokens, {result.seconds:.2f}s]", err=True)
    if result.status != "ok":
        raise ReasonlabError(result.error or "the run failed")


def _short(v: object, limit: int = 100) -> str:
    import json

    from ..graphs.values import format_value

    s = json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (dict, list)) else format_value(v)
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


@graph.command("show")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--png", "png", type=click.Path(), metavar="PATH",
              help="Also draw a PNG: with one FILE, PATH is the image (or a folder); with several, a folder "
                   "that gets one NAME.png per file.")
@json_option
def show_cmd(files: tuple[str, ...], png: str | None, as_json: bool) -> None:
    """Print each FILE as Mermaid text (or its nodes and edges with --json); --png draws images.

    \b
    Examples:
      reasonlab graph show examples/shopping_flow.yaml --png flow.png
      reasonlab graph show examples/*.yaml --png drawings/
    """
    from ..graphs import check, load, structure
    from ..graphs.drawing import render_png
    from ..graphs.mermaid import to_mermaid

    specs = [(f, check(load(f))) for f in files]  # every file valid before anything is printed or drawn
    targets = _png_targets([f for f, _ in specs], png) if png else {}
    if as_json:
        shown = [{"file": f, **structure(spec)} for f, spec in specs]
        echo_json(shown[0] if len(shown) == 1 else shown)
    for i, (f, spec) in enumerate(specs):
        if not as_json:
            if len(specs) > 1:
                click.echo(f"{'' if i == 0 else chr(10)}%% {f}")
            click.echo(to_mermaid(spec), nl=False)
        if png:
            out = render_png(spec, targets[f])
            click.echo(f"wrote {out}", err=True)


def _png_targets(files: list[str], png: str) -> dict[str, str]:
    """Where each file's drawing goes: PNG itself for one file (unless it is a folder), else FOLDER/NAME.png."""
    from pathlib import Path

    target = Path(png)
    if len(files) == 1 and not target.is_dir() and not png.endswith(("/", "\\")):
        return {files[0]: png}
    if target.exists() and not target.is_dir():
        raise click.BadParameter(f"{png!r} is a file; with several FILEs --png names a folder", param_hint="--png")
    out: dict[str, str] = {}
    used: set[str] = set()
    for f in files:
        stem, k = Path(f).stem, 1
        name = f"{stem}.png"
        while name in used:
            k += 1
            name = f"{stem}-{k}.png"
        used.add(name)
        out[f] = str(target / name)
    return out


@graph.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check_cmd(files: tuple[str, ...]) -> None:
    """Validate each FILE: schema, references, reachability, cycles, loops, join rules."""
    from ..errors import InputError, ReasonlabError
    from ..graphs import check, load

    failed: list[ReasonlabError] = []
    for f in files:
        try:
            spec = check(load(f))
        except ReasonlabError as e:
            if len(files) == 1:
                raise
            failed.append(e)
            click.echo(f"reasonlab: error: {e}", err=True)
            continue
        click.echo(f"ok: {spec.kind} {spec.name or f}: {len(spec.walk())} nodes, inputs: "
                   f"{', '.join(spec.inputs) or 'none'}")
    if failed:
        raise InputError(f"{len(failed)} of {len(files)} files are not valid")


COMMANDS = [graph]
