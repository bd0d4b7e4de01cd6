"""Benchmark the code sandbox and program-aided reasoning.

    python benchmarks/bench_sandbox.py                      # everything, modest sizes
    python benchmarks/bench_sandbox.py --skip-model         # sandbox figures only
    python benchmarks/bench_sandbox.py --problems 20 --strategies pal,zero-shot-cot

Figures:
  1. start-up + run of a trivial program (median, p90 over --runs runs), next to a bare
     interpreter start for reference;
  2. throughput: --programs small programs through the sandbox with --workers threads;
  3. PAL vs CoT on the embedded model over generated two-step arithmetic word problems:
     accuracy (with a 95% Wilson interval), tokens and seconds per problem.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from _machine import machine  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from reasonlab.eval.intervals import wilson  # noqa: E402
from reasonlab.sandbox import Limits, detect, run_code


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




def bench_model(n: int, strategies: list[str], model: str) -> None:
    from reasonlab.answers.normalize import answers_match
    from reasonlab.models import load_model
    from reasonlab.api import run

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
    a = ap.parse_args()
    print(f"# bench_sandbox {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC} — {machine()}")
    bench_startup(a.runs)
    bench_throughput(a.programs, a.workers)
    if not a.skip_model:
        bench_model(a.problems, [s.strip() for s in a.strategies.split(",") if s.strip()], a.model)


if __name__ == "__main__":
    main()
