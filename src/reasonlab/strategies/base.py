"""Strategy base class, options, and the registry. One strategy = one file in this folder.

A strategy is *how* a question is answered. It declares its options as a dataclass (each field
with a `help` in its metadata) and implements `solve(ctx, problem) -> Prediction`, making every
model call through `ctx` so that the trace, cache, budget and dry-run work for free.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..context import RunContext
from ..discover import Registry
from ..errors import InputError
from ..problem import Prediction, Problem


class StrategyError(InputError):
    """Unknown strategy or bad option; the message is user-facing."""


def opt(default: Any, help: str, **kw: Any) -> Any:
    """A strategy option with a help text (shown by `reasonlab strategies`)."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class Options:
    """Options every strategy has."""

    temperature: float = opt(0.0, "sampling temperature of reasoning calls")
    max_tokens: int = opt(384, "token limit of each reasoning call")


class Strategy:
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Options: ClassVar[type] = Options

    def __init__(self, **options: Any) -> None:
        self.options = build_options(self.Options, options, self.name)

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        raise NotImplementedError

    def prompt(self, problem: Problem) -> list[dict[str, str]] | None:
        """The messages right after which this strategy reads its answer, or None when the answer
        comes after reasoning the model writes first. Smooth metrics are scored under it."""
        return None


def _coerce(value: Any, tp: Any, name: str, strategy: str) -> Any:
    if isinstance(tp, str):
        tp = {"int": int, "float": float, "bool": bool, "str": str}.get(tp.split("|")[0].strip(), str)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "")):
            return None
        tp = args[0] if args else str
    if not isinstance(value, str):
        return value
    try:
        if tp is bool:
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if tp in (int, float, str):
            return tp(value)
    except ValueError:
        raise StrategyError(f"strategy {strategy!r}: option {name} expects {getattr(tp, '__name__', tp)}, "
                            f"got {value!r}") from None
    return value


def build_options(cls: type, given: dict[str, Any], strategy: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = [k for k in given if k not in fields]
    if unknown:
        raise StrategyError(
            f"strategy {strategy!r} has no option {unknown[0]!r} (options: {', '.join(sorted(fields))})"
        )
    values = {k: _coerce(v, hints.get(k, str), k, strategy) for k, v in given.items()}
    return cls(**values)


def describe_options(cls: type) -> list[dict[str, Any]]:
    out = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        out.append({"name": f.name, "default": default, "help": f.metadata.get("help", "")})
    return out


REGISTRY: Registry = Registry("reasonlab.strategies", skip=("base", "options"), group="reasonlab.strategies",
                              kind=Strategy)  # name → Strategy class (built-ins, then plugins)


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make a strategy available by its `name`."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no name")
    REGISTRY[cls.name] = cls
    return cls
