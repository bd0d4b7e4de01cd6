"""Planning benchmark: validation time per plan, planner time on 4–6 blocks, and (optionally)
autonomous vs LLM-Modulo on the embedded model for Blocksworld and Mystery Blocksworld.

    .venv/bin/python benchmarks/bench_planning.py                       # tools only (seconds)
    .venv/bin/python benchmarks/bench_planning.py --model smollm2 --instances 10 --rounds 15 \
        --report docs/bench/planning-run.md --json /tmp/planning.json

Prints every figure with the date and machine. The model part writes the planning report
(reasonlab.planning.report) from the run records.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

from _machine import machine  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from reasonlab.planning import blocksworld as bw
from reasonlab.planning.planner import solve
from reasonlab.planning.render import vocabulary
from reasonlab.planning.validate import validate


def med_ms(xs: list[float]) -> str:
    return f"{1000 * statistics.median(xs):.1f} ms (min {1000 * min(xs):.1f}, n={len(xs)})"


def bench_validation(n: int) -> dict:
    """Median seconds to validate a valid plan and a broken one (pddl-pyvalidator, and UP's validator)."""
    from unified_planning.plans import ActionInstance, SequentialPlan
    from unified_planning.shortcuts import PlanValidator, get_environment

    get_environment().credits_stream = None
    ok, bad, up_t, parse_t = [], [], [], []
    for k, inst in enumerate(bw.generate(4, n, seed=101)):
        task = inst.task(f"v{k}")
        t0 = time.perf_counter()
        task.up_problem  # noqa: B018 - parsed once per task; validations reuse it
        parse_t.append(time.perf_counter() - t0)
        vocab = vocabulary(task)
        plan = solve(task, "pyperplan").plan
        t0 = time.perf_counter()
        assert validate(task, plan, vocab).valid
        ok.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        assert not validate(task, plan[1:], vocab).valid
        bad.append(time.perf_counter() - t0)
        prob = task.up_problem
        up_plan = SequentialPlan([ActionInstance(prob.action(a.name), [prob.object(o) for o in a.args])
                                  for a in plan])
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with PlanValidator(problem_kind=prob.kind) as v:
                v.validate(prob, up_plan)
        up_t.append(time.perf_counter() - t0)
    out = {"pyval_valid_s": statistics.median(ok), "pyval_invalid_s": statistics.median(bad),
           "up_validator_s": statistics.median(up_t), "parse_s": statistics.median(parse_t), "n": n}
    print(f"validation, 4 blocks: parse task once {med_ms(parse_t)}; pyval valid plan {med_ms(ok)}; "
          f"pyval invalid plan {med_ms(bad)}; unified-planning PlanValidator {med_ms(up_t)}")
    return out


def bench_planners(sizes: list[int], n: int, timeout: float) -> dict:
    out: dict = {}
    for size in sizes:
        for engine in ("fast-downward", "pyperplan"):
            times, lengths, statuses = [], [], []
            for k, inst in enumerate(bw.generate(size, n, seed=202)):
                res = solve(inst.task(f"p{size}-{k}"), engine, optimal=True, timeout=timeout)
                times.append(res.seconds)
                statuses.append(res.status)
                if res.plan is not None:
                    lengths.append(len(res.plan))
            out[f"{engine}:{size}"] = {"median_s": statistics.median(times), "max_s": max(times),
                                       "solved": statuses.count("solved"), "n": n,
                                       "mean_optimal_length": statistics.mean(lengths) if lengths else None}
            print(f"planner {engine:<13} (optimal, A*+LM-cut) {size} blocks: median {statistics.median(times):.3f} s, "
                  f"max {max(times):.3f} s, solved {statuses.count('solved')}/{n}, "
                  f"mean optimal length {statistics.mean(lengths) if lengths else float('nan'):.1f}")
    return out


def bench_model(model_spec: str, n_blocks: int, instances: int, rounds: int, max_tokens: int,
                cache_path: str | None, records_path: str | None, modulo_instances: int | None = None) -> list[dict]:
    """Autonomous and LLM-Modulo on plain and Mystery Blocksworld; one record per (dataset, strategy, item).

    Both datasets get their autonomous runs first, then LLM-Modulo item by item on both.
    Records are appended to `records_path` (JSONL) as they finish; ones already there are kept.
    """
    from reasonlab.cache import Cache
    from reasonlab.eval.datasets import load_dataset
    from reasonlab.models import load_model
    from reasonlab.api import run

    records = load_records(records_path)
    done = {(r["dataset"], r["strategy"], r["item"]) for r in records}
    model = load_model(model_spec)
    # one cache for the run: modulo's first round is the autonomous attempt (same prompt, greedy)
    cache = Cache(cache_path or Path(tempfile.mkdtemp()) / "bench-cache.sqlite")
    specs = [f"{prefix}:{n_blocks}:{instances}" for prefix in ("blocksworld", "mystery-blocksworld")]
    datasets = {spec: load_dataset(spec) for spec in specs}
    items = {spec: list(ds.items()) for spec, ds in datasets.items()}

    def keep(rec: dict) -> None:
        records.append(rec)
        if records_path:
            with open(records_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec) + "\n")

    for spec in specs:
        for item in items[spec]:
            if (spec, "planner", item.id) not in done:
                keep({"dataset": spec, "strategy": "planner", "model": item.meta.get("planner", "planner"),
                      "item": item.id, "valid": 1.0 if item.meta.get("optimal_length") is not None else 0.0,
                      "goal_reached": 1.0, "rounds_used": None, "rounds_to_success": None,
                      "length_ratio": 1.0, "tokens": 0, "seconds": None})
    for strategy, opts in (("plan-autonomous", {}), ("plan-modulo", {"rounds": rounds})):
        k = modulo_instances if strategy == "plan-modulo" and modulo_instances else instances
        # interleave the datasets item by item, so a run cut short still compares them
        for item_index in range(min(k, instances)):
            for spec in specs:
                ds, item = datasets[spec], items[spec][item_index]
                if (spec, strategy, item.id) in done:
                    continue
                t0 = time.perf_counter()
                result = run(ds.problem(item), strategy, model, cache=cache, max_tokens=max_tokens, **opts)
                secs = time.perf_counter() - t0
                m = ds.score(item, result)
                tokens = sum(r["prompt_tokens"] + r["completion_tokens"] for r in result.details["rounds"])
                rec = {"dataset": spec, "strategy": strategy, "model": model_spec, "item": item.id,
                       "valid": m["valid_plan"], "goal_reached": m["goal_reached"],
                       "rounds_used": m["rounds_used"], "rounds_to_success": m["rounds_to_success"],
                       "length_ratio": m["length_ratio"], "executable_prefix": m["executable_prefix"],
                       "tokens": tokens, "seconds": secs,
                       "unreadable_rounds": sum(1 for r in result.details["rounds"] if r["verdict"] is None),
                       "first_output": result.details["rounds"][0]["output"][:300]}
                keep(rec)
                print(f"  {spec} {strategy} {item.id}: valid={int(rec['valid'])} goal={int(rec['goal_reached'])} "
                      f"rounds={rec['rounds_used']:.0f} prefix={rec['executable_prefix']:.2f} "
                      f"unreadable_rounds={rec['unreadable_rounds']} tokens={tokens} {secs:.1f}s", flush=True)
    model.close()
    return records


def load_records(path: str | None) -> list[dict]:
    if not path or not Path(path).is_file():
        return []
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--validations", type=int, default=20, help="plans validated (each valid + broken)")
    ap.add_argument("--skip-tools", action="store_true", help="skip the validation and planner timings")
    ap.add_argument("--planner-instances", type=int, default=5)
    ap.add_argument("--sizes", default="4,5,6")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--model", help="also run autonomous vs LLM-Modulo on this model (e.g. smollm2)")
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--instances", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--modulo-instances", type=int, help="run LLM-Modulo on only the first K instances")
    ap.add_argument("--max-tokens", type=int, default=192)
    ap.add_argument("--cache", help="completion cache file (default: a fresh temporary one)")
    ap.add_argument("--records", help="append model-run records here (JSONL); finished ones are skipped")
    ap.add_argument("--report-only", action="store_true", help="render the report from --records and stop")
    ap.add_argument("--json", help="write all figures and records here")
    ap.add_argument("--report", help="write the planning report (Markdown) here")
    args = ap.parse_args(argv)
    if args.report_only:
        from reasonlab.planning.report import render

        md = render(load_records(args.records), f"Planning on {args.model or 'the model'}: {args.blocks} blocks")
        print(md)
        if args.report:
            Path(args.report).write_text(md, encoding="utf-8")
        return

    started = datetime.now(UTC)
    print(f"# bench_planning {started:%Y-%m-%d %H:%M} UTC on {machine()}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    figures: dict = {"date": started.isoformat(), "machine": machine()}
    if not args.skip_tools:
        figures["validation"] = bench_validation(args.validations)
        figures["planners"] = bench_planners([int(s) for s in args.sizes.split(",")], args.planner_instances,
                                             args.timeout)
    if args.model:
        from reasonlab.planning.report import render, summary_rows

        recs = bench_model(args.model, args.blocks, args.instances, args.rounds, args.max_tokens, args.cache,
                           args.records, args.modulo_instances)
        figures["records"] = recs
        figures["summary"] = summary_rows(recs)
        md = render(recs, f"Planning on {args.model}: {args.blocks} blocks, {args.instances} instances, "
                          f"up to {args.rounds} rounds ({started:%Y-%m-%d})")
        print(md)
        if args.report:
            Path(args.report).write_text(md, encoding="utf-8")
    figures["seconds"] = (datetime.now(UTC) - started).total_seconds()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    print(f"# done in {figures['seconds']:.0f} s")


if __name__ == "__main__":
    main()
