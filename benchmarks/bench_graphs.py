"""Benchmarks of the graph runtime (figures go to docs/bench/graphs.md).

1. Scheduler overhead: a random DAG of N nodes (default 10,000) run with an instant model.
2. Concurrency: a random DAG whose every model call sleeps 50 ms; makespan vs critical path × 50 ms.
3. Embedded model: `graph` vs `least-to-most` vs `zero-shot-cot` on generated multi-step
   arithmetic word problems (accuracy, tokens, seconds).

    .venv/bin/python benchmarks/bench_graphs.py                      # all three
    .venv/bin/python benchmarks/bench_graphs.py --skip-embedded      # engine figures only
    .venv/bin/python benchmarks/bench_graphs.py --problems 20 --seed 1 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from reasonlab.context import RunContext  # noqa: E402
from reasonlab.graphs import Executor, Graph, Node, check  # noqa: E402
from reasonlab.models.base import Completion, Model  # noqa: E402


class InstantModel(Model):
    """Replies at once (or after `delay` seconds) with a fixed answer."""

    spec = identity = "instant"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def generate(self, messages, params, n=1, sample_offset=0, tools=None):
        if self.delay:
            time.sleep(self.delay)
        return [Completion("The answer is 1.", 1, 4) for _ in range(n)]


def random_dag(n: int, seed: int, max_parents: int = 3, window: int = 50) -> tuple[Graph, int]:
    """A graph of n ask nodes; each depends on up to `max_parents` of the `window` nodes before it.
    A final node depends on every sink so that every node is used. Returns (graph, critical path)."""
    rng = random.Random(seed)
    g = Graph(name=f"random-{n}")
    depth: list[int] = []
    has_child = [False] * n
    for i in range(n):
        k = rng.randint(0, min(max_parents, i))
        parents = sorted(rng.sample(range(max(0, i - window), i), k)) if k else []
        for p in parents:
            has_child[p] = True
        g.nodes.append(Node(f"n{i}", "ask", ask=f"Sub-question {i}?", answer="number", instruct=False,
                            after=[f"n{p}" for p in parents]))
        depth.append(1 + max((depth[p] for p in parents), default=0))
    sinks = [i for i in range(n) if not has_child[i]]
    g.nodes.append(Node("final", "ask", ask="Final?", answer="number", instruct=False,
                        after=[f"n{i}" for i in sinks]))
    g.output = "final"
    return g, 1 + max(depth[i] for i in sinks)


def bench_overhead(n: int, seed: int, concurrency: int, repeats: int) -> dict[str, Any]:
    g, crit = random_dag(n, seed)
    t0 = time.perf_counter()
    check(g)
    validate_s = time.perf_counter() - t0
    runs, engine, cpu = [], [], []
    for _ in range(repeats):
        ctx = RunContext(InstantModel())
        t0, c0 = time.perf_counter(), time.process_time()
        res = Executor(ctx, concurrency=concurrency, max_steps=n + 10).run(g, {})
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)  # CPU used by this process: less sensitive to a busy machine
        engine.append(runs[-1] - sum(c.seconds for c in ctx.calls))  # minus time inside model.generate
        assert res.status == "ok", res.error
        assert len(ctx.calls) == n + 1
    return {"nodes": n + 1, "critical_path": crit, "concurrency": concurrency, "validate_s": round(validate_s, 3),
            "run_s_median": round(statistics.median(runs), 3), "run_s_min": round(min(runs), 3),
            "engine_s_median": round(statistics.median(engine), 3), "cpu_s_median": round(statistics.median(cpu), 3),
            "us_per_node": round(1e6 * statistics.median(runs) / (n + 1), 1)}


def bench_concurrency(n: int, seed: int, delay: float, concurrency: int) -> dict[str, Any]:
    g, crit = random_dag(n, seed, max_parents=2, window=12)
    ctx = RunContext(InstantModel(delay))
    t0 = time.perf_counter()
    res = Executor(ctx, concurrency=concurrency).run(g, {})
    makespan = time.perf_counter() - t0
    assert res.status == "ok", res.error
    ideal = crit * delay
    return {"nodes": n + 1, "critical_path": crit, "delay_s": delay, "concurrency": concurrency,
            "makespan_s": round(makespan, 3), "ideal_s": round(ideal, 3), "ratio": round(makespan / ideal, 3),
            "sequential_s": round((n + 1) * delay, 3)}


# -- generated multi-step problems -----------------------------------------------------------
TEMPLATES = [
    ("A shop has {a} boxes with {b} pencils in each box. It sells {c} pencils. How many pencils are left?",
     lambda a, b, c: a * b - c),
    ("Tom has {c} dollars. He buys {a} books that cost {b} dollars each. How many dollars does he have left?",
     lambda a, b, c: c - a * b),
    ("A farm has {a} cows and {b} times as many chickens. It also has {c} goats. How many animals are "
     "on the farm?", lambda a, b, c: a + a * b + c),
    ("Sara reads {a} pages a day for {b} days, then reads {c} more pages. How many pages did she read in all?",
     lambda a, b, c: a * b + c),
    ("A hall has {a} rows of {b} chairs. {c} chairs are taken. How many chairs are free?",
     lambda a, b, c: a * b - c),
]


def make_problems(count: int, seed: int) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        text, fn = TEMPLATES[i % len(TEMPLATES)]
        a, b = rng.randint(2, 9), rng.randint(2, 9)
        c = rng.randint(1, a * b - 1) if "left" in text or "free" in text else rng.randint(2, 20)
        if "dollars does he have left" in text:
            c = a * b + rng.randint(1, 20)
        out.append((text.format(a=a, b=b, c=c), fn(a, b, c)))
    return out


def bench_embedded(model_spec: str, strategies: list[str], count: int, seed: int,
                   log: list[dict[str, Any]] | None = None, save: Any = None) -> dict[str, Any]:
    """Every strategy on every problem, interleaved (problem by problem) so that a run cut short
    still compares the strategies on the same problems."""
    from reasonlab.answers.normalize import answers_match
    from reasonlab.api import run
    from reasonlab.cache import Cache
    from reasonlab.models import load_model
    from reasonlab.problem import Problem
    from reasonlab.strategies import list_strategies

    model = load_model(model_spec)
    known = list_strategies()
    problems = make_problems(count, seed)
    cache = Cache(Path(tempfile.mkdtemp()) / "bench-graphs.sqlite")  # fresh: every call really runs
    names = [s for s in strategies if s in known]
    tally = {s: {"right": 0, "tokens": 0, "calls": 0, "seconds": 0.0, "fallbacks": 0, "errors": 0, "n": 0}
             for s in names}
    table: dict[str, Any] = {s: {"skipped": "strategy not registered"} for s in strategies if s not in known}
    for k, (text, gold) in enumerate(problems):
        for name in names:
            t = tally[name]
            t["n"] += 1
            try:
                r = run(Problem(text, kind="number"), name, model, cache=cache)
            except Exception as e:  # noqa: BLE001 - count it, keep measuring
                t["errors"] += 1
                print(f"    error on {text[:40]!r}: {type(e).__name__}: {e}", flush=True)
                continue
            ok = answers_match(r.answer, str(gold), "number")
            fell = bool(r.note and "fell back" in r.note)
            t["right"] += ok
            t["tokens"] += r.usage.total_tokens
            t["calls"] += r.usage.calls
            t["seconds"] += r.usage.seconds
            t["fallbacks"] += fell
            print(f"  [{k + 1}/{len(problems)}] {name:<14} gold {gold}, answer {r.answer!r}{' ✓' if ok else ''}"
                  f"{' (fell back)' if fell else ''}, {r.usage.total_tokens} tokens, {r.usage.seconds:.0f} s",
                  flush=True)
            if log is not None:
                g = r.details.get("graph", {})
                log.append({"strategy": name, "question": text, "gold": gold, "answer": r.answer, "correct": ok,
                            "note": r.note, "graph_nodes": len(g.get("nodes", [])) if "fallback" not in g else 0,
                            "tokens": r.usage.total_tokens})
        for name in names:
            t = tally[name]
            n = t["n"] - t["errors"] or 1
            p = t["right"] / n
            table[name] = {"accuracy": round(p, 3), "stderr": round((p * (1 - p) / n) ** 0.5, 3),
                           "correct": t["right"], "n": t["n"], "tokens_per_problem": round(t["tokens"] / n),
                           "calls_per_problem": round(t["calls"] / n, 2),
                           "seconds_per_problem": round(t["seconds"] / n, 2), "fallbacks": t["fallbacks"],
                           "errors": t["errors"]}
        if save is not None:
            save(table)
    for name in names:
        r = table[name]
        print(f"  {name:<16} {r['correct']}/{r['n']} correct  {r['tokens_per_problem']:7d} tokens  "
              f"{r['calls_per_problem']:4.1f} calls  {r['seconds_per_problem']:6.1f} s/problem  "
              f"fallbacks {r['fallbacks']}", flush=True)
    model.close()
    return {"model": model_spec, "problems": count, "seed": seed, "strategies": table}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=4, help="workers for the overhead run")
    ap.add_argument("--delay-nodes", type=int, default=120)
    ap.add_argument("--delay", type=float, default=0.05)
    ap.add_argument("--problems", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--strategies", default="zero-shot-cot,graph,least-to-most")
    ap.add_argument("--skip-embedded", action="store_true")
    ap.add_argument("--skip-engine", action="store_true", help="only the embedded-model comparison")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args()
    out: dict[str, Any] = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                           "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs, "
                                      f"Python {platform.python_version()}".replace("  ", " ")}
    print(f"# bench_graphs  {out['date']}  {out['machine']}")
    for conc in ([] if a.skip_engine else sorted({1, a.concurrency})):
        if conc == min({1, a.concurrency}):
            print(f"\n## scheduler overhead: {a.nodes}-node random DAG, instant model")
        r = bench_overhead(a.nodes, a.seed, conc, a.repeats)
        out.setdefault("overhead", []).append(r)
        print(f"  concurrency {conc}: run {r['run_s_median']} s (min {r['run_s_min']}; engine "
              f"{r['engine_s_median']} s; CPU {r['cpu_s_median']} s), {r['us_per_node']} µs/node;"
              f" validation {r['validate_s']} s; critical path {r['critical_path']}")
    for conc in (() if a.skip_engine else (8, 64)):
        if conc == 8:
            print(f"\n## concurrency: {a.delay_nodes}-node random DAG, {a.delay * 1000:.0f} ms per call")
        r = bench_concurrency(a.delay_nodes, a.seed, a.delay, conc)
        out.setdefault("concurrency", []).append(r)
        print(f"  concurrency {conc}: makespan {r['makespan_s']} s vs critical path × delay {r['ideal_s']} s "
              f"(ratio {r['ratio']}); sequential would be {r['sequential_s']} s")
    if not a.skip_embedded:
        print(f"\n## {a.model}: {a.problems} generated multi-step problems (seed {a.seed}), greedy")
        try:
            per_problem: list[dict[str, Any]] = []

            def save(table: dict[str, Any]) -> None:  # after every problem: a cut-short run keeps its figures
                if a.json:
                    out["embedded"] = {"model": a.model, "partial": True, "strategies": table,
                                       "per_problem": per_problem}
                    a.json.write_text(json.dumps(out, indent=2))

            out["embedded"] = bench_embedded(a.model, a.strategies.split(","), a.problems, a.seed, per_problem,
                                             save)
            out["embedded"]["per_problem"] = per_problem
        except Exception as e:  # noqa: BLE001 - report and keep the engine figures
            print(f"  skipped: {type(e).__name__}: {e}")
            out["embedded"] = {"skipped": str(e)}
    if a.json:
        a.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
