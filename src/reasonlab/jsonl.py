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


MAX_LINE_BYTES = 16 * 1024 * 1024  # one record longer than this is refused, not read into memory


def read_lines(path: Path, error: type[InputError] = InputError, *,
               comments: bool = False) -> Iterator[tuple[str, int, str]]:
    """("file:line", line number, text) of each non-blank line (and, with `comments`, not '#…').

    Streams the file (memory stays bounded by the longest line, at most MAX_LINE_BYTES) and splits
    on newlines only: str.splitlines would also split at U+2028, which JSON allows inside strings
    unescaped.
    """
    try:
        f = path.open("rb")
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror or e})") from None
    with f:
        lineno = 0
        while True:
            raw = f.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            lineno += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                raise error(f"{path}:{lineno}: a line longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise error(f"{path}:{lineno}: not UTF-8 text ({e.reason})") from None
            s = line.strip()
            if s and not (comments and s.startswith("#")):
                yield f"{path}:{lineno}", lineno, s
