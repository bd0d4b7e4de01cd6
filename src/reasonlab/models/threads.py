"""CPU threads for llama.cpp: how many per decode step, chosen from what the other processes use.

llama.cpp's CPU backend runs on OpenMP (libgomp), whose threads spin at every barrier before they
sleep. On a quiet machine n spinning threads (n = cores) are the fastest setting; beside another
process that also computes (a second model, an eval, a browser), a spinning team whose partner
thread was descheduled wastes its time slice, and a call became 13–88x slower ("the cliff").
``OMP_WAIT_POLICY=PASSIVE`` avoids that but costs a quiet machine 1.6x, and libgomp reads it once,
when it loads, so it cannot follow the machine. The thread count can change between any two
decode steps (``llama_set_n_threads``), and one thread has no barrier to wait at.

So each step's count follows the CPU time other processes took on this process's cores over the
last ~¼ s (`CpuMonitor`: /proc/stat less this process's own CPU time):

- others use under 0.3 of a core: n threads (the quiet, spinning setting);
- others use part of the cores: as many threads as whole cores are left (at least 1) — beside a
  second model process each takes one core and neither spins waiting for the other;
- others fill every core (under half a core left): n + 1 threads. With more threads than cores
  libgomp spins only ~100 times before it sleeps, and each thread gets its own fair share.

A safety net covers what /proc/stat cannot see (no /proc, another VM's load): a step at n threads
that takes over 4x the best seen for its kind marks the machine contended for a few seconds.
``--threads N`` (every command that loads a local model), ``REASONLAB_THREADS=N`` or
``LlamaModel(n_threads=N)`` fix the count instead.
"""

from __future__ import annotations

import math
import os
import time

THREADS_ENV = "REASONLAB_THREADS"
WINDOW_S = 0.25  # CPU use is measured over windows at least this long
FIRST_WINDOW_S = 0.05  # …except the first (the model's loading to its first step), so it counts at once
QUIET_CORES = 0.3  # others using less than this much CPU: the machine counts as quiet
SLOW_FACTOR, SLOW_HOLD_S = 4.0, 3.0


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def fixed_threads() -> int | None:
    """REASONLAB_THREADS as a positive integer, None when unset; ModelError when malformed."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return None
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n >= 1:
        return n
    from .base import ModelError

    raise ModelError(f"{THREADS_ENV}={raw!r} is not a positive whole number of threads")


def default_threads() -> int:
    """REASONLAB_THREADS if set, else one thread per available core (the count on a quiet machine)."""
    return fixed_threads() or cpu_count()


def set_threads(n: int | None) -> None:
    """What `--threads N` does: every local model loaded afterwards in this process uses N threads."""
    if n is None:
        return
    if n < 1:
        from ..errors import InputError

        raise InputError(f"--threads must be at least 1 (got {n})")
    os.environ[THREADS_ENV] = str(n)


class CpuMonitor:
    """Cores that other processes used on this process's CPUs, over the last window (None: unknown).

    Busy time of the CPUs in the affinity mask (/proc/stat: user, nice, system, irq, softirq and
    steal) less this process's CPU time, per second of wall time, smoothed over two windows.
    """

    def __init__(self, stat_path: str = "/proc/stat") -> None:
        self.path = stat_path
        try:
            self.cpus = {f"cpu{c}" for c in os.sched_getaffinity(0)}
        except AttributeError:
            self.cpus = set()
        self.tick = 1.0 / (os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100)
        self.others: float | None = None
        self._last = self._sample()

    def _busy(self) -> float | None:
        try:
            with open(self.path, "rb") as f:
                lines = f.read().decode().splitlines()
        except OSError:
            return None
        total, seen = 0, False
        for line in lines:
            name, _, rest = line.partition(" ")
            if name in self.cpus:
                v = [int(x) for x in rest.split()[:8]]
                total += v[0] + v[1] + v[2] + v[5] + v[6] + v[7]  # all but idle and iowait
                seen = True
        return total * self.tick if seen else None

    def _sample(self) -> tuple[float, float | None, float]:
        return time.monotonic(), self._busy(), time.process_time()

    def update(self) -> float | None:
        """The current estimate, re-measured when the last measurement is a window old."""
        t0, busy0, own0 = self._last
        now = time.monotonic()
        if now - t0 < (WINDOW_S if self.others is not None else FIRST_WINDOW_S):
            return self.others
        self._last = t1, busy1, own1 = self._sample()
        if busy0 is None or busy1 is None:
            return None
        used = max(0.0, (busy1 - busy0 - (own1 - own0)) / (t1 - t0))
        fresh = self.others is None or t1 - t0 > 4 * WINDOW_S  # after a pause, the old figure is stale
        self.others = used if fresh else 0.5 * self.others + 0.5 * used
        return self.others


def threads_for(n: int, others: float) -> int:
    """Threads for a step on n cores while other processes use `others` cores (module docstring)."""
    if n == 1:
        return 1
    free = n - others
    if free < 0.5:
        return n + 1
    return max(1, min(n, math.floor(free + QUIET_CORES)))


class ThreadTuner:
    """Chooses each decode step's thread count (`choose`) and counts the steps run per count."""

    def __init__(self, n: int, fixed: bool = False, monitor: CpuMonitor | None = None) -> None:
        self.n = n
        self.fixed = fixed
        self.candidates = [n] if fixed else list(dict.fromkeys([n, n + 1, *range(n - 1, 0, -1)]))
        self.monitor = None if fixed else (monitor or CpuMonitor())
        self.chosen: dict[int, int] = {}  # steps run per thread count (benchmarks report it)
        self._best: dict[tuple[str, int], float] = {}  # step kind -> best seconds per token at n threads
        self._slow_until = 0.0

    def choose(self, kind: str, tokens: int) -> int:
        if self.monitor is None:
            return self.n
        others = self.monitor.update()
        if others is None:  # nothing to measure with: n threads unless steps have turned slow
            others = 0.0
        t = threads_for(self.n, others)
        if t == self.n and time.monotonic() < self._slow_until:
            t = self.n + 1
        return t

    def record(self, kind: str, tokens: int, threads: int, seconds: float) -> None:
        self.chosen[threads] = self.chosen.get(threads, 0) + 1
        if self.fixed or threads != self.n:
            return
        bucket = (kind, min(tokens, 512).bit_length())  # steps of a like size (powers of 2)
        x = seconds / max(1, tokens)
        best = self._best.get(bucket)
        if best is None or x < best:
            self._best[bucket] = x
        elif x > SLOW_FACTOR * best:
            self._slow_until = time.monotonic() + SLOW_HOLD_S
