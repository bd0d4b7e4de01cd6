"""How often the model's plan (the `graph`/`flow` strategies' first call) is usable on the first
try, with and without the GBNF grammar (figures go to docs/bench/graphs.md).

For each generated two-step problem (bench_graphs.make_problems) and each setting, one plan call
is made exactly as the strategy makes it; the reply is checked for strict JSON (`json.loads` of the
whole reply) and for a valid plan (the strategy's lenient parse + normalise + validate).

    .venv/bin/python benchmarks/bench_graphs_grammar.py --problems 10
    .venv/bin/python benchmarks/bench_graphs_grammar.py --problems 10 --modes graph,flow
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_graphs import make_problems  # noqa: E402

from reasonlab.graphs.drawn import DrawnError, spec_from_reply  # noqa: E402
from reasonlab.graphs.grammar import flow_grammar, graph_grammar  # noqa: E402
from reasonlab.models import load_model  # noqa: E402
from reasonlab.models.base import GenParams  # noqa: E402
from reasonlab.problem import Problem  # noqa: E402
from reasonlab.strategies import flow, graph  # noqa: E402


def strict_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def run(model_spec: str, modes: list[str], count: int, seed: int) -> list[dict[str, Any]]:
    model = load_model(model_spec)
    problems = make_problems(count, seed)
    rows = []
    for mode in modes:
        mod = graph if mode == "graph" else flow
        opts = (graph.GraphOptions() if mode == "graph" else flow.FlowOptions())
        gram = (graph_grammar if mode == "graph" else flow_grammar)(opts.max_nodes)
        for constrained in (False, True):
            strict = valid = tokens = 0
            seconds = 0.0
            errors: dict[str, int] = {}
            for text, _ in problems:
                msgs = graph.plan_messages(mod.PLAN, Problem(text, kind="number"),
                                           (mod.EXAMPLE_Q, mod.EXAMPLE_A))
                params = GenParams(temperature=0.0, max_tokens=opts.plan_tokens,
                                   grammar=gram if constrained else None)
                t0 = time.perf_counter()
                c = model.generate(msgs, params)[0]
                seconds += time.perf_counter() - t0
                tokens += c.completion_tokens
                strict += strict_json(c.text)
                try:
                    spec_from_reply(c.text, mode, answer_kind="number", max_nodes=opts.max_nodes,
                                    node_tokens=opts.max_tokens)
                    valid += 1
                except DrawnError as e:
                    key = str(e)[:60]
                    errors[key] = errors.get(key, 0) + 1
            row = {"mode": mode, "grammar": constrained, "problems": count, "strict_json": strict,
                   "valid_plan": valid, "tokens_per_call": round(tokens / count, 1),
                   "seconds_per_call": round(seconds / count, 2), "errors": errors}
            print(json.dumps(row), flush=True)
            rows.append(row)
    model.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--problems", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--modes", default="graph", help="comma-separated: graph, flow")
    a = ap.parse_args()
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}, model {a.model}", flush=True)
    rows = run(a.model, a.modes.split(","), a.problems, a.seed)
    print("| mode | grammar | strict JSON | valid plan | tokens / call | seconds / call |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['mode']} | {'yes' if r['grammar'] else 'no'} | {r['strict_json']}/{r['problems']} | "
              f"{r['valid_plan']}/{r['problems']} | {r['tokens_per_call']} | {r['seconds_per_call']} |")


if __name__ == "__main__":
    main()
