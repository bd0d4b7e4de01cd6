"""Model-layer benchmark on the embedded model (or any GGUF): speed, batched sampling, overhead.

    .venv/bin/python benchmarks/bench_models.py [--model smollm2] [--samples 8] [--max-tokens 128]

Prints a markdown table with the date and the machine. Figures:
  1. one call: prompt processing and generation tokens/s (reasonlab's llama backend);
  2. k samples of one prompt: one batched `generate(n=k)` vs k sequential n=1 calls, both through
     reasonlab, and k sequential `create_chat_completion` calls made with llama-cpp-python itself
     (target: batched <= 0.5x sequential);
  3. framework overhead: a `zero-shot-cot` run (no cache) vs the same two greedy calls made directly
     with llama-cpp-python's `Llama.create_chat_completion` (target <= 1.05x).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _machine import machine  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from reasonlab.models import GenParams, load_model  # noqa: E402
from reasonlab.models.llama import LlamaModel, cpu_count  # noqa: E402

LONG_PROMPT = (
    "You are a careful assistant. Read the following notes and then answer.\n"
    + "\n".join(f"Note {i}: the warehouse shipped {i * 7} boxes of apples and {i * 3} boxes of pears "
                f"on day {i}." for i in range(1, 13))
    + "\nWrite a long, detailed story about the warehouse workers and their week."
)
STORY = [{"role": "user", "content": LONG_PROMPT}]
QUESTIONS = [
    "A pen costs 3 dollars. How much do 4 pens cost?",
    "Tom has 12 apples and gives 5 to Ann. How many apples does Tom have left?",
    "A train travels 60 km per hour for 3 hours. How far does it travel?",
]




def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def single_call(m: LlamaModel, repeats: int, max_tokens: int) -> tuple[float, float, int, int]:
    """(prompt tok/s, generation tok/s, prompt tokens, generated tokens), medians over repeats."""
    pp, tg, plen, glen = [], [], 0, 0
    p1 = GenParams(max_tokens=1)
    pg = GenParams(temperature=0.7, max_tokens=max_tokens, seed=1)
    for _ in range(repeats):
        m.reset_cache()
        t_prompt, [c1] = timed(lambda: m.generate(STORY, p1))
        m.reset_cache()
        t_all, [c] = timed(lambda: m.generate(STORY, pg))
        plen, glen = c.prompt_tokens, c.completion_tokens
        pp.append(c1.prompt_tokens / t_prompt)
        tg.append(max(1, c.completion_tokens - 1) / max(1e-9, t_all - t_prompt))
    return statistics.median(pp), statistics.median(tg), plen, glen


def batched_vs_sequential(m: LlamaModel, k: int, max_tokens: int, repeats: int, direct) -> dict[str, float]:
    params = GenParams(temperature=0.8, max_tokens=max_tokens, seed=100)
    res: dict[str, list[float]] = {"batched": [], "sequential": [], "cold": [], "direct": [],
                                   "tok_b": [], "tok_s": [], "tok_c": [], "tok_d": []}
    for r in range(repeats):
        m.reset_cache()
        off = r * k
        t_b, outs = timed(lambda off=off: m.generate(STORY, params, n=k, sample_offset=off))
        m.reset_cache()
        t_s, seq = timed(lambda off=off: [m.generate(STORY, params, n=1, sample_offset=off + j)[0]
                                          for j in range(k)])

        def cold_calls(off: int = off) -> list:
            outs = []
            for j in range(k):
                m.reset_cache()  # no prefix reuse: what a server interleaving other requests does
                outs.append(m.generate(STORY, params, n=1, sample_offset=off + j)[0])
            return outs

        t_c, cold = timed(cold_calls)
        res["cold"].append(t_c)
        res["tok_c"].append(sum(c.completion_tokens for c in cold))
        res["batched"].append(t_b)
        res["sequential"].append(t_s)
        res["tok_b"].append(sum(c.completion_tokens for c in outs))
        res["tok_s"].append(sum(c.completion_tokens for c in seq))
        direct.reset()

        def run_direct(off: int = off) -> int:
            n = 0
            for j in range(k):
                out = direct.create_chat_completion(messages=STORY, temperature=0.8, max_tokens=max_tokens,
                                                    seed=100 + off + j)
                n += out["usage"]["completion_tokens"]
            return n

        t_d, ntok = timed(run_direct)
        res["direct"].append(t_d)
        res["tok_d"].append(ntok)
    return {key: statistics.median(v) for key, v in res.items()}


def overhead(m: LlamaModel, direct, repeats: int, max_tokens: int) -> tuple[float, float, int]:
    """Median wall time of a reasonlab zero-shot-cot run vs the same two calls made directly."""
    from reasonlab.api import run
    from reasonlab.problem import Problem
    from reasonlab.strategies import get_strategy

    strat = get_strategy("zero-shot-cot", max_tokens=max_tokens)
    ours, theirs, same = [], [], 0
    for _ in range(repeats):
        for q in QUESTIONS:
            problem = Problem.of(q)
            m.reset_cache()
            t_r, result = timed(lambda: run(problem, strat, m, cache=None))  # noqa: B023
            direct.reset()

            def two_calls():
                msgs = strat.reasoning_messages(problem)  # noqa: B023
                reasoning = direct.create_chat_completion(messages=msgs, temperature=0.0,
                                                          max_tokens=max_tokens)["choices"][0]["message"]["content"]
                ext = strat.extraction_messages(problem, reasoning)  # noqa: B023
                said = direct.create_chat_completion(messages=ext, temperature=0.0,
                                                     max_tokens=strat.options.extract_tokens)
                return reasoning, said["choices"][0]["message"]["content"]

            t_d, (reasoning, _) = timed(two_calls)
            ours.append(t_r)
            theirs.append(t_d)
            same += int(reasoning == result.reasoning)
    return statistics.median(ours), statistics.median(theirs), same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--samples", "-k", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from llama_cpp import Llama

    t_load, m = timed(lambda: load_model(args.model))
    assert isinstance(m, LlamaModel), "this benchmark needs a llama-backend model"
    threads = cpu_count()
    # Same settings as reasonlab's context (threads, context size, flash attention), so both
    # compute the same logits and greedy runs produce the same text: the comparison is like for like.
    direct = Llama(str(m.path), n_ctx=m.n_ctx, n_threads=threads, n_threads_batch=threads, flash_attn=True,
                   verbose=False)
    m.generate(STORY, GenParams(max_tokens=4))  # warm up both
    direct.create_chat_completion(messages=STORY, max_tokens=4)

    pp, tg, plen, glen = single_call(m, args.repeats, args.max_tokens)
    bs = batched_vs_sequential(m, args.samples, args.max_tokens, args.repeats, direct)
    t_ours, t_direct, same = overhead(m, direct, max(1, args.repeats // 2 + 1), 192)
    n_runs = len(QUESTIONS) * max(1, args.repeats // 2 + 1)

    k = args.samples
    print(f"## Model layer — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}; model: {m.spec} ({m.path.name}), {threads} threads, load {t_load:.2f} s\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| prompt processing ({plen}-token prompt) | {pp:.0f} tok/s |")
    print(f"| generation, one stream ({glen} tokens) | {tg:.0f} tok/s |")
    print(f"| {k} samples, batched `generate(n={k})` | {bs['batched']:.2f} s ({bs['tok_b']:.0f} tokens, "
          f"{bs['tok_b'] / bs['batched']:.0f} tok/s) |")
    print(f"| {k} samples, {k} sequential reasonlab calls | {bs['sequential']:.2f} s ({bs['tok_s']:.0f} tokens, "
          f"{bs['tok_s'] / bs['sequential']:.0f} tok/s) |")
    print(f"| {k} samples, {k} sequential reasonlab calls, KV cache reset before each | {bs['cold']:.2f} s "
          f"({bs['tok_c']:.0f} tokens, {bs['tok_c'] / bs['cold']:.0f} tok/s) |")
    print(f"| {k} samples, {k} sequential llama-cpp-python calls | {bs['direct']:.2f} s ({bs['tok_d']:.0f} tokens, "
          f"{bs['tok_d'] / bs['direct']:.0f} tok/s) |")
    print(f"| batched / sequential (reasonlab) | **{bs['batched'] / bs['sequential']:.2f}x** (target <= 0.5x) |")
    print(f"| batched / sequential with cache resets | **{bs['batched'] / bs['cold']:.2f}x** |")
    print(f"| batched / sequential (llama-cpp-python) | **{bs['batched'] / bs['direct']:.2f}x** |")
    print(f"| zero-shot-cot run, reasonlab (median of {n_runs}) | {t_ours:.2f} s |")
    print(f"| same two calls, llama-cpp-python directly | {t_direct:.2f} s |")
    print(f"| framework overhead | **{t_ours / t_direct:.2f}x** (target <= 1.05x); "
          f"identical reasoning text in {same}/{n_runs} runs |")
    print(f"\nmedians of {args.repeats} repeats; max_tokens {args.max_tokens}; sampling temperature 0.8")
    m.close()


if __name__ == "__main__":
    main()
