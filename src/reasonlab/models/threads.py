"""CPU threads for llama.cpp: how many, and how they wait.

llama.cpp's CPU backend runs on OpenMP (libgomp). At every barrier its threads spin before they
sleep, by default ~300,000 spins. On a quiet machine that is fast; beside another process that
also computes (a second model, an eval, a browser), two spinning teams on the same cores keep
each other's partner threads off the CPU and a call becomes 10–90× slower.
``OMP_WAIT_POLICY=PASSIVE`` (sleep at once) removes that cliff but costs ~3× on a quiet machine.

The default here is bounded spinning (``GOMP_SPINCOUNT``, see DEFAULT_SPINCOUNT): threads spin
long enough to catch a partner that is running, then sleep and give the core away. It was
chosen from measurements on a 2-core machine (docs/BENCHMARKS.md, "Threads under contention").
OpenMP reads these variables once, when llama.cpp's library is loaded, so `configure_openmp`
runs before `llama_cpp` is imported; settings the user exported (``OMP_WAIT_POLICY``,
``GOMP_SPINCOUNT``) are left alone.

Thread count: ``--threads N`` on every command that loads a local model, or
``REASONLAB_THREADS``; otherwise one per core this process may run on (its CPU affinity mask).
"""

from __future__ import annotations

import os
import sys

DEFAULT_SPINCOUNT = "10000"
THREADS_ENV = "REASONLAB_THREADS"


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """REASONLAB_THREADS if set (a positive integer), else one thread per available core."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n >= 1:
            return n
        from .base import ModelError

        raise ModelError(f"{THREADS_ENV}={raw!r} is not a positive whole number of threads")
    return cpu_count()


def set_threads(n: int | None) -> None:
    """What `--threads N` does: every local model loaded afterwards in this process uses N threads."""
    if n is None:
        return
    if n < 1:
        from ..errors import InputError

        raise InputError(f"--threads must be at least 1 (got {n})")
    os.environ[THREADS_ENV] = str(n)


def configure_openmp() -> bool:
    """Set bounded spinning unless the user chose a wait policy. False when it is too late
    (llama_cpp already imported by someone else: OpenMP has read its environment)."""
    if "llama_cpp" in sys.modules:
        return False
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = DEFAULT_SPINCOUNT
    return True
