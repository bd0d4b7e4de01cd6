"""The contention cliff: `reasonlab ask` quiet vs beside another local-model process, per thread setting.

    .venv/bin/python benchmarks/bench_threads.py [--model smollm2] [--repeats 2] [--configs default,passive,...]

For each setting (OpenMP wait policy / spin count, thread count) the same zero-shot-cot `ask`
runs alone ("quiet") and beside a second process that loads the same model with the same
setting and generates long answers without a pause ("beside"). Settings and conditions are
interleaved within one run, so the ratios share the machine's load. The time is the run's own
wall time (`usage.seconds` of `ask --json`: model calls and strategy, not Python start-up).
Target (issue 15): beside / quiet <= 3x (fair share of 2 cores between two processes is ~2x).
Each ask reports how many decode steps ran at each thread count (REASONLAB_ENGINE_STATS).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine, stamp  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
QUESTION = "A shop sells pens at 3 dollars each. Tom buys 4 pens and pays with a 20 dollar bill. How much change?"
N = len(os.sched_getaffinity(0))
# name -> (environment, threads); None removes the variable. Fixed settings pin the thread count
# (REASONLAB_THREADS), which turns reasonlab's per-step thread tuning off; "tuned" is the default.
CONFIGS: dict[str, tuple[dict[str, str | None], int | None]] = {
    "spin (libgomp default)": ({"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": None}, N),
    "passive": ({"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": None}, N),
    "spin-100k": ({"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "100000"}, N),
    "spin-10k": ({"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "10000"}, N),
    "spin-1k": ({"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "1000"}, N),
    "1 thread": ({"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": None}, 1),
    "cores + 1 threads": ({"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": None}, N + 1),
    "tuned (reasonlab default)": ({"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": None}, None),
}
DEFAULT_CONFIGS = "spin (libgomp default),passive,1 thread,cores + 1 threads,tuned (reasonlab default)"
HOG = """
import sys
from reasonlab.models import load_model, GenParams
m = load_model(sys.argv[1])
msgs = [{"role": "user", "content": "Write a very long story about a lighthouse keeper and the sea."}]
print("ready", flush=True)
i = 0
while True:
    m.generate(msgs, GenParams(temperature=0.8, max_tokens=512, seed=i, guard=False))
    i += 1
"""


def env_for(cfg: str) -> dict[str, str]:
    env = dict(os.environ)
    changes, threads = CONFIGS[cfg]
    for k, v in changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    env.pop("REASONLAB_THREADS", None)
    if threads is not None:
        env["REASONLAB_THREADS"] = str(threads)
    env["PYTHONPATH"] = str(ROOT / "src")
    env["REASONLAB_ENGINE_STATS"] = "1"  # the ask reports the thread counts its steps ran at
    return env


THREADS_SEEN: dict[tuple[str, str], list[dict]] = {}


def ask_seconds(model: str, cfg: str, timeout: float, where: str = "quiet") -> float:
    cmd = [PY, "-m", "reasonlab", "ask", QUESTION, "-s", "zero-shot-cot", "-m", model, "--no-cache", "--json",
           "--max-tokens", "160"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env_for(cfg), timeout=timeout)
    except subprocess.TimeoutExpired:
        return float("inf")
    if p.returncode != 0:
        raise SystemExit(f"ask failed ({cfg}): {p.stderr[-400:]}")
    for line in p.stderr.splitlines():
        if line.startswith("engine-stats "):
            THREADS_SEEN.setdefault((cfg, where), []).append(json.loads(line[13:])["threads"])
    return float(json.loads(p.stdout)["usage"]["seconds"])


def start_hog(model: str, cfg: str) -> subprocess.Popen:
    hog = subprocess.Popen([PY, "-c", HOG, model], env=env_for(cfg), stdout=subprocess.PIPE, text=True)
    assert hog.stdout is not None
    hog.stdout.readline()  # "ready": the model is loaded and generating
    time.sleep(1.0)
    return hog


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--configs", default=DEFAULT_CONFIGS, help=f"comma-separated, any of: {'; '.join(CONFIGS)}")
    ap.add_argument("--timeout", type=float, default=60.0, help="an ask slower than this counts as this (>=)")
    args = ap.parse_args()
    cfgs = [c.strip() for c in args.configs.split(",") if c.strip()]
    quiet: dict[str, list[float]] = {c: [] for c in cfgs}
    beside: dict[str, list[float]] = {c: [] for c in cfgs}
    load_start = os.getloadavg()[0]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the second process
    for r in range(args.repeats):  # interleaved: every setting sees the same stretch of machine load
        for c in cfgs:
            quiet[c].append(ask_seconds(args.model, c, args.timeout))
            hog = start_hog(args.model, c)
            try:
                beside[c].append(min(ask_seconds(args.model, c, args.timeout, "beside"), args.timeout))
            finally:
                hog.kill()
                hog.wait()
            print(f"round {r + 1} {c}: quiet {quiet[c][-1]:.2f} s, beside {beside[c][-1]:.2f} s, "
                  f"load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    print(f"## Threads under contention — {stamp()}")
    print(f"machine: {machine()} (load at start {load_start:.1f}); model {args.model}; "
          f"zero-shot-cot ask, max_tokens 160; medians of {args.repeats}\n")
    print("| setting | quiet s | beside another model process s | ratio |")
    print("|---|---|---|---|")
    for c in cfgs:
        q, b = statistics.median(quiet[c]), statistics.median(beside[c])
        print(f"| {c} | {q:.2f} | {b:.2f}{'+' if b >= args.timeout else ''} | **{b / q:.1f}x** |")
    print("\nsteps per thread count (each ask): " + "; ".join(
        f"{c} {w}: {v}" for (c, w), v in THREADS_SEEN.items()))


if __name__ == "__main__":
    main()
