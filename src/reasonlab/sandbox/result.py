"""Limits of a sandboxed run and what came out of it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ReasonlabError

# Names of the limits that can stop a program (SandboxResult.limit).
LIMITS = ("wall_time", "cpu_time", "memory", "processes", "file_size", "disk", "open_files", "output")


class SandboxError(ReasonlabError):
    """The sandbox could not run a program (no isolation available, bubblewrap failed to start)."""


class SandboxUnavailable(SandboxError):
    """No isolation is available here and unsafe execution was not allowed."""

    exit_code = 3


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run. Sizes in MiB, times in seconds."""

    timeout_s: float = 10.0  # wall clock: the whole process tree is killed after this
    cpu_s: int = 5  # CPU seconds per process (RLIMIT_CPU)
    memory_mb: int = 512  # address space per process (RLIMIT_AS)
    processes: int = 32  # processes/threads of the sandbox user (RLIMIT_NPROC)
    file_size_mb: int = 16  # largest file a program may write (RLIMIT_FSIZE)
    scratch_mb: int = 64  # size of the private scratch directory (tmpfs)
    open_files: int = 64  # open file descriptors (RLIMIT_NOFILE)
    output_bytes: int = 1_000_000  # stdout and stderr are each cut (and the run stopped) past this

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SandboxResult:
    """What a sandboxed program did.

    exit_code: the program's exit status (None when it was killed by a signal);
    signal: the signal that ended it, if any; limit: which limit stopped it (one of LIMITS) or None.
    """

    stdout: str
    stderr: str
    exit_code: int | None
    signal: int | None = None
    limit: str | None = None
    seconds: float = 0.0
    backend: str = "bwrap"
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when the program itself finished with status 0 and no limit stopped it."""
        return self.exit_code == 0 and self.limit is None

    def error_summary(self, max_chars: int = 1200) -> str:
        """A short description of the failure for feedback to a model (last lines of stderr)."""
        if self.ok:
            return ""
        parts = []
        if self.limit:
            parts.append(f"stopped by the {self.limit.replace('_', ' ')} limit")
        elif self.signal:
            parts.append(f"killed by signal {self.signal}")
        elif self.exit_code:
            parts.append(f"exit status {self.exit_code}")
        err = self.stderr.strip()
        if err:
            tail = err[-max_chars:]
            if len(err) > max_chars:
                tail = "…" + tail[tail.find("\n") + 1:] if "\n" in tail else "…" + tail
            parts.append(tail)
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d
