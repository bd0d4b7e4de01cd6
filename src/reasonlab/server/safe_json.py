"""JSON in and out of the server: request bodies parsed strictly, responses and SSE events always valid JSON.

In: UTF-8 only, no `NaN`/`Infinity` literals, no lone surrogates (`\\ud800`), at most MAX_DEPTH
levels of nesting, no number of thousands of digits — each a 400 with a JSON error body instead
of an exception. Out: non-finite floats become null and lone surrogates U+FFFD, so no response
or event ever carries a bare `NaN` or text a client cannot decode.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from starlette.responses import JSONResponse

from .http_errors import APIError

_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_DEPTH = 32  # nesting of a request body (an OpenAI request needs 5)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or APIError 400 (code invalid_json)."""
    try:
        data = json.loads(raw.decode("utf-8") if raw else "null", parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise APIError(400, "request body is not UTF-8", code="invalid_json") from None
    except RecursionError:
        raise APIError(400, "request body is nested too deeply", code="invalid_json") from None
    except ValueError as e:  # JSONDecodeError, NaN/Infinity, integers of more than 4300 digits
        detail = "" if isinstance(e, json.JSONDecodeError) else f" ({str(e)[:80]})"
        raise APIError(400, f"request body is not valid JSON{detail}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise APIError(400, "request body must be a JSON object", code="invalid_json")
    if depth(data) > MAX_DEPTH:
        raise APIError(400, f"request body is nested more than {MAX_DEPTH} levels deep", code="invalid_json")
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise APIError(400, "request body contains a lone surrogate (\\ud800–\\udfff) in a string",
                       code="invalid_unicode") from None
    return data


def depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (iterative: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


def sanitize(value: Any) -> Any:
    """A copy that encodes as strict JSON: non-finite floats → None, lone surrogates → U+FFFD, others → str."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _has_surrogate(value) else value
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {sanitize(k if isinstance(k, str) else str(k)): sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(v) for v in value]
    return sanitize(str(value))


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def dumps(value: Any) -> str:
    """Strict JSON text (allow_nan=False) of any trace or event payload."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
        return text
    except (ValueError, TypeError, UnicodeEncodeError):
        return json.dumps(sanitize(value), ensure_ascii=False, allow_nan=False)


class SafeJSONResponse(JSONResponse):
    """A JSONResponse that never fails on NaN, infinities or lone surrogates in its content."""

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")
