"""Evaluation harness benchmarks.

1. Overhead: N procedural items × `direct` on an instant scripted model (the harness, runner,
   scoring and the SQLite store are all that costs time). Target: 10,000 items under 10 s.
2. Concurrency over HTTP: the same items against llama-cpp-python's server on loopback
   (`python -m llama_cpp.server`, the embedded SmolLM2 GGUF) with concurrency 1 and C, and
   against a stub OpenAI-compatible server with a fixed latency that serves requests in parallel
   (what the harness gains from a server that handles concurrency, e.g. vLLM or llama.cpp with slots).

Usage:
  .venv/bin/python benchmarks/bench_eval.py overhead --items 10000
  .venv/bin/python benchmarks/bench_eval.py http --items 16 --concurrency 4
  .venv/bin/python benchmarks/bench_eval.py http --target stub --items 64 --concurrency 8
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reasonlab.eval.harness import EvalConfig, Harness
from reasonlab.eval.report import write_report
from reasonlab.eval.store import Store
from reasonlab.models.scripted import ScriptedModel


def header() -> str:
    return (f"# {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')} · {platform.node()} · "
            f"{platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · Python {platform.python_version()}")


def instant(messages, params, index):
    m = re.search(r"\((\d+) ([+-]) (\d+)\) ([*+-]) (\d+)", messages[-1]["content"])
    a, b, c = int(m.group(1)), int(m.group(3)), int(m.group(5))
    first = a + b if m.group(2) == "+" else a - b
    return f"The answer is {first * c if m.group(4) == '*' else first + c if m.group(4) == '+' else first - c}."


def overhead(items: int, concurrency: int, progress: bool) -> None:
    out = Path(tempfile.mkdtemp(prefix="bench-eval-"))
    try:
        cfg = EvalConfig(datasets=[f"procedural:two-step-arithmetic?n={items}"], strategies=["direct"],
                         models=["scripted"], out=out, concurrency=concurrency)
        model = ScriptedModel(fn=instant)
        t0, c0 = time.perf_counter(), time.process_time()
        h = Harness(cfg, progress=progress, model_factory=lambda s: model)
        done = h.run()
        h.close()
        t_run, cpu_run = time.perf_counter() - t0, time.process_time() - c0
        t1 = time.perf_counter()
        write_report(out, plots=False)
        t_report = time.perf_counter() - t1
        t2 = time.perf_counter()
        write_report(out, plots=True)
        t_plots = time.perf_counter() - t2
        t3 = time.perf_counter()
        h = Harness(cfg, progress=False, model_factory=lambda s: model)
        again = h.run()
        h.close()
        t_resume = time.perf_counter() - t3
        acc = done.accuracy
        print(f"overhead: {items} items, concurrency {concurrency}: run {t_run:.2f} s wall, {cpu_run:.2f} s CPU "
              f"({items / t_run:,.0f} items/s, accuracy {acc:.3f}); load average {os.getloadavg()[0]:.1f}; report.md+csv {t_report:.2f} s; "
              f"with plots {t_plots:.2f} s; resume of a finished run {t_resume:.2f} s ({again.done} redone)")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stub_server(port: int, latency: float) -> None:
    """An OpenAI-compatible stub that answers every chat request after `latency` seconds, many at once."""
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a) -> None:
            pass

        def _send(self, obj) -> None:
            body = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._send({"data": [{"id": "stub"}]})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(latency)
            self._send({"choices": [{"index": 0, "message": {"role": "assistant", "content": "The answer is 1."},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 30, "completion_tokens": 5}})

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def http(items: int, concurrencies: list[int], max_tokens: int, target: str, latency: float) -> None:
    import httpx

    port = _free_port()
    if target == "llama":
        from reasonlab.models.embedded import embedded_path

        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_path("smollm2")), "--host",
               "127.0.0.1", "--port", str(port), "--n_threads", str(os.cpu_count() or 2)]
        what = "llama_cpp.server (SmolLM2-135M Q4_1)"
    else:
        cmd = [sys.executable, __file__, "stub-server", "--port", str(port), "--latency", str(latency)]
        what = f"a stub server answering after {latency:g} s, concurrently"
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        spec = f"openai:{'smollm2' if target == 'llama' else 'stub'}@{url}"
        # warm-up, untimed: the first requests after the server starts are several times slower
        # here (measured: 6-20 s per item in the first pass, ~1.2 s afterwards), whatever the
        # concurrency; so one untimed pass over the same items comes first (label "warm-up")
        concurrencies = [0, *concurrencies]
        for c in concurrencies:
            out = Path(tempfile.mkdtemp(prefix="bench-eval-http-"))
            try:
                # the same items for every concurrency, so the work (tokens generated) is comparable
                cfg = EvalConfig(datasets=[f"procedural:two-step-arithmetic?n={items}&seed=1"],
                                 strategies=["direct"], models=[spec], out=out, concurrency=max(1, c),
                                 smooth=False,
                                 options={"max_tokens": str(max_tokens)})
                t0 = time.perf_counter()
                h = Harness(cfg, progress=False)
                done = h.run()
                h.close()
                dt = time.perf_counter() - t0
                store = Store(out)
                gen = sum(r.completion_tokens for r in store.rows())
                store.close()
                print(f"http: {items} items × direct (max_tokens {max_tokens}) against {what}, "
                      f"concurrency {c or '1 (warm-up)'}: {dt:.2f} s, {items / dt:.2f} items/s, {gen} tokens generated, "
                      f"errors {done.errors}")
            finally:
                shutil.rmtree(out, ignore_errors=True)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    o = sub.add_parser("overhead")
    o.add_argument("--items", type=int, default=10_000)
    o.add_argument("--concurrency", type=int, default=1)
    o.add_argument("--progress", action="store_true")
    h = sub.add_parser("http")
    h.add_argument("--items", type=int, default=16)
    h.add_argument("--concurrency", type=int, default=4)
    h.add_argument("--max-tokens", type=int, default=32)
    h.add_argument("--target", choices=["llama", "stub"], default="llama")
    h.add_argument("--reverse", action="store_true", help="run concurrency C before 1")
    h.add_argument("--repeat", type=int, default=2, help="alternate 1 and C this many times (noisy machines)")
    h.add_argument("--latency", type=float, default=0.2, help="stub server: seconds per request")
    st = sub.add_parser("stub-server")
    st.add_argument("--port", type=int, required=True)
    st.add_argument("--latency", type=float, default=0.2)
    args = ap.parse_args()
    if args.what == "stub-server":
        stub_server(args.port, args.latency)
        return
    print(header())
    if args.what == "overhead":
        overhead(args.items, args.concurrency, args.progress)
    else:
        order = [1, args.concurrency] if not args.reverse else [args.concurrency, 1]
        http(args.items, order * args.repeat, args.max_tokens, args.target, args.latency)


if __name__ == "__main__":
    main()
