"""Server benchmarks: latency the server adds, throughput with concurrent clients, memory.

1. Added latency (scripted model, no delay): median time of a direct library call
   (`runner.run`) vs the same request over HTTP to `reasonlab serve` in its own process.
2. Throughput on the embedded model: aggregate completion tokens/s with 1 client vs 8
   concurrent clients (distinct questions; and identical questions, which the server merges).
3. Memory: RSS of the server process at rest and the peak under load.

Usage:
  .venv/bin/python benchmarks/bench_server.py [--requests 200] [--tput-requests 16] [--max-tokens 48]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

from reasonlab.server.testing import free_port

QUESTIONS = [
    "A pen costs 3 dollars. How much do 4 pens cost?",
    "Tom has 12 apples and gives away 5. How many are left?",
    "A train travels 60 km per hour for 2 hours. How far does it go?",
    "There are 7 birds on a tree and 3 fly away. How many remain?",
    "Sara reads 15 pages a day. How many pages does she read in 4 days?",
    "A box holds 6 eggs. How many eggs are in 5 boxes?",
    "Jim had 20 dollars and spent 8. How much does he have now?",
    "A class has 14 girls and 11 boys. How many students are there?",
]


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (load-independent, unlike wall time)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class ServerProcess:
    """`reasonlab serve` in a child process on a free loopback port."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "REASONLAB_API_KEY"}
        self.proc = subprocess.Popen([sys.executable, "-m", "reasonlab", "serve", "--port", str(self.port),
                                      "--log-level", "warning", *args], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(self.url + "/health", timeout=2).raise_for_status()
                return
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {self.proc.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.1)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def bench_latency(n: int) -> dict:
    from reasonlab.api import run

    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "bench.json"
        script.write_text(json.dumps({"default": "The answer is 12."}))
        q = QUESTIONS[0]
        direct = []
        for _ in range(n):
            t0 = time.perf_counter()
            run(q, "direct", f"scripted:{script}", cache=False)
            direct.append(time.perf_counter() - t0)
        srv = ServerProcess("--model", f"scripted:{script}", "--strategy", "direct")
        try:
            body = {"model": "direct/bench", "messages": [{"role": "user", "content": q}]}
            over_http, streamed = [], []
            with httpx.Client(timeout=30) as c:
                for _ in range(20):  # warm up
                    c.post(srv.url + "/v1/chat/completions", json=body).raise_for_status()
                cpu0 = cpu_s(srv.proc.pid)
                for _ in range(n):
                    t0 = time.perf_counter()
                    c.post(srv.url + "/v1/chat/completions", json=body).raise_for_status()
                    over_http.append(time.perf_counter() - t0)
                server_cpu_ms = (cpu_s(srv.proc.pid) - cpu0) * 1000 / n
                for _ in range(max(20, n // 4)):
                    t0 = time.perf_counter()
                    with c.stream("POST", srv.url + "/v1/chat/completions", json={**body, "stream": True}) as r:
                        for _line in r.iter_lines():
                            pass
                    streamed.append(time.perf_counter() - t0)
        finally:
            srv.close()
    med = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    return {"requests": n, "direct_ms": round(med(direct), 3), "http_ms": round(med(over_http), 3),
            "added_ms": round(med(over_http) - med(direct), 3),
            "http_p90_ms": round(statistics.quantiles(over_http, n=10)[-1] * 1000, 3),
            "server_cpu_ms_per_request": round(server_cpu_ms, 3), "load_avg_1m": round(os.getloadavg()[0], 1),
            "stream_ms": round(med(streamed), 3)}


def bench_throughput(n_requests: int, max_tokens: int, merge: bool, threads: int | None) -> dict:
    args = ["--model", "smollm2", "--strategy", "chat", "--workers", "8", "--queue-size", "64",
            *(["--threads", str(threads)] if threads else [])]
    srv = ServerProcess(*args, *([] if merge else ["--no-merge"]))
    pid = srv.proc.pid
    out: dict = {"rss_rest_mb": round(rss_kb(pid) / 1024, 1), "max_tokens": max_tokens, "merge": merge,
                 "threads": threads or "default"}
    peak = [rss_kb(pid)]
    stop = threading.Event()

    def sample_rss() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()

    def one(client: httpx.Client, question: str, seed: int) -> int:
        r = client.post(srv.url + "/v1/chat/completions", json={
            "model": "chat/smollm2", "max_tokens": max_tokens, "temperature": 0.0, "seed": seed,
            "messages": [{"role": "user", "content": question}], "reasonlab": {"trace": False}})
        r.raise_for_status()
        return r.json()["usage"]["completion_tokens"]

    try:
        with httpx.Client(timeout=600) as c:
            one(c, "Hello", 0)  # load and warm
            for label, concurrency, same in (("1 client", 1, False), ("8 clients, distinct", 8, False),
                                             ("8 clients, identical", 8, True)):
                # distinct: every request's prompt differs (no merging possible); identical: all the same
                qs = [QUESTIONS[0] if same else f"{QUESTIONS[i % len(QUESTIONS)]} (case {i})"
                      for i in range(n_requests)]
                before = httpx.get(srv.url + "/v1/stats").json()["models"]["smollm2"]
                load = os.getloadavg()[0]
                t0 = time.perf_counter()
                with ThreadPoolExecutor(concurrency) as pool:
                    tokens = sum(pool.map(lambda q: one(c, q, 0), qs))
                secs = time.perf_counter() - t0
                after = httpx.get(srv.url + "/v1/stats").json()["models"]["smollm2"]
                out[label] = {"requests": n_requests, "seconds": round(secs, 2), "completion_tokens": tokens,
                              "tokens_per_s": round(tokens / secs, 1), "requests_per_s": round(n_requests / secs, 2),
                              "model_calls": after["calls"] - before["calls"],
                              "merged_calls": after["merged"] - before["merged"],
                              "load_avg_1m": round(load, 1)}
    finally:
        stop.set()
        sampler.join()
        out["rss_peak_mb"] = round(peak[0] / 1024, 1)
        srv.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=200, help="requests for the latency measurement")
    ap.add_argument("--tput-requests", type=int, default=16, help="requests per throughput setting")
    ap.add_argument("--max-tokens", type=int, default=48, help="max_tokens of each throughput request")
    ap.add_argument("--threads", type=int, default=None, help="--threads of the server (default: backend default)")
    ap.add_argument("--skip-embedded", action="store_true", help="latency only (no embedded model)")
    a = ap.parse_args()
    print(f"# bench_server {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
          f"({os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, Python {platform.python_version()})")
    lat = bench_latency(a.requests)
    print("latency:", json.dumps(lat))
    if not a.skip_embedded:
        print("throughput+memory:", json.dumps(bench_throughput(a.tput_requests, a.max_tokens, merge=True,
                                                                 threads=a.threads)))


if __name__ == "__main__":
    main()
