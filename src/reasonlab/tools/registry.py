"""The tool registry: decorate a typed function to make it callable by the model."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..discover import import_submodules, load_plugins, report_plugin_problem
from ..errors import ReasonlabError


class ToolError(ReasonlabError):
    """A tool call that could not be made (unknown tool, bad arguments) or that failed."""


_JSON_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean", list: "array", dict: "object"}


@dataclass
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments object
    fn: Callable[..., Any]

    def schema(self) -> dict[str, Any]:
        """The OpenAI `tools` entry for this tool."""
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    def __call__(self, **kwargs: Any) -> Any:
        return self.fn(**kwargs)


_REGISTRY: dict[str, Tool] = {}


def _schema_of(fn: Callable[..., Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(fn)
    props: dict[str, Any] = {}
    required: list[str] = []
    for name, p in inspect.signature(fn).parameters.items():
        tp = hints.get(name, str)
        props[name] = {"type": _JSON_TYPES.get(typing.get_origin(tp) or tp, "string")}
        if p.default is inspect.Parameter.empty:
            required.append(name)
    return {"type": "object", "properties": props, "required": required}


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None,
         description: str | None = None) -> Any:
    """Register a typed function as a tool; its docstring is the description the model sees."""

    def wrap(f: Callable[..., Any]) -> Callable[..., Any]:
        t = Tool(name or f.__name__, (description or inspect.getdoc(f) or f.__name__).strip(), _schema_of(f), f)
        _REGISTRY[t.name] = t
        return f

    return wrap(fn) if fn is not None else wrap


_plugins_added = False


def _load_builtins() -> None:
    """Import every module of this package so built-in tools register themselves, then plugins
    (entry points in `reasonlab.tools`: a module of @tool functions, a function, or a Tool)."""
    global _plugins_added
    import_submodules(__package__, skip=("registry",))
    if not _plugins_added:
        _plugins_added = True
        builtins = dict(_REGISTRY)
        for name, obj in load_plugins("reasonlab.tools").items():
            if isinstance(obj, Tool):
                _REGISTRY.setdefault(obj.name, obj)
            elif callable(obj) and not any(t.fn is obj for t in _REGISTRY.values()):
                tool(obj, name=name)
            elif not callable(obj) and not inspect.ismodule(obj):
                report_plugin_problem(f"plugin {name!r} (reasonlab.tools) skipped: {obj!r} is not a function")
        for name, t in builtins.items():
            if _REGISTRY.get(name) is not t:
                report_plugin_problem(f"a plugin tried to replace the built-in tool {name!r}; kept the built-in")
                _REGISTRY[name] = t


def list_tools() -> dict[str, Tool]:
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))


def get_tool(name: str) -> Tool:
    _load_builtins()
    if name not in _REGISTRY:
        raise ToolError(f"unknown tool {name!r} (known: {', '.join(sorted(_REGISTRY)) or 'none'})")
    return _REGISTRY[name]


def unregister_tool(name: str) -> None:
    _REGISTRY.pop(name, None)


def call_tool(name: str, args: dict[str, Any]) -> str:
    """Call a tool with keyword arguments; returns its result as text. Bad calls raise ToolError."""
    t = get_tool(name)
    if not isinstance(args, dict):
        raise ToolError(f"tool {name!r}: arguments must be an object, got {type(args).__name__}")
    allowed = set(t.parameters.get("properties", {}))
    extra = set(args) - allowed
    missing = [r for r in t.parameters.get("required", []) if r not in args]
    if extra or missing:
        raise ToolError(f"tool {name!r}: " + "; ".join(
            ([f"unknown argument(s) {sorted(extra)}"] if extra else []) +
            ([f"missing argument(s) {missing}"] if missing else [])))
    try:
        out = t.fn(**args)
    except ToolError:
        raise
    except Exception as e:  # a tool's own failure is reported to the model, not raised as a crash
        raise ToolError(f"tool {name!r} failed: {type(e).__name__}: {e}") from e
    return out if isinstance(out, str) else str(out)
