"""Options and printing shared by commands."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import click

model_option = click.option(
    "--model", "-m", default="smollm2", show_default=True, envvar="REASONLAB_MODEL",
    help="Model spec: smollm2 | gemma3-270m | llama:PATH.gguf | openai:MODEL@URL | scripted:FILE.json",
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
    """KEY=VALUE pairs into a dict; a pair without '=' is a usage error."""
    out: dict[str, str] = {}
    for p in pairs:
        key, eq, value = p.partition("=")
        if not eq or not key:
            raise click.BadParameter(f"{what} {p!r} is not KEY=VALUE")
        # option names take '_' (max-tokens → max_tokens); a "STRATEGY." prefix keeps its own name
        prefix, dot, name = key.strip().rpartition(".")
        out[f"{prefix}{dot}{name.replace('-', '_')}"] = value
    return out


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
