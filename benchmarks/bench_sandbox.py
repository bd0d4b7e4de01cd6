"""Benchmark the code sandbox and program-aided reasoning.

    python benchmarks/bench_sandbox.py                      # everything, modest sizes
    python benchmarks/bench_sandbox.py --skip-model         # sandbox figures only
    python benchmarks/bench_sandbox.py --problems 20 --strategies pal,zero-shot-cot

Figures:
  1. start-up + run of a trivial program (median, p90 over --runs runs), next to a bare
     interpreter start for reference;
  2. throughput: --programs small programs through the sandbox with --workers threads;
  3. PAL vs CoT on the embedded model over generated two-step arithmetic word problems:
     accuracy (with a 95% Wilson interval), tokens and seconds per problem;
  4. resident memory of a five-process tree against the memory cap (`--tree-only` runs just
     this): each child writes --each-mb MiB and holds it until all have tried; the tree's
     proportional resident memory (PSS) is sampled from /proc every 5 ms (the sandbox's processes are this
     process's descendants), next to the cgroup's own peak where a cgroup caps the tree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from _machine import machine  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from reasonlab.eval.intervals import wilson  # noqa: E402
from reasonlab.sandbox import Limits, detect, run_code
from reasonlab.sandbox.tree_limits import cgroup_layout


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def bench_startup(runs: int) -> None:
    info = detect()
    exe = info.interpreter.executable if info.interpreter else sys.executable
    bare = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([exe, "-I", "-S", "-c", "print(1)"], capture_output=True, check=True)
        bare.append(time.perf_counter() - t)
    sandboxed = []
    run_code("print(1)")  # warm: detection and caches
    for _ in range(runs):
        t = time.perf_counter()
        r = run_code("print(1)")
        sandboxed.append(time.perf_counter() - t)
        assert r.ok, r
    print(f"## start-up + trivial program ({runs} runs, backend {info.backend})")
    print(f"sandboxed: median {statistics.median(sandboxed) * 1000:.1f} ms, p90 {pct(sandboxed, 0.9) * 1000:.1f} ms, "
          f"min {min(sandboxed) * 1000:.1f} ms")
    print(f"bare interpreter (-I -S, no sandbox): median {statistics.median(bare) * 1000:.1f} ms")


def bench_throughput(programs: int, workers: int) -> None:
    codes = [f"import math\nprint(sum(math.isqrt(i) for i in range({1000 + 37 * k})))" for k in range(programs)]
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda c: run_code(c, Limits(timeout_s=30)), codes))
    secs = time.perf_counter() - t
    ok = sum(r.ok for r in results)
    print(f"## throughput: {programs} programs, {workers} workers")
    print(f"{programs / secs:.1f} programs/s ({secs:.2f} s total, {ok}/{programs} ok)")


TEMPLATES = [
    ("A shop has {a} boxes with {b} pens in each box. It sells {c} pens. How many pens are left?",
     lambda a, b, c: a * b - c),
    ("Mia reads {a} pages a day for {b} days, then {c} more pages. How many pages did she read?",
     lambda a, b, c: a * b + c),
    ("A farmer picks {a} apples and packs them into bags of {b}. He gives away {c} bags. "
     "How many bags does he keep?", lambda a, b, c: a // b - c),
    ("A ticket costs {a} dollars. A group buys {b} tickets and pays a booking fee of {c} dollars. "
     "How much do they pay in total?", lambda a, b, c: a * b + c),
]


def problems(n: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text, fn = TEMPLATES[i % len(TEMPLATES)]
        b = rng.randint(3, 12)
        a = b * rng.randint(4, 15) if "bags of" in text else rng.randint(12, 95)
        c = rng.randint(1, a // b - 1) if "bags of" in text else rng.randint(2, 30)
        out.append((text.format(a=a, b=b, c=c), str(fn(a, b, c))))
    return out


FIVE_CHILDREN = """
    import os, select, time
    EACH = {each_mb} * 1024 * 1024
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    kids = []
    for i in range(5):
        try:
            pid = os.fork()
        except OSError:
            continue
        if pid == 0:
            try:
                block = b"\\x01" * EACH
                os.write(ready_w, b"r")
                os.read(go_r, 1)
                time.sleep(0.3)
                print("held", i, len(block), flush=True)
            except MemoryError:
                print("memory error", i, flush=True)
            os._exit(0)
        kids.append(pid)
    waiting, ready, deadline = set(kids), 0, time.monotonic() + 20
    while waiting and ready < len(waiting) and time.monotonic() < deadline:
        if select.select([ready_r], [], [], 0.05)[0]:
            ready += len(os.read(ready_r, 16))
        for pid in list(waiting):
            if os.waitpid(pid, os.WNOHANG)[0]:
                waiting.discard(pid)
    os.write(go_w, b"g" * 5)
    for pid in waiting:
        os.waitpid(pid, 0)
    print("forked", len(kids))
"""


def tree_pss_mb(root: int) -> tuple[float, int]:
    """(proportional resident MiB, process count) of every descendant of `root`, not `root` itself.

    PSS (from /proc/PID/smaps_rollup) splits shared pages (the interpreter, libraries) among the
    processes mapping them, so the sum is the tree's resident memory without double counting.
    """
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(name))
    total_kb, count = 0, 0
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total_kb += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
            count += 1
        except (OSError, ValueError, IndexError, StopIteration):
            pass
    return total_kb / 1024, count


class TreeSampler:
    """Samples this process's descendants' resident memory in a thread until `stop()`."""

    def __init__(self) -> None:
        self.peak, self.at_peak, self._stop = 0.0, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, n = tree_pss_mb(os.getpid())
            if rss > self.peak:
                self.peak, self.at_peak = rss, n
            time.sleep(0.005)

    def stop(self) -> tuple[float, int]:
        self._stop.set()
        self._thread.join()
        return self.peak, self.at_peak


def bench_tree_memory(each_mb: int, cap_mb: int) -> None:
    code = textwrap.dedent(FIVE_CHILDREN.format(each_mb=each_mb))
    layout, how = cgroup_layout()
    print(f"## five-process tree, each child writes and holds {each_mb} MiB; cap {cap_mb} MiB")
    print(f"tree caps here: {how}")
    print("| mechanism | memory_mb | peak tree PSS (sampled) | processes at peak | cgroup peak | children holding | limit |")
    print("|---|---|---|---|---|---|---|")
    modes = ([("cgroup", cap_mb, None)] if layout is not None else []) + [
        ("per-process rlimits", cap_mb, "none"), ("reference: cap far above need", 8 * cap_mb, None)]
    for label, mem, env in modes:
        old = os.environ.get("REASONLAB_SANDBOX_CGROUP")
        if env is not None:
            os.environ["REASONLAB_SANDBOX_CGROUP"] = env
        sampler = TreeSampler()
        try:
            r = run_code(code, Limits(timeout_s=60, cpu_s=30, memory_mb=mem, processes=16))
        finally:
            peak, at_peak = sampler.stop()
            if env is not None:
                if old is None:
                    os.environ.pop("REASONLAB_SANDBOX_CGROUP", None)
                else:
                    os.environ["REASONLAB_SANDBOX_CGROUP"] = old
        cg = f"{r.peak_memory_mb:.0f} MiB" if r.peak_memory_mb is not None else "–"
        print(f"| {label} | {mem} | {peak:.0f} MiB | {at_peak} | {cg} | {r.stdout.count('held')}/5 | "
              f"{r.limit or 'none'} |", flush=True)


def bench_model(n: int, strategies: list[str], model: str) -> None:
    from reasonlab.answers.normalize import answers_match
    from reasonlab.api import run
    from reasonlab.models import load_model

    m = load_model(model)
    qs = problems(n)
    print(f"## PAL vs CoT on {model}: {n} generated arithmetic word problems, greedy, no cache")
    print("| strategy | correct | accuracy (95% CI) | answered | tokens/problem | s/problem | notes |")
    print("|---|---|---|---|---|---|---|")
    for strat in strategies:
        correct = answered = tokens = 0
        secs = 0.0
        extra = {"repairs": 0, "programs_ok": 0}
        for q, gold in qs:
            t = time.perf_counter()
            kw = {"rounds": 1, "max_tokens": 192} if strat in ("pal", "pot") else {"max_tokens": 192}
            r = run(q, strat, m, cache=False, **kw)
            secs += time.perf_counter() - t
            tokens += r.usage.total_tokens
            answered += r.answer is not None
            correct += answers_match(r.answer, gold, "number")
            if strat in ("pal", "pot"):
                extra["repairs"] += r.details.get("repairs", 0)
                extra["programs_ok"] += any(a["exit_code"] == 0 for a in r.details.get("rounds", []))
        lo, hi = wilson(correct, n)
        note = (f"{extra['programs_ok']}/{n} ran a program without error, {extra['repairs']} repair rounds"
                if strat in ("pal", "pot") else "")
        print(f"| {strat} | {correct}/{n} | {correct / n:.2f} ({lo:.2f}–{hi:.2f}) | {answered}/{n} | "
              f"{tokens / n:.0f} | {secs / n:.1f} | {note} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--programs", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--problems", type=int, default=20)
    ap.add_argument("--strategies", default="pal,zero-shot-cot")
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--skip-model", action="store_true")
    ap.add_argument("--tree-only", action="store_true", help="only the five-process memory measurement")
    ap.add_argument("--each-mb", type=int, default=96)
    ap.add_argument("--cap-mb", type=int, default=256)
    a = ap.parse_args()
    print(f"# bench_sandbox {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC} — {machine()}")
    bench_tree_memory(a.each_mb, a.cap_mb)
    if a.tree_only:
        return
    bench_startup(a.runs)
    bench_throughput(a.programs, a.workers)
    if not a.skip_model:
        bench_model(a.problems, [s.strip() for s in a.strategies.split(",") if s.strip()], a.model)


if __name__ == "__main__":
    main()
