"""Decision quality of the guided search's rankings, offline, from bench_planning.py records.

Also (`--controls ITEMS SEEDS`) the guided search with two model-free fixed orders, to see what a
preference for long or short action texts alone achieves: "longest" ranks options by the number
of words, longest first, "shortest" the reverse (ties in seeded random order, budget 40).

Replays each recorded search (the `trace` of a guided record), and at every state where the
chooser ranked the options, asks: is the top-ranked option a step of some optimal plan (the
optimal distance to the goal, by breadth-first search, drops by one)? Reported per norm (the
per-token mean, the sum = mean x tokens), beside the same rate for a uniform random pick.

    .venv/bin/python benchmarks/plan_decisions.py runs/planning/qwen-guided.jsonl
    .venv/bin/python benchmarks/plan_decisions.py --controls 20 10

Fresh decisions (`--fresh`): decision states sampled from seeded random walks on development
items (default 152–200, the tuning range: never the report slice 102–151), each ranked by the
model under every `--variants` entry (`base`, `demosN`: N worked choices drawn from the solved
instances `--demo-from`…), through the guided search's own chooser; records go to `--out`
(resumable: a (variant, item, state) already there is skipped) and the table compares the
share of top-ranked actions on an optimal path with a uniform pick over the same states.

    /work/bin/cpu-run .venv/bin/python benchmarks/plan_decisions.py --fresh --model $M \
        --domain blocksworld --variants base,demos4 --out runs/planning/decisions-bw.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from functools import cache
from pathlib import Path

from bench_planning import planbench_items  # noqa: E402  (benchmarks/ is on sys.path as a script)

from reasonlab.planning.pddl import GroundAction
from reasonlab.planning.simulate import goal_distance, initial_state, step, unmet_goals


def distances(planning):
    view, acts = planning.task.strips, planning.ground_actions()

    @cache
    def dist(state) -> int:
        """Optimal number of steps from `state` to the goals (10**6 when unreachable)."""
        d = goal_distance(view, acts, state)
        return 10**6 if d is None else d

    return view, dist


class _LengthOrder:
    """Options by the number of words of their text (longest or shortest first), ties shuffled."""

    def __init__(self, planning, rng, longest: bool) -> None:
        self.planning, self.rng, self.sign = planning, rng, -1 if longest else 1

    def rank(self, path, state, options, n, rec):
        shuffled = list(options)
        self.rng.shuffle(shuffled)
        return sorted(shuffled, key=lambda a: self.sign * len(self.planning.vocab.action(a).split()))


def length_controls(first: int, count: int, seeds: int) -> None:
    from reasonlab.planning import guided
    from reasonlab.planning.guided import GuidedOptions, guided_search

    print("| fixed order (no model) | domain | solved |")
    print("|---|---|---|")
    for longest in (True, False):
        guided.GreedyChooser = lambda planning, rng, lg=longest: _LengthOrder(planning, rng, lg)  # the chooser slot
        for dom in ("blocksworld", "mystery"):
            ok = sum(guided_search(None, prob.planning, GuidedOptions(chooser="greedy", seed=seed)).valid
                     for _, prob in planbench_items(dom, first, count, 101) for seed in range(seeds))
            print(f"| {'longest' if longest else 'shortest'} first | {dom} | {ok}/{count * seeds} |", flush=True)


def decision_states(planning, rng, per_item: int, walk: int = 10):
    """Up to `per_item` states with more than one option, from a seeded random walk without revisits
    (the states a search meets, on and off the optimal paths), with the options as the search lists them."""
    from reasonlab.planning.simulate import applicable

    view, acts = planning.task.strips, planning.ground_actions()
    state, visited, path, found = initial_state(view), set(), [], []
    visited.add(state)
    for _ in range(walk):
        if not unmet_goals(view, state):
            break
        options = applicable(view, acts, state, visited)
        if not options:
            break
        if len(options) > 1:
            found.append((list(path), state, options))
        act = rng.choice(options)
        path.append(act)
        state = step(view, state, act)
        visited.add(state)
    rng.shuffle(found)
    return found[:per_item]


def fresh(args) -> None:
    """Rank sampled decision states with the model under each variant; print the table."""
    import random
    import re

    from bench_planning import PLANBENCH

    from reasonlab.context import RunContext
    from reasonlab.models import load_model
    from reasonlab.planning.builtin import solved_example
    from reasonlab.planning.choosers import LogprobChooser
    from reasonlab.planning.guided import GuidedOptions, Step
    from reasonlab.planning.pddl import Task

    out = Path(args.out)
    done = {(r["variant"], r["item"], r["k"]) for r in map(json.loads, out.read_text().splitlines())} \
        if out.is_file() else set()
    folder = PLANBENCH / args.domain
    demo_src = [solved_example(Task.from_files(folder / "domain.pddl", folder / "instances" / f"instance-{n}.pddl"),
                               engine="pyperplan") for n in range(args.demo_from, args.demo_from + 8)]
    items = planbench_items(args.domain, args.first, args.count, 101)
    model = load_model(args.model, n_seq_max=1) if args.model.startswith("llama:") else load_model(args.model)
    ctx = RunContext(model)
    t_start = time.time()
    for item_id, prob in items:
        planning = prob.planning
        planning.demos = demo_src
        view, dist = distances(planning)
        states = decision_states(planning, random.Random(item_id), args.per_item)
        for variant in args.variants.split(","):
            m = re.fullmatch(r"demos(\d+)", variant)
            o = GuidedOptions(demos=int(m.group(1)) if m else 0)
            chooser = LogprobChooser(ctx, planning, o)
            for k, (path, state, options) in enumerate(states):
                if (variant, item_id, k) in done:
                    continue
                if time.time() - t_start > args.minutes * 60:
                    print(f"# stopped after {args.minutes} min (resumable)")
                    model.close()
                    return
                rec = Step(0, "choose", len(path))
                t0 = time.perf_counter()
                chooser.rank(path, state, options, 0, rec)
                d0 = dist(state)
                ok = [dist(step(view, state, a)) == d0 - 1 for a in options]
                with out.open("a") as f:
                    f.write(json.dumps({"variant": variant, "item": item_id, "k": k, "ok": ok, "s": rec.scores,
                                        "l": rec.lengths, "o": [planning.vocab.action(a) for a in options],
                                        "seconds": round(time.perf_counter() - t0, 2)}) + "\n")
    model.close()


def fresh_table(path: str) -> None:
    rows: dict = defaultdict(lambda: [0, 0.0, 0.0, 0.0, 0.0])
    for r in map(json.loads, Path(path).read_text().splitlines()):
        mean = [x if x is not None else -1e9 for x in r["s"]]
        tot = [a * b for a, b in zip(mean, r["l"], strict=True)]
        t = rows[r["variant"]]
        t[0] += 1
        t[1] += r["ok"][max(range(len(mean)), key=lambda i: (mean[i], -i))]
        t[2] += r["ok"][max(range(len(tot)), key=lambda i: (tot[i], -i))]
        t[3] += sum(r["ok"]) / len(r["ok"])
        t[4] += r["seconds"]
    print(f"| variant ({path}) | states | top-1 on an optimal path: mean | sum | uniform | s / state |")
    print("|---|---|---|---|---|---|")
    for v, (n, m, s, u, sec) in sorted(rows.items()):
        print(f"| {v} | {n} | {m / n:.0%} | {s / n:.0%} | {u / n:.0%} | {sec / n:.1f} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("records", nargs="*")
    ap.add_argument("--first", type=int, default=102)
    ap.add_argument("--controls", nargs=2, type=int, metavar=("ITEMS", "SEEDS"), help="run the fixed-order controls")
    ap.add_argument("--fresh", action="store_true", help="rank sampled decision states with --model (see above)")
    ap.add_argument("--model")
    ap.add_argument("--domain", default="blocksworld")
    ap.add_argument("--count", type=int, default=49, help="--fresh: items from --first (use --first 152)")
    ap.add_argument("--per-item", type=int, default=2)
    ap.add_argument("--variants", default="base")
    ap.add_argument("--demo-from", type=int, default=201)
    ap.add_argument("--minutes", type=float, default=9.0, help="--fresh: stop (resumably) after this long")
    ap.add_argument("--out", default="runs/planning/decisions.jsonl")
    ap.add_argument("--table", help="print the table of a --fresh records file")
    args = ap.parse_args(argv)
    if args.fresh:
        if args.first < 152:
            ap.error("--fresh tunes on items from 152 (102–151 is the report slice)")
        fresh(args)
        fresh_table(args.out)
        return
    if args.table:
        fresh_table(args.table)
        return
    if args.controls:
        length_controls(args.first, *args.controls)
    if not args.records:
        return
    recs = [json.loads(line) for p in args.records for line in Path(p).read_text().splitlines() if line.strip()]
    recs = [r for r in recs if r.get("trace")]
    n_items = max(int(r["item"].split("-")[1].split("#")[0]) for r in recs) - args.first + 2
    items = {d: dict(planbench_items(d, args.first, n_items, 101)) for d in ("blocksworld", "mystery")}
    tally: dict = defaultdict(lambda: [0, 0.0, 0.0, 0.0, 0.0])  # n, mean top-1 ok, sum ok, random ok, chosen ok
    for r in recs:
        dom = r["dataset"].split("-", 1)[1]
        planning = items[dom][r["item"].split("#")[0]].planning
        view, dist = distances(planning)
        state, stack = initial_state(view), []
        for x in r["trace"]:
            if x["k"] in ("choose", "forced"):
                if x["k"] == "choose" and x["s"] and x["l"]:
                    d0 = dist(state)
                    ok = [dist(step(view, state, planning.vocab.read_action(o))) == d0 - 1 for o in x["o"]]
                    mean = [s if s is not None else -1e9 for s in x["s"]]
                    tot = [m * n for m, n in zip(mean, x["l"], strict=True)]
                    t = tally[(r["strategy"], r["dataset"])]
                    t[0] += 1
                    t[1] += ok[max(range(len(ok)), key=lambda i: (mean[i], -i))]
                    t[2] += ok[max(range(len(ok)), key=lambda i: (tot[i], -i))]
                    t[3] += sum(ok) / len(ok)
                    t[4] += ok[x["o"].index(planning.vocab.action(GroundAction.read(x["a"])))]
                stack.append(state)
                state = step(view, state, GroundAction.read(x["a"]))
            elif x["k"] == "backtrack" and stack:
                state = stack.pop()
    print("| records | domain | fresh rankings | top-1 on an optimal path: mean | sum | uniform random |")
    print("|---|---|---|---|---|---|")
    for (mode, ds), (n, m, s, rnd, _) in sorted(tally.items()):
        print(f"| {mode} | {ds} | {n} | {m / n:.0%} | {s / n:.0%} | {rnd / n:.0%} |")


if __name__ == "__main__":
    main()
