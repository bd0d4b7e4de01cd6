"""The entry points: run Python source or a file with the backend `detect` picked.

    from reasonlab.sandbox import run_code, Limits
    r = run_code("print(6 * 7)", Limits(timeout_s=5))
    r.stdout, r.exit_code, r.limit   # '42\\n', 0, None
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import InputError
from .bwrap import run_bwrap
from .detect import detect
from .execution import SandboxResult, SandboxUnavailable
from .host import SandboxInfo
from .landlock import run_landlock
from .limits import Limits, capped
from .unisolated import run_unisolated

MAX_PROGRAM_BYTES = 1 << 20  # largest program `run_file` (and `sandbox run`) accepts


def run_code(code: str, limits: Limits | None = None, *, stdin: str | None = None,
             unsafe: bool = False, info: SandboxInfo | None = None) -> SandboxResult:
    """Run Python source `code` in the sandbox and return what it printed and how it ended.

    Raises SandboxUnavailable when no isolation works here and `unsafe` is False; with
    `unsafe=True` the program then runs in a plain child process with resource limits only.
    """
    limits = capped(limits or Limits())  # never above the operator's ceiling (`set_ceiling`)
    info = info or detect()
    if info.backend == "bwrap":
        return run_bwrap(info, code, limits, stdin)
    if info.backend == "landlock":
        return run_landlock(info, code, limits, stdin)
    if not unsafe:
        raise SandboxUnavailable(
            f"cannot run code safely here ({info.reason}). Install bubblewrap "
            "(apt-get install bubblewrap) or pass --unsafe-exec to run it without isolation")
    return run_unisolated(info, code, limits, stdin)


def read_program(path: str | Path, max_bytes: int = MAX_PROGRAM_BYTES) -> str:
    """A program file's text: a regular, UTF-8 file of at most `max_bytes` (InputError otherwise).

    Opened without blocking and checked on the open descriptor, so a FIFO, a device such as
    /dev/zero, or a file swapped in after a check is refused instead of read.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputError(f"no such file: {p}") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, not a program file") from None
    except OSError as e:
        raise InputError(f"{p}: cannot open ({e.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{p}: is a directory, not a program file")
        if not stat.S_ISREG(mode):
            raise InputError(f"{p}: not a regular file")
        data = b""
        while len(data) <= max_bytes and (chunk := os.read(fd, max_bytes + 1 - len(data))):
            data += chunk
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise InputError(f"{p}: larger than {max_bytes} bytes; not a program to run")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text") from None


def run_file(path: str | Path, limits: Limits | None = None, **kw) -> SandboxResult:
    """Run a Python file's source in the sandbox (the file itself is not visible inside)."""
    return run_code(read_program(path), limits, **kw)
