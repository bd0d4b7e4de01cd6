"""`reasonlab ask` and `reasonlab strategies`."""

from __future__ import annotations

from typing import Any

import click

from ._common import (
    echo_json,
    expect_batching,
    format_messages,
    json_option,
    load_cache,
    model_option,
    no_cache_option,
    parse_kv,
    read_question,
)
from .live_output import LivePrinter


@click.command()
@click.argument("question")
@click.option("--strategy", "-s", default="zero-shot-cot", show_default=True,
              help="Reasoning strategy (see `reasonlab strategies`).")
@model_option
@json_option
@click.option("--show-prompts", is_flag=True, help="Print every call's messages and output as it happens.")
@click.option("--stream/--no-stream", default=True, show_default=True,
              help="Print model text to stderr as it is generated.")
@click.option("--dry-run", is_flag=True, help="Print the exact messages of the first call; call no model.")
@no_cache_option
@click.option("--seed", type=int, default=0, show_default=True, help="Base sampling seed.")
@click.option("--kind", type=click.Choice(["auto", "number", "choice", "text"]), default="auto",
              show_default=True, help="What the answer looks like (drives extraction and cues).")
@click.option("--choice", "choices", multiple=True, help="An answer option (repeat); implies --kind choice.")
@click.option("--samples", "-k", type=int, help="Number of samples (sampling strategies).")
@click.option("--temperature", "-t", type=float, help="Sampling temperature.")
@click.option("--max-tokens", type=int, help="Token limit of each reasoning call.")
@click.option("--exemplars", type=click.Path(dir_okay=False), help="Exemplar file (JSONL) for few-shot strategies.")
@click.option("--shots", type=int, help="Number of exemplars to use.")
@click.option("--verifier/--no-verifier", default=None, help="Turn a strategy's verifier on or off.")
@click.option("--rounds", type=int, help="Repair / back-prompting rounds (code and planning strategies).")
@click.option("--option", "-o", "extra", multiple=True, metavar="KEY=VALUE",
              help="Any other strategy option (see `reasonlab strategies`).")
def ask(question: str, strategy: str, model: str, as_json: bool, show_prompts: bool, stream: bool, dry_run: bool,
        no_cache: bool, seed: int, kind: str, choices: tuple[str, ...], extra: tuple[str, ...],
        **named: Any) -> None:
    """Answer QUESTION with a reasoning strategy ("-" reads it from stdin).

    \b
    Examples:
      reasonlab ask "A pen costs 3 dollars. How much do 4 pens cost?"
      reasonlab ask "..." --strategy self-consistency --samples 16
      reasonlab ask "..." --dry-run          # show the first prompt, call nothing
    """
    from ..api import preview, run
    from ..errors import InputError
    from ..problem import Problem
    from ..strategies.options import validate

    options = {k: v for k, v in named.items() if v is not None}
    options.update(parse_kv(extra))
    options = validate(strategy, options)  # types, finite numbers, ranges: the checks the server makes too
    expect_batching(strategy, options)  # --weights auto: k > 1 samples decode together
    text = read_question(question)
    if not text.strip():
        raise InputError("the question is empty")
    problem = Problem(text=text, kind="choice" if choices else kind, choices=list(choices) or None)
    if dry_run:
        call = preview(problem, strategy, **options)
        if as_json:
            echo_json({"strategy": strategy, "label": call.label, "messages": call.messages,
                       "params": call.params})
        else:
            click.echo(f"# first call of {strategy} ({call.label}), params {call.params}")
            click.echo(format_messages(call.messages))
        return

    listeners = []
    printer = None
    if (stream or show_prompts) and not as_json:  # model text goes to stderr as it is generated
        printer = LivePrinter(stream=stream, prompts=show_prompts, err=True)
        listeners.append(printer)
    try:
        result = run(problem, strategy, model, cache=load_cache(no_cache), seed=seed, listeners=listeners,
                     **options)
    finally:
        if printer is not None:
            printer.finish()
    if as_json:
        echo_json(result.to_dict())
        if result.status == "no_answer":
            raise SystemExit(1)  # exit 1: the result holds a failure (no answer), as eval does
        return
    u = result.usage
    if result.status == "no_answer":
        click.echo("no answer found")
    else:
        click.echo(result.answer)
    if result.note:
        click.echo(f"note: {result.note}", err=True)
    click.echo(f"[{result.strategy} on {result.model}: {u.calls} call{'' if u.calls == 1 else 's'}"
               f"{f' (+{u.cached_calls} cached)' if u.cached_calls else ''}, "
               f"{u.prompt_tokens}+{u.completion_tokens} tokens, {u.seconds:.2f}s]", err=True)
    if result.status == "no_answer":
        raise SystemExit(1)


@click.command()
@json_option
def strategies(as_json: bool) -> None:
    """List every strategy with a one-line description and its options."""
    from ..strategies import describe_options, list_strategies

    table = {name: {"description": cls.description, "options": describe_options(cls.Options)}
             for name, cls in list_strategies().items()}
    if as_json:
        echo_json(table)
        return
    for name, info in table.items():
        click.echo(f"{name}\n    {info['description']}")
        for o in info["options"]:
            click.echo(f"      --{o['name'].replace('_', '-')} (default {o['default']!r}): {o['help']}")


COMMANDS = [ask, strategies]
