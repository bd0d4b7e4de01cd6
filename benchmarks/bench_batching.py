"""Continuous batching and streaming, measured end to end (issue 15 targets), one interleaved run.

    .venv/bin/python benchmarks/bench_batching.py [--model smollm2] [--rounds 2] [--items 40]

1. `reasonlab serve`: 8 concurrent clients with distinct prompts vs the same 8 requests one
   after another — aggregate completion tokens/s (target >= 1.4x).
2. `reasonlab eval -s zero-shot-cot` on GSM8K train items 0–39: `-c 8` vs `-c 1` wall time
   (target >= 1.3x faster); `--kv unified,split` compares the KV cache layouts in the same rounds.
3. A streamed zero-shot-cot request: time to its first `reasoning_content` delta vs its total
   (target < 20 %).
Settings alternate within each round, so both sides of a ratio share the machine's load.

    .venv/bin/python benchmarks/bench_batching.py --steps smollm2,llama:COPY.q8_0.gguf [--rounds 2]

4. `--steps`: time inside `llama_decode` per generation step of 8 concurrent distinct greedy requests
   (48 tokens each) and of one, per model (set REASONLAB_THREADS to fix the thread count; 8-sequence
   batches also after 20 idle caches of a 150-word prompt fill the KV cache, which does not change
   the step time): what `--weights` decides from.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine, stamp  # noqa: E402
from bench_server import QUESTIONS, ServerProcess  # noqa: E402

GSM8K = Path("/work/shared/data/gsm8k/train.jsonl")


def one(client: httpx.Client, url: str, question: str, max_tokens: int) -> int:
    r = client.post(url + "/v1/chat/completions", json={
        "model": "chat/smollm2", "max_tokens": max_tokens, "temperature": 0.0,
        "messages": [{"role": "user", "content": question}], "reasonlab": {"trace": False}})
    r.raise_for_status()
    return r.json()["usage"]["completion_tokens"]


def server_round(url: str, max_tokens: int, tag: int) -> dict[str, float]:
    qs = [f"{QUESTIONS[i]} Explain each step. (case {tag}-{i})" for i in range(8)]
    out = {}
    with httpx.Client(timeout=900) as c:
        for label, workers in (("sequential", 1), ("concurrent", 8)):
            t0 = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                tokens = sum(pool.map(lambda q: one(c, url, q, max_tokens), qs))
            out[label] = tokens / (time.perf_counter() - t0)
    return out


def first_delta(url: str, question: str) -> tuple[float, float]:
    body = {"model": "zero-shot-cot/smollm2", "max_tokens": 128, "stream": True,
            "messages": [{"role": "user", "content": question}], "reasonlab": {"trace": False}}
    t0 = time.perf_counter()
    first = None
    with httpx.Client(timeout=600) as c, c.stream("POST", url + "/v1/chat/completions", json=body) as r:
        for line in r.iter_lines():
            if first is None and line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get(
                    "reasoning_content"):
                first = time.perf_counter() - t0
    return first or float("nan"), time.perf_counter() - t0


def eval_seconds(model: str, items: int, concurrency: int, data: Path, kv: str = "unified") -> tuple[float, dict]:
    """Wall time of the whole `reasonlab eval` command (KV layout `kv`), and its engine's step statistics."""
    out = Path(tempfile.mkdtemp(prefix="bench-eval-"))
    try:
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "reasonlab", "eval", "-d", f"jsonl:{data}", "-n", str(items),
                            "-s", "zero-shot-cot", "-m", model, "-c", str(concurrency), "--no-cache", "--out",
                            str(out)], check=True, capture_output=True, text=True,
                           env={**os.environ, "REASONLAB_ENGINE_STATS": "1", "REASONLAB_KV": kv})
        secs = time.perf_counter() - t0
        stats = [json.loads(x[13:]) for x in p.stderr.splitlines() if x.startswith("engine-stats ")]
        return secs, (stats[-1] if stats else {})
    finally:
        shutil.rmtree(out, ignore_errors=True)


STEP_Q = "Explain step by step how to compute {a} times {b} plus {c}, and give the result."


def step_times(spec: str, rounds: int) -> None:
    """ms per generation step inside llama_decode: 8 concurrent sequences vs 1, fresh and filled cache."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import threading

    from reasonlab.models import load_model
    from reasonlab.models.base import GenParams

    m = load_model(spec)
    e = m.engine

    def batch(tag: int, n: int) -> float:
        g0, n0 = e.seconds["gen"], sum(e.gen_batches.values())
        ts = [threading.Thread(target=m.generate, args=(
            [{"role": "user", "content": STEP_Q.format(a=i + 3, b=tag, c=i * 7)}],
            GenParams(temperature=0, max_tokens=48, guard=False))) for i in range(n)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        return 1000 * (e.seconds["gen"] - g0) / max(1, sum(e.gen_batches.values()) - n0)

    out: dict[str, list[float]] = {"8 sequences": [], "8, idle caches filled": [], "1 sequence": []}
    for r in range(rounds):
        m.reset_cache()
        out["8 sequences"].append(batch(100 + r, 8))
        m.reset_cache()
        for i in range(20):  # idle caches of ~150 tokens each
            m.generate([{"role": "user", "content": f"{i} " + " ".join(f"word{j}" for j in range(150))}],
                       GenParams(temperature=0, max_tokens=1, guard=False))
        out["8, idle caches filled"].append(batch(200 + r, 8))
        m.reset_cache()
        out["1 sequence"].append(batch(400 + r, 1))
    print(f"| {spec} ({m.info().extra['weights']}, kv {m.info().extra['kv']}) | " + " | ".join(
        f"{statistics.median(v):.1f} ({', '.join(f'{x:.1f}' for x in v)})" for v in out.values()) + " |", flush=True)
    m.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--skip-serve", action="store_true", help="only the eval comparison")
    ap.add_argument("--kv", default="unified", help="comma-separated KV layouts for the eval comparison and --steps "
                                                    "(unified, split), interleaved within each round")
    ap.add_argument("--steps", help="comma-separated model specs: decode ms per step, 8 sequences vs 1; nothing else")
    args = ap.parse_args()
    if args.steps:
        print(f"## Decode step times — {stamp()}\nmachine: {machine()} (load {os.getloadavg()[0]:.1f}); "
              f"threads {os.environ.get('REASONLAB_THREADS', 'tuned')}; median (each round) ms per generation step\n")
        print("| model | 8 sequences | 8, idle caches filled | 1 sequence |\n|---|---|---|---|")
        for spec in args.steps.split(","):
            for kv in args.kv.split(","):
                os.environ["REASONLAB_KV"] = kv.strip()
                step_times(spec.strip(), args.rounds)
        return
    load0 = os.getloadavg()[0]
    layouts = [k.strip() for k in args.kv.split(",")]
    srv_rounds, deltas = [], []
    evals: dict[tuple[str, int], list[float]] = {(k, c): [] for k in layouts for c in (1, 8)}
    stats: dict[tuple[str, int], list[dict]] = {(k, c): [] for k in layouts for c in (1, 8)}
    if not args.skip_serve:
        srv = ServerProcess("--model", args.model, "--strategy", "chat", "--workers", "8", "--queue-size", "64",
                            "--no-merge")
        try:
            with httpx.Client(timeout=600) as c:
                one(c, srv.url, "Hello", 4)  # load and warm
            for r in range(args.rounds):
                srv_rounds.append(server_round(srv.url, args.max_tokens, r))
                deltas.append(first_delta(srv.url, QUESTIONS[r % len(QUESTIONS)]))
                print(f"round {r + 1}: serve {srv_rounds[-1]}, first delta / total {deltas[-1]}", file=sys.stderr,
                      flush=True)
        finally:
            srv.close()
    if not args.skip_eval:
        with tempfile.TemporaryDirectory() as d:
            data = Path(d) / "gsm8k-0-39.jsonl"  # the development slice's first items, zero-shot only
            data.write_text("".join(GSM8K.read_text().splitlines(keepends=True)[:args.items]))
            for _ in range(args.rounds):
                for kv in layouts:
                    for c in (1, 8):
                        secs, st = eval_seconds(args.model, args.items, c, data, kv)
                        evals[kv, c].append(secs)
                        stats[kv, c].append(st)
                        print(f"eval --kv {kv} -c {c}: {secs:.1f} s; engine {st}", file=sys.stderr, flush=True)
    med = statistics.median
    print(f"## Batching and streaming — {stamp()}")
    print(f"machine: {machine()} (load at start {load0:.1f}); model {args.model}; {args.rounds} interleaved rounds\n")
    print("| measure | value | target |")
    print("|---|---|---|")
    if srv_rounds:
        seq, conc = med(r["sequential"] for r in srv_rounds), med(r["concurrent"] for r in srv_rounds)
        print(f"| serve, 8 distinct requests one after another | {seq:.1f} tok/s | |")
        print(f"| serve, the same 8 requests concurrently | {conc:.1f} tok/s | |")
        print(f"| concurrent / sequential aggregate tok/s | **{conc / seq:.2f}x** | >= 1.4x |")
    for kv in layouts if not args.skip_eval else []:
        e1, e8 = med(evals[kv, 1]), med(evals[kv, 8])
        tag = f" (--kv {kv})" if len(layouts) > 1 or kv != "unified" else ""
        print(f"| eval zero-shot-cot, {args.items} GSM8K train items, -c 1{tag} | {e1:.1f} s | |")
        print(f"| same, -c 8{tag} | {e8:.1f} s | |")
        print(f"| -c 1 / -c 8{tag} | **{e1 / e8:.2f}x** | >= 1.3x |")
        for c in (1, 8):
            st = [x for x in stats[kv, c] if x]
            if st:
                print(f"| -c {c}{tag}: generation steps, mean sequences per step, decode s (gen / prompt) | "
                      f"{med(x['gen_steps'] for x in st):.0f}, {med(x['mean_gen_batch'] for x in st):.2f}, "
                      f"{med(x['decode_s']['gen'] for x in st):.1f} / {med(x['decode_s']['prompt'] for x in st):.1f}"
                      f" | threads {st[-1]['threads']} |")
    if deltas:
        fd = [f / t for f, t in deltas]
        print(f"| streamed zero-shot-cot: first reasoning delta / total | **{med(fd) * 100:.0f} %** "
              f"({med(f for f, _ in deltas):.2f} s of {med(t for _, t in deltas):.2f} s) | < 20 % |")


if __name__ == "__main__":
    main()
