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
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict, deque
from functools import cache
from pathlib import Path

from bench_planning import planbench_items  # noqa: E402  (benchmarks/ is on sys.path as a script)

from reasonlab.planning.pddl import GroundAction
from reasonlab.planning.simulate import initial_state, step, unmet_goals


def distances(planning):
    view, acts = planning.task.strips, planning.ground_actions()

    @cache
    def dist(state) -> int:
        """Optimal number of steps from `state` to the goals (breadth-first; small domains only)."""
        seen, todo = {state}, deque([(state, 0)])
        while todo:
            s, d = todo.popleft()
            if not unmet_goals(view, s):
                return d
            for a in acts:
                n = step(view, s, a)
                if n is not None and n not in seen:
                    seen.add(n)
                    todo.append((n, d + 1))
        return 10**6

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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("records", nargs="*")
    ap.add_argument("--first", type=int, default=102)
    ap.add_argument("--controls", nargs=2, type=int, metavar=("ITEMS", "SEEDS"), help="run the fixed-order controls")
    args = ap.parse_args(argv)
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
