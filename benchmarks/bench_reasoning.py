"""Strategy accuracy and cost on real word problems (issue 13), resumable, one JSONL line per item.

Run one strategy setting over a slice of a dataset (each finished item is appended at once; a
re-run skips finished items, so it can run in the background with nohup and be resumed):

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/bench_reasoning.py run \\
        -d jsonl:../shared/data/gsm8k/train.jsonl --items 0-49 -m llama:$(../shared/tools/bench-model) \\
        -s pal --label pal-k1 --out runs/bench13

Summarise every setting in a folder (accuracy with a Wilson 95 % interval, tokens/item,
seconds/item, share of samples stopped as loops); self-consistency runs drawn with
``-o confidence=lowest`` are also re-voted offline from their recorded samples — majority,
confidence-weighted, and weighted with the early stop (the stop rule replayed on the samples in
draw order, exactly as the strategy applies it; tokens counted up to the stop). Runs with
``-o online=true`` (DeepConf's online stop) are not re-voted — their cut samples are partial — and
show the share of samples the stop ended (``cut/samples``):

    .venv/bin/python benchmarks/bench_reasoning.py summary runs/bench13 [--markdown]

No cache: costs and seconds are measured honestly.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from reasonlab.api import run as run_one
from reasonlab.eval.bootstrap import in_ranges, parse_ranges
from reasonlab.eval.datasets import load_dataset, match_answer
from reasonlab.eval.intervals import wilson
from reasonlab.models import load_model
from reasonlab.strategies import get_strategy
from reasonlab.strategies.self_consistency import Sample, confidence_vote, round_sizes, tally, vote_settled


def _kv(pairs: list[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        k, _, v = p.partition("=")
        out[k.replace("-", "_")] = v
    return out


def loops_and_samples(calls: list[Any], details: dict[str, Any]) -> tuple[int, int]:
    """(samples stopped as loops, generated samples) of one item."""
    gens = [c for c in calls if c.kind == "generate"]
    loops = sum(1 for c in gens if getattr(c, "finish_reason", None) == "repetition")
    return max(loops, int(details.get("loops") or 0)), len(gens)


def cmd_run(a: argparse.Namespace) -> None:
    out = Path(a.out) / f"{a.label}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.is_file():
        for line in out.read_text(encoding="utf-8").splitlines():
            if line.strip():
                done.add(json.loads(line)["id"])
    ranges = parse_ranges(a.items)
    ds = load_dataset(a.dataset)
    strat = get_strategy(a.strategy, **_kv(a.option))
    model = load_model(a.model)
    header = {"dataset": a.dataset, "strategy": a.strategy, "options": _kv(a.option), "model": a.model,
              "items": a.items, "command": " ".join(sys.argv)}
    (Path(a.out) / f"{a.label}.meta.json").write_text(json.dumps(header, indent=1))
    for index, item in enumerate(ds.items()):
        if not in_ranges(index, ranges) or item.id in done:
            continue
        t0 = time.perf_counter()
        try:
            r = run_one(ds.problem(item, "open"), strat, model, cache=False, seed=a.seed)
        except Exception as e:  # noqa: BLE001 - recorded, counted wrong
            rec = {"id": item.id, "index": index, "gold": item.answer, "answer": None, "correct": False,
                   "status": "error", "error": f"{type(e).__name__}: {e}"[:300],
                   "seconds": time.perf_counter() - t0, "completion_tokens": 0, "prompt_tokens": 0}
        else:
            loops, samples = loops_and_samples(r.calls, r.details)
            rec = {"id": item.id, "index": index, "gold": item.answer, "answer": r.answer,
                   "correct": match_answer(r.answer, item, "open"), "status": r.status,
                   "completion_tokens": sum(c.completion_tokens for c in r.calls if c.kind == "generate"),
                   "prompt_tokens": sum(c.prompt_tokens for c in r.calls if c.kind == "generate"),
                   "calls": len(r.calls), "seconds": round(time.perf_counter() - t0, 2), "loops": loops,
                   "samples": samples, "note": r.note, "details": r.details}
        with out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
        print(f"{a.label} {index} {rec['status']} answer={rec['answer']} gold={item.answer} "
              f"ok={rec['correct']} {rec['completion_tokens']} tok {rec['seconds']}s", flush=True)


# -- summary ------------------------------------------------------------------------------------
def revote(rec: dict[str, Any], mode: str, settle: float = 0.8, keep: float = 1.0,
           rule: str = "safe", warmup: int = 0) -> tuple[str | None, int]:
    """Re-vote a voted item (self-consistency, PAL k > 1) from its recorded paths in draw order:
    (winner key, completion tokens used). With mode "stop" the online stop is replayed: a first
    wave of `warmup` samples (0: half of k, then k/8 per wave as the strategies default), then one
    at a time, stopping when `settled` says so."""
    paths = [Sample(p["index"], "", p["answer"], p["strict"], p["key"], confidence=p.get("confidence"),
                    finish=p.get("finish", "stop"), tokens=p.get("tokens", 0))
             for p in rec["details"].get("paths", [])]
    if mode.startswith("majority@"):  # the first k samples only: self-consistency at a smaller budget
        first = paths[:int(mode.split("@")[1])]
        return tally(first).winner, sum(p.tokens for p in first)
    if mode == "majority":
        return tally(paths).winner, sum(p.tokens for p in paths)
    if mode == "weighted":
        return confidence_vote(paths, keep).winner, sum(p.tokens for p in paths)
    k = len(paths)
    drawn: list[Sample] = []
    for size in round_sizes(k, 1 if warmup > 0 else 0, warmup):
        drawn += paths[len(drawn):len(drawn) + size]
        if vote_settled(drawn, k - len(drawn), settle, rule, keep):
            break
    return confidence_vote(drawn, keep).winner, sum(p.tokens for p in drawn)


def _gold_key(rec: dict[str, Any]) -> str | None:
    from reasonlab.answers import vote_key

    return vote_key(str(rec["gold"]), "number")


def _cut(rec: dict[str, Any]) -> int:
    """Samples of one item ended by the online stop (finish reason low_confidence)."""
    d = rec.get("details") or {}
    return int((d.get("confidence") or {}).get("cut") or (d.get("online") or {}).get("cut") or 0)


def summarise(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for f in sorted(folder.glob("*.jsonl")):
        if not f.with_suffix(".meta.json").is_file():
            continue  # not a result file (a dataset, a pool)
        recs = [json.loads(ln) for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if not recs:
            continue
        variants = [(f.stem, None)]
        online = json.loads(f.with_suffix(".meta.json").read_text()).get("options", {}).get("online") == "true"
        if not online and any(p.get("confidence") is not None for r in recs for p in (r.get("details") or {}).get("paths", [])):
            variants += [(f"{f.stem}/majority", "majority"), (f"{f.stem}/weighted", "weighted"),
                         (f"{f.stem}/weighted+stop", "stop")]
            variants += [(f"{f.stem}/weighted+stop(share≥{t})", f"share:{t}:0") for t in (0.5, 0.6, 0.75)]
            variants += [(f"{f.stem}/weighted+stop(warm-up {w}, share≥{t})", f"share:{t}:{w}")
                         for w in (2, 3) for t in (0.6, 0.75, 0.9)]
            variants += [(f"{f.stem}/weighted+stop(warm-up {w}, beta≥{t})", f"beta:{t}:{w}")
                         for w in (2, 3) for t in (0.9, 0.95)]
            variants += [(f"{f.stem}/majority@{k}", f"majority@{k}") for k in (1, 2, 3, 4)]
        for label, mode in variants:
            correct = tokens = 0
            for r in recs:
                if mode is None:
                    correct += bool(r["correct"])
                    tokens += r.get("completion_tokens", 0)
                else:
                    if mode.startswith(("share:", "beta:")):
                        rule, t, w = mode.split(":")
                        key, used = revote(r, "stop", float(t), rule=rule, warmup=int(w))
                    else:
                        key, used = revote(r, mode)
                    correct += key is not None and key == _gold_key(r)
                    tokens += used
            n = len(recs)
            lo, hi = wilson(correct, n)
            loops = sum(r.get("loops") or 0 for r in recs)
            cut = sum(_cut(r) for r in recs)
            samples = sum(r.get("samples") or 0 for r in recs)
            rows.append({"setting": label, "n": n, "correct": correct, "accuracy": correct / n, "lo": lo, "hi": hi,
                         "tokens_per_item": tokens / n,
                         "seconds_per_item": sum(r.get("seconds", 0) for r in recs) / n if mode is None else None,
                         "no_answer": sum(r["answer"] is None for r in recs) / n if mode is None else None,
                         "loop_share": loops / samples if samples and mode is None else None,
                         "cut_share": cut / samples if samples and mode is None and online else None})
    return rows


def cmd_summary(a: argparse.Namespace) -> None:
    rows = summarise(Path(a.folder))
    print("| setting | n | correct | accuracy (95 % CI) | tokens/item | s/item | no answer | loops/samples "
          "| cut/samples |")
    print("|---|---|---|---|---|---|---|---|---|")
    def pct(x: float | None) -> str:
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"

    for r in rows:
        secs = "" if r["seconds_per_item"] is None else f"{r['seconds_per_item']:.1f}"
        print(f"| {r['setting']} | {r['n']} | {r['correct']} | {pct(r['accuracy'])} ({pct(r['lo'])}–{pct(r['hi'])}) "
              f"| {r['tokens_per_item']:.0f} | {secs} | {pct(r['no_answer'])} | {pct(r['loop_share'])} "
              f"| {pct(r['cut_share'])} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("-d", "--dataset", required=True)
    r.add_argument("--items", default="0-49", help="0-based positions, e.g. 0-49 or 0-199")
    r.add_argument("-m", "--model", required=True)
    r.add_argument("-s", "--strategy", required=True)
    r.add_argument("-o", "--option", action="append", default=[])
    r.add_argument("--label", required=True)
    r.add_argument("--out", default="runs/bench13")
    r.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("summary")
    s.add_argument("folder")
    a = p.parse_args()
    cmd_run(a) if a.cmd == "run" else cmd_summary(a)


if __name__ == "__main__":
    main()
