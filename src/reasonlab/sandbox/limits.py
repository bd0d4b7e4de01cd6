"""Resource limits of one sandboxed run: checked when made, and only ever tightened by a request.

    base = Limits(timeout_s=10, memory_mb=1024)               # what the operator configured
    mine = base.tightened_by({"memory_mb": 256})             # a request may lower limits…
    base.tightened_by({"memory_mb": 4096})                   # …never raise them: InputError

`memory_mb` and `processes` cap the whole process tree of a run: with a cgroup where one can be
made here (see `tree_limits`), else through per-process limits whose product stays within the
cap (`per_process_split`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..errors import InputError

# Largest accepted value of each limit: generous, but keeps every value finite and inside rlim_t.
MAXIMUM: dict[str, float] = {"timeout_s": 86_400.0, "cpu_s": 86_400, "memory_mb": 1 << 20, "processes": 1 << 15,
                             "file_size_mb": 1 << 20, "scratch_mb": 1 << 20, "open_files": 1 << 20,
                             "output_bytes": 1 << 34}
# Without a cgroup each process gets memory_mb / processes, but never less than this (CPython
# with a thread needs ~24 MiB of address space); the process count shrinks to keep the product.
MIN_PROCESS_MB = 64


def check_limit(name: str, value: Any, *, integer: bool = False, maximum: float | None = None) -> int | float:
    """`value` as a valid limit: a positive, finite number (a whole one when `integer`).

    Raises InputError with one line naming `name` (booleans and strings are refused, not coerced).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{name} must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be positive and finite (got {value!r})")
    if integer:
        if value != int(value):
            raise InputError(f"{name} must be a whole number (got {value!r})")
        value = int(value)
    if maximum is not None and value > maximum:
        raise InputError(f"{name} must be at most {maximum:g} (got {value!r})")
    return value


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run. Sizes in MiB, times in seconds; every value positive and finite."""

    timeout_s: float = 10.0  # wall clock: the whole process tree is killed after this
    cpu_s: int = 5  # CPU seconds per process (RLIMIT_CPU)
    memory_mb: int = 512  # memory of the whole process tree (cgroup, else split per process)
    processes: int = 32  # processes/threads of the whole tree (cgroup pids, RLIMIT_NPROC)
    file_size_mb: int = 16  # largest file a program may write (RLIMIT_FSIZE)
    scratch_mb: int = 64  # size of the private scratch directory (tmpfs)
    open_files: int = 64  # open file descriptors (RLIMIT_NOFILE)
    output_bytes: int = 1_000_000  # stdout and stderr are each cut (and the run stopped) past this

    def __post_init__(self) -> None:
        for f in fields(self):
            value = check_limit(f.name, getattr(self, f.name), integer=f.name != "timeout_s",
                                maximum=MAXIMUM[f.name])
            object.__setattr__(self, f.name, float(value) if f.name == "timeout_s" else value)

    def tightened_by(self, requested: Mapping[str, Any] | None) -> Limits:
        """These limits with the values a request asked for, which may only be lower or equal.

        `requested` maps field names (`timeout_s`, `memory_mb`, …) to values; None values are
        ignored. Each value is checked like a configured one; an unknown name, a bad value, or a
        value above the configured one raises InputError (one line). The result is the
        per-field minimum of the two, so a request can never loosen what the operator set.
        """
        known = {f.name for f in fields(self)}
        changes: dict[str, int | float] = {}
        for name, value in (requested or {}).items():
            if value is None:
                continue
            if name not in known:
                raise InputError(f"unknown sandbox limit {name!r} (known: {', '.join(sorted(known))})")
            v = check_limit(name, value, integer=name != "timeout_s", maximum=MAXIMUM[name])
            current = getattr(self, name)
            if v > current:
                raise InputError(f"{name}={v:g} is above the configured limit {current:g}; "
                                 "a request may only lower sandbox limits")
            changes[name] = min(v, current)
        return replace(self, **changes) if changes else self

    def per_process_split(self) -> tuple[int, int]:
        """(processes, MiB per process) for rlimits whose product stays within `memory_mb`.

        Used where no cgroup can cap the tree: each process gets memory_mb / processes, at least
        MIN_PROCESS_MB (or all of memory_mb when that is smaller), and the process count is cut
        to what fits.
        """
        each = max(self.memory_mb // self.processes, min(self.memory_mb, MIN_PROCESS_MB))
        return max(1, min(self.processes, self.memory_mb // each)), each

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_CEILING: dict[str, float] = {}  # process-wide caps set by the operator (`reasonlab serve --sandbox-*`)


def set_ceiling(**caps: float) -> None:
    """Cap every run of this process (e.g. `memory_mb=256, timeout_s=5`): each limit a run asks for,
    from a strategy option, a tool or a default, is lowered to the cap. Values are checked; no
    arguments removes the caps. Set once by `reasonlab serve`, before any request."""
    known = {f.name for f in fields(Limits)}
    checked: dict[str, float] = {}
    for name, value in caps.items():
        if name not in known:
            raise InputError(f"unknown sandbox limit {name!r} (known: {', '.join(sorted(known))})")
        checked[name] = check_limit(name, value, integer=name != "timeout_s", maximum=MAXIMUM[name])
    _CEILING.clear()
    _CEILING.update(checked)


def capped(limits: Limits) -> Limits:
    """`limits` lowered to the process-wide ceiling (`set_ceiling`); unchanged when none is set."""
    changes = {k: v for k, v in _CEILING.items() if getattr(limits, k) > v}
    if "timeout_s" in changes and limits.cpu_s > changes["timeout_s"]:
        changes["cpu_s"] = max(1, int(changes["timeout_s"]))
    return replace(limits, **changes) if changes else limits
