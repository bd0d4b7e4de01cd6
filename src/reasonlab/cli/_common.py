"""Options and printing shared by commands."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import click


def _set_threads(_ctx: click.Context, _param: click.Parameter, value: int | None) -> None:
    from ..models.threads import set_threads

    set_threads(value)


threads_option = click.option(
    "--threads", type=click.IntRange(min=1), default=None, expose_value=False, is_eager=True,
    callback=_set_threads, envvar="REASONLAB_THREADS",
    help="CPU threads of local GGUF models (default: tuned per decode step from measured speed). Env: REASONLAB_THREADS.")


def _set_weights(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    from ..models.weights import set_weights

    set_weights(value)


weights_option = click.option(
    "--weights", type=click.Choice(["auto", "original", "q8_0"], case_sensitive=False), default=None,
    expose_value=False, is_eager=True, callback=_set_weights, envvar="REASONLAB_WEIGHTS",
    help="Weights of local GGUF models: q8_0 = a Q8_0 copy made once in the user cache (faster batched "
         "decoding of Q4_1/Q5_1 files); original = the file as is; auto (default) = q8_0 for a Q4_1/Q5_1 "
         "file where the command decodes several sequences at once (serve, eval -c N>1, k > 1 samples). "
         "Env: REASONLAB_WEIGHTS.")


def _set_kv(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    import os

    from ..models.llama import KV_ENV

    if value is not None:
        os.environ[KV_ENV] = value.lower()


kv_option = click.option(
    "--kv", type=click.Choice(["unified", "split"], case_sensitive=False), default=None,
    expose_value=False, is_eager=True, callback=_set_kv, envvar="REASONLAB_KV",
    help="KV cache of local GGUF models: unified (default) = one pool every sequence shares; split = a "
         "stream per sequence (8 sequences of 2,048 tokens by default): batched decoding stays fast at long "
         "contexts, at the cost of more memory. Env: REASONLAB_KV.")


def model_option(f: Any) -> Any:
    """--model SPEC, plus --threads, --weights and --kv for when SPEC is a local model."""
    return kv_option(weights_option(threads_option(_model_option(f))))


def expect_batching(strategy: str | None = None, options: dict[str, Any] | None = None, *,
                    concurrency: int = 1) -> None:
    """Tell the model layer this command decodes several sequences at once (--weights auto)."""
    from ..models.weights import expect_batching as expect

    if concurrency > 1:
        expect()
        return
    if strategy is None:
        return
    from ..strategies import list_strategies

    cls = list_strategies().get(strategy)
    default = getattr(getattr(cls, "Options", None), "__dataclass_fields__", {}).get("samples")
    samples = (options or {}).get("samples", getattr(default, "default", 1) if default else 1)
    try:
        if int(samples) > 1:
            expect()
    except (TypeError, ValueError):
        return


_model_option = click.option(
    "--model", "-m", default="smollm2", show_default=True, envvar="REASONLAB_MODEL",
    help="Model spec: smollm2 | gemma3-270m | llama:PATH.gguf | hf:OWNER/REPO:QUANT | openai:MODEL@URL | "
         "ollama:NAME | scripted:FILE.json (see `reasonlab models`)",
)
no_cache_option = click.option("--no-cache", is_flag=True, help="Bypass the completion cache.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


class FiniteFloat(click.ParamType):
    """A float within [lo, hi]; NaN and infinities are refused (click's FloatRange lets NaN through)."""

    name = "number"

    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi = lo, hi

    def convert(self, value, param, ctx):
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(x) or not self.lo <= x <= self.hi:
            self.fail(f"{value!r} is not a finite number between {self.lo:g} and {self.hi:g}", param, ctx)
        return x


def parse_kv(pairs: tuple[str, ...], what: str = "option") -> dict[str, str]:
    """KEY=VALUE pairs into a dict (`strategies.options.parse_assignments`); a pair without '=' is a usage error."""
    from ..strategies.options import OptionError, parse_assignments

    try:
        return parse_assignments(pairs, what)
    except OptionError as e:
        raise click.BadParameter(str(e)) from None


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def format_messages(messages: list[dict[str, str]]) -> str:
    parts = []
    for m in messages:
        parts.append(f"--- {m['role']} ---\n{m['content']}")
    return "\n".join(parts)


def read_question(question: str) -> str:
    if question == "-":
        return sys.stdin.read()
    return question


def load_cache(no_cache: bool):
    if no_cache:
        return None
    from ..cache import Cache

    return Cache()
