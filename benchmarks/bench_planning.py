"""Planning benchmark: validation time per plan, planner time on 4–6 blocks, and (optionally)
every planning mode on PlanBench development instances (Blocksworld and Mystery, paired).

    .venv/bin/python benchmarks/bench_planning.py                       # tools only (seconds)
    .venv/bin/python benchmarks/bench_planning.py --skip-tools --model smollm2 --instances 50 \
        --modes planner,random-guided,autonomous,guided,modulo,modulo-plain \
        --records runs/plan-smollm2.jsonl --report docs/bench/planning-run.md

Modes: planner (ground truth), random-guided (the control, same budget as guided), autonomous,
guided, modulo (grammar + prefix keeping + k candidates), modulo-plain (the paper's loop), and
modulo-grammar / modulo-prefix / modulo-k (one addition each). Items run in order, every mode
on both domains before the next item, so a run cut short still compares modes at equal n.
Records are appended to --records (JSONL) as they finish; a rerun skips those already there.
Every plan reported valid is re-checked by an independent validator (unified-planning's
PlanValidator); the count of rejections is printed and should be 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
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


PLANBENCH = Path("/work/shared/data/planbench")
MODES = {  # label -> (strategy, options)
    "autonomous": ("plan-autonomous", {}),
    "modulo-plain": ("plan-modulo", {"plain": True}),
    "modulo-grammar": ("plan-modulo", {"grammar": True, "prefix": False, "candidates": 1}),
    "modulo-prefix": ("plan-modulo", {"grammar": False, "prefix": True, "candidates": 1}),
    "modulo-k": ("plan-modulo", {"grammar": False, "prefix": False, "candidates": 3}),
    "modulo": ("plan-modulo", {}),
    "modulo-applicable": ("plan-modulo", {"applicable": True}),  # first step from the applicable actions
    "guided": ("plan-guided", {}),  # log-probability ranking, per-token mean
    "guided-sum": ("plan-guided", {"norm": "sum"}),
    "guided-gen": ("plan-guided", {"scorer": "generate"}),  # the model writes its choice (first version)
    "guided-effects": ("plan-guided", {"effects": True}),  # options annotated with goals achieved/undone
    "guided-goals": ("plan-guided", {"goals_first": True}),  # goal count first, the model within ties
    "guided-demos": ("plan-guided", {"demos": 4}),  # 4 worked choices from solved instances --demos-from…
    "random-guided": ("plan-random-guided", {}),
    "greedy-guided": ("plan-greedy-guided", {}),  # the annotation alone, no model
}
NO_MODEL = ("random-guided", "greedy-guided")  # controls: run `--random-seeds` times per item


DEMO_SOURCES = 8  # solved instances the worked choices of guided (option demos) are drawn from


def planbench_items(domain: str, first: int, count: int, example: int,
                    demos_from: int | None = None) -> list[tuple[str, object]]:
    """(item id, Problem) for PlanBench instances first… (skipping the example instance); with
    `demos_from`, instances demos_from… (solved by the planner) are the source of guided's worked
    choices — keep them outside the items measured (the report slice is 102–151)."""
    from reasonlab.planning.builtin import solved_example
    from reasonlab.planning.pddl import Task
    from reasonlab.planning.task import make_problem

    folder = PLANBENCH / domain
    dom = folder / "domain.pddl"

    def solved(n: int):
        return solved_example(Task.from_files(dom, folder / "instances" / f"instance-{n}.pddl"), engine="pyperplan")

    ex = solved(example)
    demos = [solved(n) for n in range(demos_from, demos_from + DEMO_SOURCES)] if demos_from else []
    if demos and demos_from < first + count and first < demos_from + DEMO_SOURCES:
        raise ValueError(f"the demonstration instances {demos_from}… overlap the measured items {first}…")
    out, n = [], first
    while len(out) < count:
        if n != example:
            out.append((f"instance-{n}", make_problem(Task.from_files(dom, folder / "instances" / f"instance-{n}.pddl"),
                                                      example=ex, demos=demos)))
        n += 1
    return out


def independent_valid(problem, plan_pddl: list[str]) -> bool:
    """unified-planning's own PlanValidator on the plan (not the validator the loop used)."""
    from unified_planning.engines import ValidationResultStatus
    from unified_planning.plans import ActionInstance, SequentialPlan
    from unified_planning.shortcuts import PlanValidator, get_environment

    get_environment().credits_stream = None
    prob = problem.planning.task.up_problem
    acts = [a.strip("()").split() for a in plan_pddl]
    up_plan = SequentialPlan([ActionInstance(prob.action(a[0]), [prob.object(o) for o in a[1:]]) for a in acts])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with PlanValidator(problem_kind=prob.kind) as v:
            return v.validate(prob, up_plan).status == ValidationResultStatus.VALID


def presented_tokens(model, calls) -> int:
    """Prompt tokens of the distinct choice prompts of a run (log-probability calls record only their
    continuation; a backend's prompt cache re-reads far fewer)."""
    if model is None or not hasattr(model, "tokenize"):
        return 0
    seen = {c.messages[-1]["content"]: c.messages for c in calls if getattr(c, "kind", "") == "logprobs"}
    return sum(len(model.tokenize(model.prompt_text(m), prompt=True)) for m in seen.values())


def bench_planbench(model_spec: str | None, modes: list[str], first: int, instances: int, example: int,
                    caps: dict[str, int], records_path: str | None, rounds: int, max_tokens: int,
                    random_seeds: int = 1, converge_rounds: int = 5, seq_max: int | None = None,
                    domains: tuple[str, ...] = ("blocksworld", "mystery"), demos_from: int | None = None) -> list[dict]:
    """Every mode on both PlanBench domains, item by item; one record per (dataset, mode, item).
    The random control runs `random_seeds` times per item (item ids get '#sSEED' after the first)."""
    from reasonlab.api import run
    from reasonlab.models import load_model
    from reasonlab.models.scripted import ScriptedModel
    from reasonlab.planning.planner import solve

    records = load_records(records_path)
    tag = model_spec or "none"
    done = {(r["dataset"], r["strategy"], r["model"], r["item"]) for r in records}
    items = {d: planbench_items(d, first, instances, example, demos_from) for d in domains}
    kw = {"n_seq_max": seq_max} if seq_max and model_spec and model_spec.startswith("llama:") else {}
    model = load_model(model_spec, **kw) if model_spec and any(m not in ("planner", *NO_MODEL) for m in modes) else None
    nomodel = ScriptedModel(default="", name="no-model")

    def keep(rec: dict) -> None:
        records.append(rec)
        if records_path:
            with open(records_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec) + "\n")

    for i in range(instances):
        for dom in domains:
            item_id, problem = items[dom][i]
            ds = f"planbench-{dom}"
            runs = [(mode, 0) for mode in modes if mode not in NO_MODEL]
            runs += [(mode, k) for mode in NO_MODEL if mode in modes for k in range(random_seeds)]
            for mode, seed in runs:
                who = "planner" if mode == "planner" else ("none" if mode in NO_MODEL else tag)
                rid = item_id if seed == 0 else f"{item_id}#s{seed}"
                if i >= caps.get(mode, instances) or (ds, mode, who, rid) in done:
                    continue
                t0 = time.perf_counter()
                if mode == "planner":
                    res = solve(problem.planning.task, "pyperplan")
                    plan = [a.pddl() for a in res.plan] if res.plan else None
                    rec = {"valid": float(res.solved), "plan": plan, "tokens": 0, "rounds_used": None,
                           "rounds_to_success": None, "moves": None, "calls": 0}
                else:
                    strategy, opts = MODES[mode]
                    opts = dict(opts)
                    if strategy == "plan-modulo":
                        opts.update(rounds=rounds if mode == "modulo-plain" else converge_rounds, max_tokens=max_tokens)
                    elif strategy == "plan-autonomous":
                        opts.update(max_tokens=max_tokens)
                    r = run(problem, strategy, nomodel if mode in NO_MODEL else model, cache=False, seed=seed,
                            **opts)
                    d = r.details
                    valid = bool(r.answer)
                    success = next((x["round"] for x in d.get("rounds", []) if x.get("valid")), None)
                    rec = {"valid": float(valid), "plan": d.get("plan") if valid else None,
                           "tokens": r.usage.prompt_tokens + r.usage.completion_tokens,
                           "completion_tokens": r.usage.completion_tokens, "calls": r.usage.calls,
                           "rounds_used": d.get("rounds_used"), "rounds_to_success": success,
                           "moves": d.get("moves") if valid else None, "moves_used": d.get("moves"),
                           "rankings": d.get("rankings"),
                           "trace": [{"k": x["kind"], "a": x["action"], "o": x["options"], "s": x.get("scores"),
                                      "l": x.get("lengths")} for x in d.get("steps", [])] if mode not in NO_MODEL
                           else None,  # the search, replayable (decision quality per norm, offline)
                           "presented_tokens": presented_tokens(model, r.calls) if mode not in NO_MODEL else 0,
                           "repetition": sum(1 for x in d.get("rounds", []) for c in x.get("candidates", [])
                                             if c.get("finish_reason") == "repetition"),
                           "unreadable": sum(1 for x in d.get("rounds", []) for c in x.get("candidates", [])
                                             if c.get("verdict") is None),
                           "rounds": [{"kept": len(x["prefix"]), "steps": [len(c["attempt"]) for c in x["candidates"]],
                                       "ok": [(c["verdict"] or {}).get("steps_ok") for c in x["candidates"]],
                                       "unmet": [len((c["verdict"] or {}).get("unmet_goals") or []) if c["verdict"]
                                                 else None for c in x["candidates"]],
                                       "finish": [c["finish_reason"] for c in x["candidates"]]}
                                      for x in d.get("rounds", [])] or None}  # the loop's progress, per round
                rec.update({"dataset": ds, "strategy": mode, "model": who, "item": rid,
                            "seconds": time.perf_counter() - t0})
                rec["independent_valid"] = (independent_valid(problem, rec["plan"]) if rec["valid"] and rec["plan"]
                                            else None)
                rec["goal_reached"] = rec["valid"]
                keep(rec)
                print(f"  {ds} {mode:<14} {item_id}: valid={int(rec['valid'])} indep={rec['independent_valid']} "
                      f"rounds={rec.get('rounds_used')} moves={rec.get('moves_used', rec.get('moves'))} "
                      f"tokens={rec['tokens']} {rec['seconds']:.1f}s", flush=True)
    if model is not None:
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
    ap.add_argument("--model", help="run the planning modes on PlanBench with this model (e.g. smollm2)")
    ap.add_argument("--modes", default="planner,random-guided,autonomous,guided,modulo,modulo-plain")
    ap.add_argument("--cap", action="append", default=[], help="MODE=N: run MODE on the first N items only")
    ap.add_argument("--first", type=int, default=102, help="first PlanBench instance")
    ap.add_argument("--example", type=int, default=101, help="PlanBench instance shown as the one-shot example")
    ap.add_argument("--instances", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=15, help="rounds of modulo-plain (the paper's loop)")
    ap.add_argument("--converge-rounds", type=int, default=5,
                    help="rounds of the other modulo modes (k=3 candidates x 5 rounds = 15 plans, as plain's 15)")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--random-seeds", type=int, default=1, help="runs of the random control per item")
    ap.add_argument("--seq-max", type=int, help="llama models: most parallel sequences (KV slots); 1 keeps one "
                    "prompt cache that every log-probability call reuses")
    ap.add_argument("--domains", default="blocksworld,mystery",
                    help="PlanBench domains, in this order per item (one domain keeps a prompt cache warm)")
    ap.add_argument("--demos-from", type=int, default=201,
                    help=f"guided's worked choices come from the solved instances N…N+{DEMO_SOURCES - 1}")
    ap.add_argument("--records", help="append records here (JSONL); finished ones are skipped")
    ap.add_argument("--report-only", action="store_true", help="render the report from --records and stop")
    ap.add_argument("--json", help="write all figures here")
    ap.add_argument("--report", help="write the planning report (Markdown) here")
    args = ap.parse_args(argv)
    from reasonlab.eval.plan_report import render, summary_rows

    if args.report_only:
        md = render(load_records(args.records), "Planning on PlanBench development instances")
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
        modes = [m.strip() for m in args.modes.split(",") if m.strip()]
        unknown = [m for m in modes if m != "planner" and m not in MODES]
        if unknown:
            sys.exit(f"unknown modes: {unknown} (known: planner, {', '.join(MODES)})")
        caps = {k: int(v) for k, v in (c.split("=", 1) for c in args.cap)}
        recs = bench_planbench(args.model, modes, args.first, args.instances, args.example, caps, args.records,
                               args.rounds, args.max_tokens, args.random_seeds, args.converge_rounds,
                               args.seq_max, tuple(d.strip() for d in args.domains.split(",") if d.strip()),
                               args.demos_from)
        rejected = [r for r in recs if r["valid"] and r.get("independent_valid") is False]
        print(f"# reported valid: {sum(1 for r in recs if r['valid'])}; rejected by the independent validator: "
              f"{len(rejected)}")
        figures["summary"] = summary_rows(recs)
        md = render(recs, f"Planning on PlanBench development instances ({started:%Y-%m-%d})")
        print(md)
        if args.report:
            Path(args.report).write_text(md, encoding="utf-8")
    figures["seconds"] = (datetime.now(UTC) - started).total_seconds()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    print(f"# done in {figures['seconds']:.0f} s")


if __name__ == "__main__":
    main()
