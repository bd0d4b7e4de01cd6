"""Prompt-strategy benchmark: self-consistency cost and early-stop savings.

    .venv/bin/python benchmarks/bench_strategies.py [--model smollm2] [--k 8] [--max-tokens 96]
        [--questions 10] [--repeats 3] [--skip-timing] [--skip-early-stop] [--simulate 200]
        [--accuracy] [--json OUT.json]

Prints its figures as markdown with the date and the machine. No cache anywhere.
  1. Timing (embedded model): on each of `--repeats` questions, with the self-consistency prompt
     (few-shot CoT, 4 exemplars, temperature 0.7): one CoT sample (`few-shot-cot`), the
     `self-consistency` strategy with k samples in one batched request, and the same k samples
     drawn as k sequential n=1 requests (sample_offset i). KV cache reset before each condition.
     Targets: batched ≤ 3× one sample, ≤ 0.5× sequential.
  2. Early stop (embedded model): on `--questions` arithmetic questions, full k vs early_stop=true,
     each run independently: share of samples saved, and whether the answers are identical.
  3. Early stop (scripted model, `--simulate N` questions): samples whose answers agree with a
     per-question probability drawn uniformly from [0.3, 0.9], else spread over 3 wrong answers
     (or no answer) — the savings over a range of model confidence, with the winner checked.
  4. `--accuracy`: if /root/.cache/reasonlab-bench/qwen2.5-coder-0.5b-instruct.gguf exists, accuracy
     of zero-shot-cot, few-shot-cot (fixed and similar) and self-consistency on the questions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _machine import machine  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from reasonlab.answers import answers_match  # noqa: E402
from reasonlab.api import run  # noqa: E402
from reasonlab.context import RunContext  # noqa: E402
from reasonlab.models import load_model  # noqa: E402
from reasonlab.models.scripted import ScriptedModel  # noqa: E402
from reasonlab.problem import Problem  # noqa: E402
from reasonlab.strategies import get_strategy  # noqa: E402
from reasonlab.strategies.self_consistency import Sample as VotePath  # noqa: E402
from reasonlab.strategies.self_consistency import cot_prompt, decided, round_sizes, tally  # noqa: E402

BENCH_MODEL = Path("/root/.cache/reasonlab-bench/qwen2.5-coder-0.5b-instruct.gguf")

# Grade-school questions written for this benchmark (none is an exemplar), with gold answers.
QUESTIONS = [
    ("A pen costs 3 dollars. How much do 4 pens cost?", "12"),
    ("Tom has 12 apples and gives 5 to Ann. How many apples does Tom have left?", "7"),
    ("A train travels 60 km per hour for 3 hours. How far does it travel in km?", "180"),
    ("A class has 24 students split equally into 4 teams. How many students are in each team?", "6"),
    ("Sara reads 8 pages a day. How many pages does she read in 5 days?", "40"),
    ("A shop had 50 shirts and sold 18. Then it received 10 more. How many shirts does it have now?", "42"),
    ("Each box holds 6 eggs. How many eggs are in 7 boxes?", "42"),
    ("Max earns 9 dollars an hour and works 6 hours. He spends 20 dollars. How much money is left?", "34"),
    ("A rope is 30 meters long. It is cut into pieces of 5 meters. How many pieces are there?", "6"),
    ("Lily has 15 stickers. Her friend gives her twice as many. How many stickers does Lily have now?", "45"),
    ("A pizza has 8 slices. 3 friends each eat 2 slices. How many slices are left?", "2"),
    ("A bus has 40 seats. 27 are taken. How many seats are free?", "13"),
]




def _reset(model: Any) -> None:
    if hasattr(model, "reset_cache"):
        model.reset_cache()


def timing(model: Any, k: int, max_tokens: int, repeats: int) -> dict[str, Any]:
    rows = []
    for q, _ in QUESTIONS[:repeats]:
        problem = Problem(q)
        sc = get_strategy("self-consistency", samples=k, max_tokens=max_tokens)
        msgs, _ = cot_prompt(problem, sc.options)
        _reset(model)
        one = run(problem, "few-shot-cot", model, cache=False, temperature=0.7, max_tokens=max_tokens)
        _reset(model)
        batched = run(problem, sc, model, cache=False)
        _reset(model)
        ctx = RunContext(model, None)
        t0 = time.perf_counter()
        for i in range(k):
            ctx.generate(msgs, n=1, sample_offset=i, temperature=0.7, max_tokens=max_tokens, label="sample")
        seq_s = time.perf_counter() - t0
        seq_tokens = sum(c.completion_tokens for c in ctx.calls)
        cold = RunContext(model, None)  # the same requests with the KV cache reset before each
        t0 = time.perf_counter()
        for i in range(k):
            _reset(model)
            cold.generate(msgs, n=1, sample_offset=i, temperature=0.7, max_tokens=max_tokens, label="sample")
        cold_s = time.perf_counter() - t0
        same = [c.output for c in ctx.calls] == [c.output for c in batched.calls]
        rows.append({
            "question": q, "one_s": one.usage.seconds, "one_tokens": one.usage.completion_tokens,
            "batched_s": batched.usage.seconds, "batched_tokens": batched.usage.completion_tokens,
            "sequential_s": seq_s, "sequential_tokens": seq_tokens, "cold_s": cold_s,
            "cold_tokens": sum(c.completion_tokens for c in cold.calls), "prompt_tokens": batched.calls[0].prompt_tokens,
            "same_samples_batched_and_sequential": same,
        })
        print(f"  timing: {q[:40]!r}: one {one.usage.seconds:.2f}s, batched k={k} {batched.usage.seconds:.2f}s, "
              f"sequential {seq_s:.2f}s, sequential without prefix reuse {cold_s:.2f}s", file=sys.stderr)
    med = {key: statistics.median(r[key] for r in rows)
           for key in ("one_s", "batched_s", "sequential_s", "cold_s", "one_tokens", "batched_tokens",
                       "sequential_tokens", "cold_tokens")}
    return {"rows": rows, "median": med,
            "batched_over_one": med["batched_s"] / med["one_s"],
            "batched_over_sequential": med["batched_s"] / med["sequential_s"],
            "batched_over_cold": med["batched_s"] / med["cold_s"],
            "ratios_per_question": [(r["batched_s"] / r["one_s"], r["batched_s"] / r["sequential_s"]) for r in rows]}


def replay_saved(paths: list[dict[str, Any]], k: int) -> tuple[int, bool]:
    """Early stop replayed on a full run's own k paths: (samples saved, same winner as full k)."""
    ps = [VotePath(p["index"], "", p["answer"], p["strict"], p["key"]) for p in paths]
    drawn = 0
    for size in round_sizes(k, 0):
        drawn += size
        if decided(ps[:drawn], k - drawn):
            break
    return k - drawn, tally(ps[:drawn]).winner == tally(ps).winner


def early_stop_real(model: Any, k: int, max_tokens: int, n: int) -> dict[str, Any]:
    rows = []
    for q, gold in QUESTIONS[:n]:
        _reset(model)
        full = run(q, "self-consistency", model, cache=False, samples=k, max_tokens=max_tokens)
        _reset(model)
        early = run(q, "self-consistency", model, cache=False, samples=k, max_tokens=max_tokens, early_stop=True)
        same_samples = [c.output for c in early.calls] == [c.output for c in full.calls[: len(early.calls)]]
        replay, replay_same = replay_saved(full.details["paths"], k)
        rows.append({"question": q, "gold": gold, "full": full.answer, "early": early.answer,
                     "replay_saved": replay, "replay_same_winner": replay_same,
                     "saved": early.details["early_stop"]["saved"], "same_answer": full.answer == early.answer,
                     "same_samples": same_samples, "full_s": full.usage.seconds, "early_s": early.usage.seconds,
                     "full_correct": answers_match(full.answer, gold, "number")})
        print(f"  early stop: {q[:40]!r}: full {full.answer} early {early.answer} saved "
              f"{rows[-1]['saved']}/{k}", file=sys.stderr)
    saved = sum(r["saved"] for r in rows)
    return {"rows": rows, "saved_share": saved / (k * len(rows)), "same_answers": sum(r["same_answer"] for r in rows),
            "same_samples": sum(r["same_samples"] for r in rows),
            "replay_saved_share": sum(r["replay_saved"] for r in rows) / (k * len(rows)),
            "replay_same": sum(r["replay_same_winner"] for r in rows),
            "n": len(rows), "full_s": sum(r["full_s"] for r in rows), "early_s": sum(r["early_s"] for r in rows),
            "full_correct": sum(r["full_correct"] for r in rows)}


def early_stop_simulated(k: int, n: int, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    saved = same = 0
    by_band: dict[str, list[int]] = {}
    for _ in range(n):
        p = rng.uniform(0.3, 0.9)
        answers = [("The answer is 10." if rng.random() < p else
                    rng.choice(["The answer is 11.", "The answer is 12.", "The answer is 13.", "no idea"]))
                   for _ in range(k)]
        model = ScriptedModel(fn=lambda m, params, i, a=answers: a[i])
        full = run("How many?", "self-consistency", model, cache=False, samples=k)
        early = run("How many?", "self-consistency", model, cache=False, samples=k, early_stop=True)
        s = early.details["early_stop"]["saved"]
        saved += s
        same += full.answer == early.answer
        band = f"{int(p * 10) / 10:.1f}–{int(p * 10) / 10 + 0.1:.1f}"
        by_band.setdefault(band, []).append(s)
    return {"n": n, "saved_share": saved / (k * n), "same_answers": same,
            "by_agreement": {b: sum(v) / (k * len(v)) for b, v in sorted(by_band.items())}}


def accuracy(k: int, max_tokens: int, n: int) -> dict[str, Any] | None:
    if not BENCH_MODEL.is_file():
        return None
    model = load_model(f"llama:{BENCH_MODEL}")
    setups = [("zero-shot-cot", {}), ("few-shot-cot", {}), ("few-shot-cot", {"selection": "similar"}),
              ("self-consistency", {"samples": k}), ("self-consistency", {"samples": k, "early_stop": True})]
    out = {}
    for name, opts in setups:
        t0 = time.perf_counter()
        correct = 0
        samples = 0
        for q, gold in QUESTIONS[:n]:
            res = run(q, name, model, cache=False, max_tokens=max_tokens, **opts)
            correct += answers_match(res.answer, gold, "number")
            samples += res.usage.calls
        label = name + "".join(f" {a}={b}" for a, b in opts.items())
        out[label] = {"correct": correct, "n": n, "seconds": time.perf_counter() - t0, "model_calls": samples}
        print(f"  accuracy: {label}: {correct}/{n}", file=sys.stderr)
    model.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--questions", type=int, default=10)
    ap.add_argument("--simulate", type=int, default=200)
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--skip-early-stop", action="store_true")
    ap.add_argument("--accuracy", action="store_true")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()

    report: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
                              "model": a.model, "k": a.k, "max_tokens": a.max_tokens}
    model = None
    if not (a.skip_timing and a.skip_early_stop):
        model = load_model(a.model)
        report["model_info"] = {"n_params": model.info().n_params}
    if not a.skip_timing:
        report["timing"] = timing(model, a.k, a.max_tokens, a.repeats)
    if not a.skip_early_stop:
        report["early_stop"] = early_stop_real(model, a.k, a.max_tokens, a.questions)
    if model is not None:
        model.close()
    if a.simulate:
        report["early_stop_simulated"] = early_stop_simulated(a.k, a.simulate)
    if a.accuracy:
        report["accuracy"] = accuracy(a.k, a.max_tokens, len(QUESTIONS))

    used = a.model if "model_info" in report else "scripted only"
    print(f"# bench_strategies — {report['date']}\n\nMachine: {report['machine']}  \n"
          f"Model: {used}, k={a.k}, max_tokens={a.max_tokens}, no cache\n")
    if "timing" in report:
        t = report["timing"]
        m = t["median"]
        print("## self-consistency wall time (median over questions)\n")
        print("| condition | seconds | generated tokens |\n|---|---|---|")
        print(f"| one CoT sample (few-shot-cot, T=0.7) | {m['one_s']:.2f} | {m['one_tokens']:.0f} |")
        print(f"| self-consistency k={a.k}, one batched request | {m['batched_s']:.2f} | {m['batched_tokens']:.0f} |")
        print(f"| the same {a.k} samples, sequential requests (prompt KV reused) | {m['sequential_s']:.2f} | "
              f"{m['sequential_tokens']:.0f} |")
        print(f"| the same {a.k} requests, KV cache reset before each | {m['cold_s']:.2f} | {m['cold_tokens']:.0f} |")
        print(f"\nbatched / one sample = **{t['batched_over_one']:.2f}×** (target ≤ 3×); "
              f"batched / sequential = **{t['batched_over_sequential']:.2f}×** (target ≤ 0.5×); "
              f"batched / sequential without prefix reuse = **{t['batched_over_cold']:.2f}×**")
        print("per question (batched/one, batched/sequential): "
              + ", ".join(f"{x:.2f}/{y:.2f}" for x, y in t["ratios_per_question"]))
        same = sum(r["same_samples_batched_and_sequential"] for r in t["rows"])
        print(f"batched and sequential drew identical samples on {same}/{len(t['rows'])} questions\n")
    if "early_stop" in report:
        e = report["early_stop"]
        print(f"## early stop on the embedded model ({e['n']} arithmetic questions, k={a.k})\n")
        print(f"samples saved: **{e['saved_share']:.0%}**; same answer as full k: **{e['same_answers']}/{e['n']}**; "
              f"wall time {e['early_s']:.1f}s vs {e['full_s']:.1f}s; full-k correct {e['full_correct']}/{e['n']}")
        print(f"early-stop samples identical to the full run's: {e['same_samples']}/{e['n']} questions "
              "(llama.cpp's numerics depend on how many sequences are decoded together)")
        print(f"replayed on the full runs' own paths: saved **{e['replay_saved_share']:.0%}**, "
              f"same winner **{e['replay_same']}/{e['n']}**\n")
    if "early_stop_simulated" in report:
        s = report["early_stop_simulated"]
        print(f"## early stop, scripted model ({s['n']} simulated questions, k={a.k})\n")
        print(f"samples saved: **{s['saved_share']:.0%}**; same answer as full k: **{s['same_answers']}/{s['n']}**")
        print("saved share by agreement rate: "
              + ", ".join(f"{b}: {v:.0%}" for b, v in s["by_agreement"].items()) + "\n")
    if report.get("accuracy"):
        print(f"## accuracy on {BENCH_MODEL.name} ({len(QUESTIONS)} questions)\n")
        print("| setup | correct | seconds | model calls |\n|---|---|---|---|")
        for label, r in report["accuracy"].items():
            print(f"| {label} | {r['correct']}/{r['n']} | {r['seconds']:.1f} | {r['model_calls']} |")
    elif a.accuracy:
        print(f"(accuracy skipped: {BENCH_MODEL} not found)")
    if a.json:
        a.json.write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
