"""Reading JSONL files written by users: every error names the file and line, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import InputError


def json_object(line: str, where: str, error: type[InputError] = InputError) -> dict[str, Any]:
    """Decode one line that must hold a JSON object; `where` ("file:line") prefixes any error."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise error(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(obj, dict):
        raise error(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if "\\ud" in line.lower():  # an escaped lone surrogate decodes to text no file or database can hold
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise error(f"{where}: holds a lone surrogate (an escape in \\ud800–\\udfff without its pair); "
                        "not valid Unicode text") from None
    return obj


def read_lines(path: Path, error: type[InputError] = InputError, *,
               comments: bool = False) -> Iterator[tuple[str, int, str]]:
    """("file:line", line number, text) of each non-blank line (and, with `comments`, not '#…').

    Splits on newlines only: str.splitlines would also split at U+2028, which JSON allows inside
    strings unescaped.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text ({e.reason})") from None
    for lineno, line in enumerate(text.split("\n"), start=1):
        s = line.strip()
        if s and not (comments and s.startswith("#")):
            yield f"{path}:{lineno}", lineno, s
