"""Templates: "{name}" refers to an input, a node's answer or a state key; "{{" / "}}" escape."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .values import format_value

TEMPLATE_RE = re.compile(r"\{\{|\}\}|\{\s*([A-Za-z_]\w*)\s*\}")


def template_refs(template: str) -> list[str]:
    """Names a template refers to, in order of appearance (duplicates removed)."""
    return list(_refs(template or ""))


@lru_cache(maxsize=8192)
def _refs(template: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for m in TEMPLATE_RE.finditer(template):
        if m.group(1):
            seen.setdefault(m.group(1), None)
    return tuple(seen)


def render(template: str, env: dict[str, Any]) -> Any:
    """Fill a template. A template that is exactly one ``{name}`` returns the value itself (typed)."""
    m = TEMPLATE_RE.fullmatch((template or "").strip()) if isinstance(template, str) else None
    if m and m.group(1):
        return env[m.group(1)]

    def sub(mm: re.Match[str]) -> str:
        if mm.group(0) == "{{":
            return "{"
        if mm.group(0) == "}}":
            return "}"
        return format_value(env[mm.group(1)])

    return TEMPLATE_RE.sub(sub, template)


def render_text(template: str, env: dict[str, Any]) -> str:
    """Fill a template and always return text (a lone ``{name}`` formatted like any other value)."""
    v = render(template, env)
    return v if isinstance(v, str) else format_value(v)


def escape(text: str) -> str:
    """Make arbitrary text safe to use as a template (no references)."""
    return text.replace("{", "{{").replace("}", "}}")
