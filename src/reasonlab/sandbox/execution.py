"""What came out of a sandboxed run (SandboxResult), the names of the limits that can stop one,
and the sandbox's errors."""

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
    peak_memory_mb: float | None = None  # the whole tree's peak, when a cgroup measured it

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
