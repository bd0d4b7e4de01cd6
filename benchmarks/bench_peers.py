"""Self-consistency with 8 samples against peer libraries, on the same GGUF, in one interleaved run.

    .venv/bin/python benchmarks/bench_peers.py [--model smollm2] [--questions 5] [--start 200] [--repeats 2]
        [--k 8] [--stop "confidence=mean,settle=0.7,settle_rule=share,warmup=3,round_size=1"] [--systems ...]

Systems, per question (GSM8K train items START…START+N-1, zero-shot), wall time:
  reasonlab in-process          `run(q, "self-consistency", samples=k, **stop)` on reasonlab's llama
                                engine: the k samples decode as one batch and, once the ended ones
                                settle the vote (--stop options), the rest are stopped
  reasonlab in-process (all k)   the same without stopping (the reference for accuracy)
  reasonlab via server          the strategy with --stop on `openai:MODEL@URL`, URL = llama-cpp-python's
                                own server (`python -m llama_cpp.server`, one request at a time):
                                samples drawn one after another until the vote settles
  optillm self_consistency       optillm's `AdvancedSelfConsistency(num_samples=k)` through that server
                                 (its module loaded on its own: optillm's package imports its whole
                                 proxy server, which needs torch)
  DSPy                           `dspy.ChainOfThought("question -> answer")`, k calls (rollout ids
                                 0…k-1, temperature 0.7) + majority vote, through that server

The peers live in a throwaway virtual environment this script makes with pip from PyPI
(``~/.cache/reasonlab-bench/peers-venv``; never a reasonlab dependency). Caches are off everywhere
(reasonlab cache=False, the server's --cache false, DSPy cache=False). Every system is asked for
at most --max-tokens tokens per sample, and the benchmark checks the completion tokens it got
back: a system that exceeded them is flagged in the table. Order rotates per question.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine, stamp  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VENV = Path.home() / ".cache" / "reasonlab-bench" / "peers-venv"
GSM8K = Path("/work/shared/data/gsm8k/train.jsonl")
SYSTEMS = ("reasonlab in-process", "reasonlab in-process (all k)", "reasonlab via server", "optillm", "dspy")
PEER_PACKAGES = ["dspy", "llama-cpp-python[server]==0.3.36", "openai"]

# A worker in the peer venv: one JSON question per stdin line, one JSON result per stdout line.
WORKER = r'''
import importlib.util, json, sys, time, types
from collections import Counter
import openai
system, url, model, k, max_tokens, sc_path = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
client = openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=600)
if system == "optillm":
    stub = types.ModuleType("optillm"); stub.conversation_logger = None
    logger_stub = types.ModuleType("optillm.conversation_logger")
    sys.modules["optillm"] = stub; sys.modules["optillm.conversation_logger"] = logger_stub
    spec = importlib.util.spec_from_file_location("optillm_self_consistency", sc_path)
    sc = importlib.util.module_from_spec(spec); spec.loader.exec_module(sc)
else:
    import dspy
    lm = dspy.LM(f"openai/{model}", api_base=url, api_key="none", max_tokens=max_tokens, temperature=0.7,
                 cache=False, num_retries=0)
    dspy.configure(lm=lm)
    cot = dspy.ChainOfThought("question -> answer")
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    q = json.loads(line)["question"]
    t0 = time.perf_counter()
    if system == "optillm":
        runner = sc.AdvancedSelfConsistency(client, model, num_samples=k, request_config={"max_tokens": max_tokens})
        res = runner.evaluate("You are a helpful assistant.", q)
        clusters = res["aggregated_result"]["clusters"]
        answer = clusters[0]["answer"] if clusters else ""
        tokens, samples, over = runner.self_consistency_completion_tokens, len(res["individual_responses"]), 0
    else:
        answers, tokens, over, samples = [], 0, 0, 0
        start = len(lm.history)
        for i in range(k):
            try:
                pred = cot(question=q, config={"rollout_id": i, "temperature": 0.7})
                answers.append(str(pred.answer))
            except Exception as e:  # a sample DSPy could not parse even after its fallback
                answers.append("")
        for h in lm.history[start:]:
            u = (h.get("usage") or {})
            n = u.get("completion_tokens") or 0
            tokens += n; samples += 1; over += n > max_tokens
        votes = Counter(a for a in answers if a)
        answer = votes.most_common(1)[0][0] if votes else ""
    print(json.dumps({"seconds": time.perf_counter() - t0, "answer": answer, "tokens": tokens,
                      "samples": samples, "over_limit": over}), flush=True)
'''


def ensure_peers() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    have = subprocess.run([str(py), "-c", "import dspy, llama_cpp.server, openai"], capture_output=True)
    if have.returncode != 0:
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    sc = VENV / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages" / "optillm"
    if not (sc / "self_consistency.py").exists():  # only its module is used: skip its torch-based server deps
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "optillm"], check=True)
    return sc / "self_consistency.py"


def number(text: str) -> str | None:
    nums = re.findall(r"-?\d[\d,]*(?:\.\d+)?", text or "")
    if not nums:
        return None
    v = float(nums[-1].replace(",", ""))
    return str(int(v)) if v == int(v) else str(v)


class Worker:
    def __init__(self, system: str, url: str, model: str, k: int, max_tokens: int, sc_path: Path) -> None:
        self.p = subprocess.Popen([str(VENV / "bin" / "python"), "-c", WORKER, system, url, model, str(k),
                                   str(max_tokens), str(sc_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        assert json.loads(self.p.stdout.readline())["ready"]

    def ask(self, question: str) -> dict:
        self.p.stdin.write(json.dumps({"question": question}) + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self) -> None:
        self.p.kill()
        self.p.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--questions", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--start", type=int, default=200, help="first GSM8K train position (0-199: the report slice)")
    ap.add_argument("--stop", default="settle=0.95,settle_rule=beta,warmup=4,round_size=1",
                    help="self-consistency options that stop drawing once the vote is settled ('' = none)")
    ap.add_argument("--exemplars", default="auto", help="reasonlab's exemplars option (auto: its few-shot default; "
                    "none: zero-shot 'Let's think step by step')")
    ap.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, any of: {', '.join(SYSTEMS)}")
    ap.add_argument("--first-repeat", type=int, default=0, help="number of the first repeat (rotates the order; "
                    "to split a long run into chunks)")
    ap.add_argument("--save", type=Path, help="append every result as a JSON line to this file")
    ap.add_argument("--report", type=Path, nargs="+", help="print the table from saved files; run nothing")
    args = ap.parse_args()
    if args.report:
        rows: dict[str, list[dict]] = {}
        for f in args.report:
            for line in f.read_text().splitlines():
                r = json.loads(line)
                rows.setdefault(r["system"], []).append(r)
        table(rows, args, "(saved)", float("nan"))
        return
    wanted = [x.strip() for x in args.systems.split(",") if x.strip()]
    sys.path.insert(0, str(ROOT / "src"))
    from reasonlab.api import run
    from reasonlab.eval.datasets.jsonl import gsm8k_final
    from reasonlab.models import load_model
    from reasonlab.models.threads import cpu_count
    from reasonlab.server.testing import free_port

    sc_path = ensure_peers()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the server and workers
    local = load_model(args.model)
    path = str(local.path)
    lines = GSM8K.read_text().splitlines()[args.start:args.start + args.questions]
    items = [json.loads(line) for line in lines]
    stop = dict(kv.split("=", 1) for kv in args.stop.split(",") if kv.strip())
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    server = subprocess.Popen([str(VENV / "bin" / "python"), "-m", "llama_cpp.server", "--model", path,
                               "--model_alias", "bench", "--port", str(port), "--n_ctx", "4096", "--cache", "false",
                               "--n_threads", str(cpu_count()), "--n_threads_batch", str(cpu_count())],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            httpx.get(url + "/models", timeout=2).raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    workers: dict[str, Worker] = {}
    rows: dict[str, list[dict]] = {s: [] for s in wanted}
    load0 = os.getloadavg()[0]
    try:
        workers = {s: Worker(s, url, "bench", args.k, args.max_tokens, sc_path) for s in ("optillm", "dspy")
                   if s in wanted}
        opts = {"samples": args.k, "max_tokens": args.max_tokens, "cache": False, "exemplars": args.exemplars}

        def ours(model, q, **more):
            t0 = time.perf_counter()
            r = run(q, "self-consistency", model, **opts, **more)
            ended = [c for c in r.calls if c.label == "sample" and c.finish_reason != "settled"]
            return {"seconds": time.perf_counter() - t0, "answer": str(r.answer or ""),
                    "tokens": r.usage.completion_tokens, "samples": len(ended),
                    "over_limit": sum(c.completion_tokens > args.max_tokens for c in r.calls)}

        remote = f"openai:bench@{url}"
        every = {"reasonlab in-process": lambda q: ours(local, q, **stop),
                 "reasonlab in-process (all k)": lambda q: ours(local, q),
                 "reasonlab via server": lambda q: ours(remote, q, **stop),
                 "optillm": lambda q: workers["optillm"].ask(q), "dspy": lambda q: workers["dspy"].ask(q)}
        systems = {name: every[name] for name in wanted}
        names = list(systems)
        for rep in range(args.first_repeat, args.first_repeat + args.repeats):
            for qi, item in enumerate(items):
                order = names[(qi + rep) % len(names):] + names[:(qi + rep) % len(names)]
                gold = gsm8k_final(item["answer"])
                for name in order:
                    res = systems[name](item["question"])
                    res["correct"] = number(res["answer"]) == number(gold)
                    rows[name].append(res)
                    if args.save:
                        with args.save.open("a") as f:
                            f.write(json.dumps({"system": name, "question": args.start + qi, "repeat": rep,
                                                "model": Path(path).name, **res}) + "\n")
                    print(f"q{qi} {name}: {res['seconds']:.2f} s, {res['samples']} samples, {res['tokens']} tokens, "
                          f"correct {res['correct']}, over {res['over_limit']}", file=sys.stderr, flush=True)
    finally:
        for w in workers.values():
            w.close()
        server.terminate()
        server.wait(20)
        local.close()
    table(rows, args, Path(path).name, load0)


def table(rows: dict[str, list[dict]], args: argparse.Namespace, file: str, load0: float) -> None:
    ref = "optillm" if rows.get("optillm") else next(iter(rows))
    med_opt = statistics.median(r["seconds"] for r in rows[ref])
    print(f"## Self-consistency k={args.k} against peers — {stamp()}")
    print(f"machine: {machine()} (load at start {load0:.1f}); model {args.model} ({file}); "
          f"GSM8K train {args.start}-{args.start + args.questions - 1} x {args.repeats} interleaved repeats; "
          f"max_tokens {args.max_tokens}; reasonlab exemplars {args.exemplars}; stopping options: {args.stop or 'none'}\n")
    print(f"| system | median s / question | vs {ref} | accuracy | samples / question | completion tokens / question "
          "| samples over max_tokens |")
    print("|---|---|---|---|---|---|---|")
    for name, rs in rows.items():
        med = statistics.median(r["seconds"] for r in rs)
        acc = sum(r["correct"] for r in rs)
        print(f"| {name} | {med:.2f} | {med / med_opt:.2f}x | {acc}/{len(rs)} | "
              f"{statistics.mean(r['samples'] for r in rs):.1f} | {statistics.mean(r['tokens'] for r in rs):.0f} | "
              f"{sum(r['over_limit'] for r in rs)} |")


if __name__ == "__main__":
    main()
