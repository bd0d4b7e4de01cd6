"""Strategy options at the edge: parse `KEY=VALUE`, route `STRATEGY.key`, validate types, ranges and caps.

Written once for every door: the CLI (`ask`, `chat`, `eval -o`), the harness and the server.

- `parse_assignments(["max-tokens=64", "pal.samples=5"])` → `{"max_tokens": "64", "pal.samples": "5"}`.
- `route(options, ["direct", "pal"])` → `{"direct": {...}, "pal": {...}}`: a bare key goes to every
  strategy that has the option, `STRATEGY.key` to that strategy only; a key no chosen strategy has
  is an error.
- `validate(strategy, options, strict=..., limits=...)` → typed values. Each strategy's options
  become a pydantic model: finite numbers only, a range per option (`RULES`), strict JSON types for
  remote requests (`strict=True`: the string "100" is not an integer) and the usual string
  coercion for the command line. `Limits.server(...)` adds what a remote client may not do: only
  the options in the allow-list (`RULES[...].remote`), values under the server's caps, sandbox
  limits only tightened.

Errors are `OptionError` (an `InputError`: one line, exit code 2 on the CLI) carrying the `param`
and a `code` (`invalid_option`, `forbidden_option`, `option_limit`, `max_tokens_exceeded`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..errors import InputError
from .base import Strategy, StrategyError

TOKEN_CAP = 100_000  # no single call needs more tokens than this, whatever the context size


class OptionError(StrategyError):
    """A bad, forbidden or too large option; `param` names it, `code` says which check refused it."""

    def __init__(self, message: str, *, param: str = "options", code: str = "invalid_option") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


@dataclass(frozen=True)
class Rule:
    """Range of one option (inclusive; `gt` for an open lower bound) and whether a remote client may set it.

    `choices`: the values a remote client may give (a string option); `None` means any short string.
    """

    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    remote: bool = True
    choices: tuple[str, ...] | None = None


def _tokens() -> Rule:
    return Rule(ge=1, le=TOKEN_CAP)


# A range per option name (the same name means the same thing in every strategy). An option missing
# here is still type-checked and finite, but a remote client may not set it: the allow-list is this table.
RULES: dict[str, Rule] = {
    "temperature": Rule(ge=0, le=2), "retry_temperature": Rule(ge=0, le=2), "top_p": Rule(gt=0, le=1),
    "max_tokens": _tokens(), "extract_tokens": _tokens(), "plan_tokens": _tokens(), "decompose_tokens": _tokens(),
    "finish_tokens": _tokens(), "max_tokens_total": Rule(ge=1, le=100 * TOKEN_CAP),
    "samples": Rule(ge=1, le=1024), "prompts": Rule(ge=1, le=64), "verifier_samples": Rule(ge=1, le=64),
    "shots": Rule(ge=0, le=64), "rounds": Rule(ge=0, le=100), "round_size": Rule(ge=0, le=1024),
    "workers": Rule(ge=1, le=64), "concurrency": Rule(ge=1, le=64), "max_steps": Rule(ge=1, le=10_000),
    "max_nodes": Rule(ge=1, le=1024), "max_subquestions": Rule(ge=1, le=256), "loop_retries": Rule(ge=0, le=16),
    "beam": Rule(ge=1, le=256), "expand": Rule(ge=1, le=256), "depth": Rule(ge=1, le=1024),
    "max_calls": Rule(ge=1, le=100_000), "budget": Rule(ge=1, le=100_000), "max_depth": Rule(ge=1, le=100_000),
    "window": Rule(ge=1, le=4096), "keep": Rule(gt=0, le=1), "settle": Rule(ge=0, le=1),
    "settle_rule": Rule(choices=("safe", "share", "beta")), "online": Rule(), "warmup": Rule(ge=0, le=1024),
    "seed": Rule(ge=0, le=2**32 - 1),
    "timeout_s": Rule(gt=0, le=3600), "memory_mb": Rule(ge=16, le=1 << 20),
    "verifier": Rule(), "repair": Rule(), "example": Rule(), "constrained": Rule(), "early_stop": Rule(),
    "grammar": Rule(), "stop": Rule(),
    "selection": Rule(choices=("fixed", "random", "similar")),
    "verifier_mode": Rule(choices=("auto", "logprobs", "sample")),
    "history": Rule(choices=("last", "full")), "native": Rule(choices=("auto", "on", "off")),
    "mode": Rule(choices=("text", "code")), "scoring": Rule(choices=("auto", "logprob", "self", "execute")),
    "confidence": Rule(choices=("none", "lowest", "mean", "tail")),
    "similarity": Rule(choices=("tfidf",)),  # embedding:MODEL loads an installed model: local use only
    "exemplars": Rule(choices=()),  # the built-in set names (never a path), see `_choices`
    "tools": Rule(choices=()),  # a comma list of registered tool names, see `_choices`
    "unsafe_exec": Rule(remote=False),  # model-written code only ever runs in the sandbox for a client
}

# What one remote request may ask for, at most (the server's caps; a request may only tighten them).
SERVER_CAPS: dict[str, float] = {"samples": 32, "prompts": 8, "verifier_samples": 8, "shots": 16, "rounds": 20,
                                 "timeout_s": 10.0, "memory_mb": 1024, "workers": 4, "concurrency": 4,
                                 "max_steps": 64, "max_nodes": 16, "max_subquestions": 12, "round_size": 32,
                                 "loop_retries": 4, "beam": 8, "expand": 8, "depth": 32, "max_calls": 64,
                                 "max_tokens_total": 16_000, "budget": 200, "max_depth": 100, "window": 256,
                                 "warmup": 32}
# Options that are sandbox limits (option → `sandbox.Limits` field): a request may only tighten them.
SANDBOX_OPTIONS: dict[str, str] = {"timeout_s": "timeout_s", "memory_mb": "memory_mb"}
STRING_MAX = 200  # longest string option value
LIST_MAX = 8  # longest list option value (e.g. stop strings)


@dataclass(frozen=True)
class Limits:
    """What the caller of `validate` allows beyond the ranges: `remote` applies the allow-list.

    `sandbox`: the sandbox limits a remote request may only tighten (`sandbox.Limits`; None: its defaults).
    """

    remote: bool = False
    max_tokens: int | None = None  # cap on every `*_tokens` option
    caps: Mapping[str, float] = field(default_factory=dict)
    sandbox: Any = None

    @classmethod
    def server(cls, max_tokens: int, *, max_calls: int | None = None, caps: Mapping[str, float] | None = None,
               sandbox: Any = None) -> Limits:
        """A remote client's limits: the allow-list, the token cap, SERVER_CAPS, the sandbox's limits."""
        merged = dict(SERVER_CAPS if caps is None else caps)
        if max_calls is not None:
            merged["max_calls"] = min(merged.get("max_calls", max_calls), max_calls)
        return cls(remote=True, max_tokens=max_tokens, caps=merged, sandbox=sandbox)


def check_sandbox(name: str, value: Any, base: Any, param: str) -> None:
    """A sandbox limit from a request, through the sandbox's tighten-only API (`Limits.tightened_by`)."""
    from ..sandbox import Limits as SandboxLimits

    try:
        (base or SandboxLimits()).tightened_by({SANDBOX_OPTIONS[name]: value})
    except InputError as e:
        raise OptionError(f"option {name}: {e}", param=param, code="option_limit") from None


# -- parsing and routing -------------------------------------------------------------------------
def parse_assignments(pairs: Iterable[str], what: str = "option") -> dict[str, str]:
    """KEY=VALUE pairs into a dict; option names take '_' (max-tokens → max_tokens), a STRATEGY. prefix stays."""
    out: dict[str, str] = {}
    for p in pairs:
        key, eq, value = p.partition("=")
        if not eq or not key.strip():
            raise OptionError(f"{what} {p!r} is not KEY=VALUE", param=what)
        prefix, dot, name = key.strip().rpartition(".")
        out[f"{prefix}{dot}{name.replace('-', '_')}"] = value
    return out


def option_names(strategy: str | type[Strategy]) -> set[str]:
    return {f.name for f in dataclasses.fields(strategy_class(strategy).Options)}


def strategy_class(strategy: str | type[Strategy]) -> type[Strategy]:
    if not isinstance(strategy, str):
        return strategy
    from . import get_strategy, list_strategies

    cls = list_strategies().get(strategy)
    if cls is None:
        get_strategy(strategy)  # raises the user-facing error
    assert cls is not None
    return cls


def route(options: Mapping[str, Any], strategies: Sequence[str], *, check: bool = True) -> dict[str, dict[str, Any]]:
    """Options per strategy from bare and `STRATEGY.`-prefixed keys (later keys win, in the order given).

    check: OptionError when a prefix names a strategy that is not chosen, or no chosen strategy has
    the option (without it such keys are skipped).
    """
    names = {s: option_names(s) for s in strategies}
    out: dict[str, dict[str, Any]] = {s: {} for s in strategies}
    for key, value in options.items():
        target, dot, k = key.rpartition(".")
        if dot and target not in names:
            if not check:
                continue
            raise OptionError(f"option {key!r} names strategy {target!r}, which is not chosen", param=key)
        chosen = [target] if dot else list(strategies)
        hit = [s for s in chosen if k in names[s]]
        if not hit and check:
            raise OptionError(f"no chosen strategy has an option {k!r}", param=key)
        for s in hit:
            out[s][k] = value
    return out


# -- validation ----------------------------------------------------------------------------------
def validate(strategy: str | type[Strategy], given: Mapping[str, Any], *, strict: bool = False,
             limits: Limits | None = None, param_prefix: str = "") -> dict[str, Any]:
    """Typed, checked option values for `strategy` (only the ones given), or OptionError.

    strict: JSON types must match exactly (remote requests); otherwise strings are converted (CLI).
    """
    cls = strategy_class(strategy)
    limits = limits or Limits()
    fields = option_names(cls)
    for k in given:
        if k not in fields:
            raise OptionError(f"strategy {cls.name!r} has no option {k!r} (options: {', '.join(sorted(fields))})",
                              param=f"{param_prefix}{k}")
        rule = RULES.get(k)
        if limits.remote and (rule is None or not rule.remote or "unsafe" in k):
            raise OptionError(f"option {k} cannot be set through the server" +
                              (": model-written code only ever runs in the sandbox" if "unsafe" in k else ""),
                              param=f"{param_prefix}{k}", code="forbidden_option")
    import pydantic

    model = _model_of(cls)
    data = {k: _prepare(v, model.model_fields[k].annotation, strict) for k, v in given.items()}
    try:
        checked = model.model_validate(data, strict=strict)
    except pydantic.ValidationError as e:
        err = e.errors(include_url=False, include_input=False)[0]
        name = str(err["loc"][0]) if err["loc"] else "options"
        shown = given.get(name)
        raise OptionError(f"strategy {cls.name!r}: option {name}={_short(shown)}: {err['msg']}",
                          param=f"{param_prefix}{name}") from None
    values = {k: getattr(checked, k) for k in given}
    for k, v in values.items():
        _check_value(k, v, limits, f"{param_prefix}{k}")
    return values


def check_tokens(name: str, value: Any, limit: int | None, param: str) -> None:
    """Refuse a `*_tokens` value over the server's limit (code max_tokens_exceeded)."""
    if limit is not None and isinstance(value, int) and value > limit:
        raise OptionError(f"{param}={value} exceeds the server limit of {limit} tokens", param=param,
                          code="max_tokens_exceeded")


def _check_value(name: str, value: Any, limits: Limits, param: str) -> None:
    if name.endswith("_tokens") or name == "max_tokens":
        check_tokens(name, value, limits.max_tokens, param)
    if limits.remote and name in SANDBOX_OPTIONS:
        check_sandbox(name, value, limits.sandbox, param)
    cap = limits.caps.get(name)
    if cap is not None and isinstance(value, (int, float)) and not isinstance(value, bool) and value > cap:
        raise OptionError(f"option {name}={value} exceeds the server limit of {cap:g}", param=param,
                          code="option_limit")
    rule = RULES.get(name)
    if limits.remote and rule is not None and rule.choices is not None and isinstance(value, str):
        allowed = _choices(name, rule)
        parts = [p.strip() for p in value.split(",") if p.strip()] if name == "tools" else [value]
        bad = [p for p in parts if p not in allowed]
        if bad or not parts:
            raise OptionError(f"option {name}={_short(value)} is not allowed through the server "
                              f"(use one of: {', '.join(sorted(allowed))})", param=param, code="forbidden_option")


def _choices(name: str, rule: Rule) -> set[str]:
    if name == "exemplars":
        from ..exemplars.loader import builtin_sets

        return {"auto", *builtin_sets()}
    if name == "tools":
        from ..tools.registry import list_tools

        return set(list_tools())
    return set(rule.choices or ())


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _prepare(value: Any, annotation: Any, strict: bool) -> Any:
    """CLI strings: 'none' for optional options, a comma list for list options."""
    if strict or not isinstance(value, str):
        return value
    args = typing.get_args(annotation)
    if type(None) in args and value.strip().lower() in ("none", ""):
        return None
    if typing.get_origin(annotation) is list or list in args or any(typing.get_origin(a) is list for a in args):
        return [p for p in value.split(",") if p]
    return value


@lru_cache(maxsize=256)
def _model_of(cls: type[Strategy]) -> Any:
    """A pydantic model of `cls.Options`: every field optional (only given ones are checked), ranged."""
    import pydantic

    hints = typing.get_type_hints(cls.Options)
    defs: dict[str, Any] = {}
    for f in dataclasses.fields(cls.Options):
        tp = _annotation(hints.get(f.name, str))
        rule = RULES.get(f.name, Rule())
        kw: dict[str, Any] = {}
        base = _base(tp)
        if base in (int, float):
            kw.update({k: v for k, v in (("ge", rule.ge), ("le", rule.le), ("gt", rule.gt)) if v is not None})
        elif base is str:
            kw["max_length"] = STRING_MAX
        elif base is list:
            kw["max_length"] = LIST_MAX
        defs[f.name] = (tp, pydantic.Field(None, **kw))  # the default is never validated: only given ones are
    config = pydantic.ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=STRING_MAX)
    return pydantic.create_model(f"{cls.__name__}Options", __config__=config, **defs)


def _base(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and args:
        tp = args[0]
    return typing.get_origin(tp) or tp


def _annotation(tp: Any) -> Any:
    """Bare `list` means a list of strings; everything else is used as declared."""
    if tp is list:
        return list[str]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = tuple(list[str] if a is list else a for a in typing.get_args(tp))
        return typing.Union[args]  # noqa: UP007 - built from a tuple
    return tp


def client_rule(name: str, limits: Limits) -> dict[str, Any] | None:
    """What a remote client may send for option `name` under `limits` (None: it may not set it):
    the range after the server's caps, or the allowed values of a string option. For `/v1/strategies`."""
    rule = RULES.get(name)
    if rule is None or not rule.remote or "unsafe" in name:
        return None
    out: dict[str, Any] = {}
    if rule.choices is not None:
        out["choices"] = sorted(_choices(name, rule))
    low = rule.gt if rule.gt is not None else rule.ge
    if low is not None:
        out["min" if rule.gt is None else "above"] = low
    highs = [v for v in (rule.le, limits.caps.get(name),
                         limits.max_tokens if name.endswith("_tokens") else None) if v is not None]
    if limits.sandbox is not None and name in SANDBOX_OPTIONS:
        highs.append(getattr(limits.sandbox, SANDBOX_OPTIONS[name]))
    if highs:
        out["max"] = min(highs)
    return out
