"""CPU threads for llama.cpp: how many per decode step, chosen from measured step times.

llama.cpp's CPU backend runs on OpenMP (libgomp), whose threads spin at every barrier before they
sleep. On a quiet machine that is the fast choice; beside another process that also computes (a
second model, an eval, a browser), a team of spinning threads whose partner was descheduled
wastes its time slice, and a call became 13–88x slower. No fixed wait policy fixes both:
``OMP_WAIT_POLICY=PASSIVE`` costs a quiet machine ~3x, and bounded spinning (``GOMP_SPINCOUNT``)
measured as badly as the default down to 10,000 spins on a busy machine (docs/BENCHMARKS.md,
"Threads under contention"). One thread has no barriers to wait at.

So the thread count is tuned while decoding (`ThreadTuner`): each step runs with the count whose
recent steps were fastest for that kind of step, among n + 1, n and n/2 (n = cores), and the
others are re-tried now and then (after 1 s, backing off to 60 s while they keep losing). n + 1
comes first; n or fewer are only tried while the load average (less our own threads) is under
half the cores, because one spinning step on a busy machine can cost seconds. With
more threads than cores libgomp throttles its spinning by itself: on the busy machine 48 generated
tokens took 84–207 s with 2 spinning threads, 9–19 s with 1 and 3.5–4.1 s with 3. Quiet:
n. The spin policy stays libgomp's own; an ``OMP_WAIT_POLICY``/``GOMP_SPINCOUNT`` you export
applies.

``--threads N`` (every command that loads a local model), ``REASONLAB_THREADS=N`` or
``LlamaModel(n_threads=N)`` fix the count instead.
"""

from __future__ import annotations

import os
import time

THREADS_ENV = "REASONLAB_THREADS"
PROBE_S, PROBE_MAX_S = 1.0, 60.0


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
    """REASONLAB_THREADS if set, else one thread per available core (the most the tuner uses)."""
    return fixed_threads() or cpu_count()


def set_threads(n: int | None) -> None:
    """What `--threads N` does: every local model loaded afterwards in this process uses N threads."""
    if n is None:
        return
    if n < 1:
        from ..errors import InputError

        raise InputError(f"--threads must be at least 1 (got {n})")
    os.environ[THREADS_ENV] = str(n)


def _bucket(kind: str, tokens: int) -> tuple[str, int]:
    """Steps alike enough to compare: prompt chunks, or generation steps by batch size (powers of 2)."""
    return (kind, 0) if kind == "prompt" else (kind, min(tokens, 64).bit_length())


class ThreadTuner:
    """Chooses each decode step's thread count from measured seconds per token.

    Candidates (n = available cores): n + 1, n and n / 2 (n >= 4). With more threads than cores libgomp
    throttles its spinning to ~1,000 spins by itself, which on a contended machine measured ~20x
    faster than n spinning threads (and than one thread); on a quiet machine n threads win.
    """

    def __init__(self, n: int, fixed: bool = False) -> None:
        options = [n] if fixed else [n + 1, n, *([n // 2] if n >= 4 else [])]
        self.candidates = list(dict.fromkeys(options))  # n + 1 first: the safe choice on any machine
        self.n = n
        self._cost: dict[tuple[str, int], dict[int, tuple[float, float]]] = {}  # bucket -> threads -> (s/token, when)
        self._next_probe: dict[tuple[tuple[str, int], int], float] = {}
        self._backoff: dict[tuple[tuple[str, int], int], float] = {}
        self._bad_until: dict[int, float] = {}  # a count that just lost badly somewhere is not tried elsewhere
        self.chosen: dict[int, int] = {}  # steps run per thread count (benchmarks report it)

    def choose(self, kind: str, tokens: int) -> int:
        if len(self.candidates) == 1:
            return self.candidates[0]
        bucket = _bucket(kind, tokens)
        seen = self._cost.get(bucket, {})
        now = time.monotonic()
        quiet = None
        for t in self.candidates:
            if t not in seen and now >= self._bad_until.get(t, 0.0) and (t > self.n or (quiet := self._quiet(quiet))):
                return t
        if not seen:
            return self.candidates[0]
        best = min(seen, key=lambda t: seen[t][0])
        for t in self.candidates:
            if (t != best and t in seen and now >= self._next_probe.get((bucket, t), 0.0)
                    and (t > self.n or (quiet := self._quiet(quiet)))):
                return t
        return best

    def _quiet(self, known: bool | None) -> bool:
        """Whether trying n or fewer threads is safe: the load average, less this process's own
        threads, under half the cores. A spinning team on a busy machine costs seconds per step."""
        if known is not None:
            return known
        try:
            load = os.getloadavg()[0]
        except OSError:
            return False
        return load - min(load, self.n + 1) < self.n / 2

    def record(self, kind: str, tokens: int, threads: int, seconds: float) -> None:
        self.chosen[threads] = self.chosen.get(threads, 0) + 1
        if len(self.candidates) == 1:
            return
        bucket = _bucket(kind, tokens)
        seen = self._cost.setdefault(bucket, {})
        now = time.monotonic()
        x = seconds / max(1, tokens)
        old = seen.get(threads)
        fresh = old is None or now - old[1] > 2.0  # an old figure says little about the machine now
        seen[threads] = (x if fresh else 0.7 * old[0] + 0.3 * x, now)
        best = min(seen, key=lambda t: seen[t][0])
        key = (bucket, threads)
        if threads == best:
            self._backoff[key] = PROBE_S
            self._bad_until.pop(threads, None)
        else:  # it lost: try it again later, later each time it keeps losing (sooner if only just)
            ratio = seen[threads][0] / max(seen[best][0], 1e-9)
            self._backoff[key] = min(PROBE_MAX_S, self._backoff.get(key, PROBE_S / 2) * (4 if ratio > 3 else 2))
            self._next_probe[key] = now + self._backoff[key]
            if ratio > 3:
                self._bad_until[threads] = now + self._backoff[key]
        for t in self.candidates:
            if t != best and (bucket, t) not in self._next_probe:
                self._next_probe[(bucket, t)] = now + PROBE_S
