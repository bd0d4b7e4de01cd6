"""python: run a short program in the sandbox and return what it printed."""

from __future__ import annotations

from ..sandbox import Limits, run_code
from .registry import tool

TOOL_LIMITS = Limits(timeout_s=10, cpu_s=5, memory_mb=512, output_bytes=20_000)
MAX_REPLY = 4000


@tool(name="python")
def python(code: str) -> str:
    """Run a Python program in an isolated sandbox (standard library only, no files, no network) and return its printed output. Use print() to show results."""
    r = run_code(code, TOOL_LIMITS)
    out = r.stdout.strip()
    if not r.ok:
        err = r.error_summary(max_chars=1500)
        out = f"{out}\n{err}".strip() if out else err
    elif not out:
        out = "(the program printed nothing; use print())"
    return out if len(out) <= MAX_REPLY else out[:MAX_REPLY] + "\n…(output cut)"
