"""The continuous-batching engine on the real embedded model: concurrent callers share decode
steps and get what they would get alone; streaming, cancellation, the guard, grammar, scoring.

Prompts are never decoded in the same batch as generated tokens, and small generation batches use
the same kernels as one sequence, so a sample's logits do not depend on what runs beside it.
"""

from __future__ import annotations

import math
import threading

import pytest

from reasonlab.context import Cancelled, RunContext
from reasonlab.models import load_model
from reasonlab.models.base import GenParams

pytestmark = pytest.mark.embedded

CONFIDENT = ["Count from 1 to 12, separated by commas.", "Repeat exactly: red, green, blue, red, green, blue.",
             "Write the alphabet in capital letters separated by spaces.", "List the numbers 10, 20, 30, 40, 50."]


@pytest.fixture(scope="module")
def model():
    m = load_model("smollm2", n_threads=1)
    yield m
    m.close()


def _msgs(q: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": q}]


def _concurrently(fns):
    out: dict[int, object] = {}
    errors: list[BaseException] = []

    def go(i, fn):
        try:
            out[i] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)

    threads = [threading.Thread(target=go, args=(i, f)) for i, f in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    if errors:
        raise errors[0]
    return [out[i] for i in range(len(fns))]


def test_concurrent_callers_share_steps_and_get_their_greedy_output(model):
    p = GenParams(max_tokens=24)
    alone = []
    for q in CONFIDENT:
        model.reset_cache()
        alone.append(model.generate(_msgs(q), p)[0])
    model.reset_cache()
    steps0, model.engine.max_batch_seqs = model.engine.steps, 0
    together = _concurrently([lambda q=q: model.generate(_msgs(q), p)[0] for q in CONFIDENT])
    assert model.engine.max_batch_seqs >= 2  # the requests were in one batch
    assert model.engine.steps - steps0 < sum(c.completion_tokens + 1 for c in alone)
    for a, b in zip(alone, together, strict=True):
        assert b.text == a.text and b.finish_reason == a.finish_reason
        assert b.token_logprobs == pytest.approx(a.token_logprobs, abs=0.02)


def test_samples_of_one_prompt_join_other_requests(model):
    p = GenParams(temperature=0.8, max_tokens=16, seed=5)
    model.reset_cache()
    alone = model.generate(_msgs(CONFIDENT[0]), p, n=3, sample_offset=2)
    mixed = _concurrently([lambda: model.generate(_msgs(CONFIDENT[0]), p, n=3, sample_offset=2),
                           lambda: model.generate(_msgs(CONFIDENT[1]), GenParams(max_tokens=16), n=2)])
    assert [c.completion_tokens > 0 for c in mixed[0]] == [True] * 3 and len(mixed[1]) == 2
    # sample j depends on its seed only: the same three samples, whatever ran beside them
    assert [c.text for c in mixed[0]] == [c.text for c in alone]


def test_stream_deltas_add_up_to_the_text_with_stop_strings_held_back(model):
    seen: dict[int, str] = {}

    def on_delta(i, text):
        seen[i] = seen.get(i, "") + text

    outs = model.generate_stream(_msgs(CONFIDENT[0]), GenParams(max_tokens=40, stop=("7",)), n=2, on_delta=on_delta)
    for j, c in enumerate(outs):
        assert c.finish_reason == "stop" and "7" not in c.text and seen[j] == c.text


def test_cancel_stops_decoding_at_the_next_step_and_the_engine_carries_on(model):
    cancel = threading.Event()
    got: list[str] = []

    def on_delta(_i, text):
        got.append(text)
        if len(got) == 5:
            cancel.set()

    [c] = model.generate_stream(_msgs("Write a long story about a dragon."), GenParams(max_tokens=400),
                                on_delta=on_delta, cancel=cancel)
    assert c.finish_reason == "cancelled" and 5 <= c.completion_tokens <= 7 and c.text.startswith("".join(got))
    assert model.generate(_msgs(CONFIDENT[0]), GenParams(max_tokens=4))[0].completion_tokens > 0


def test_run_context_cancel_records_the_partial_call(model):
    cancel = threading.Event()
    seen = []

    def listener(event, payload):
        seen.append(event)
        if event == "delta" and seen.count("delta") == 3:
            cancel.set()

    ctx = RunContext(model, listeners=[listener], cancel=cancel)
    with pytest.raises(Cancelled):
        ctx.generate(_msgs("Write a long story about a dragon."), max_tokens=300)
    assert ctx.calls[0].finish_reason == "cancelled" and 0 < ctx.calls[0].completion_tokens < 300


def test_guard_stops_a_forced_loop_inside_the_decode_loop(model):
    loop = 'root ::= ("total = total * 2\\n")+'
    [c] = model.generate(_msgs("Write code."), GenParams(max_tokens=300, grammar=loop))
    assert c.finish_reason == "repetition" and c.completion_tokens < 300
    [free] = model.generate(_msgs("Write code."), GenParams(max_tokens=60, grammar=loop, guard=False))
    assert free.finish_reason == "length"


def test_confidence_floor_ends_a_sample_inside_the_decode_loop(model):
    msgs = _msgs("Write a long story about a cat.")
    # no window of real log-probabilities averages 0 or more: the floor 0 cuts at the first full window
    [cut] = model.generate(msgs, GenParams(max_tokens=60, min_confidence=0.0, confidence_window=4))
    assert cut.finish_reason == "low_confidence" and cut.completion_tokens == 4
    [free] = model.generate(msgs, GenParams(max_tokens=12, min_confidence=-1e6, confidence_window=4))
    assert free.finish_reason == "length" and free.completion_tokens == 12
    assert cut.token_logprobs == pytest.approx(free.token_logprobs[:4], abs=1e-4)  # the same path, ended early
    ctx = RunContext(model)
    outs = ctx.generate(msgs, n=2, temperature=0.7, max_tokens=40, min_confidence=0.0, confidence_window=6)
    assert [c.finish_reason for c in outs] == ["low_confidence"] * 2 and ctx.calls[0].finish_reason == "low_confidence"


def test_scoring_runs_between_decode_steps(model):
    text, scores = _concurrently([
        lambda: model.generate(_msgs("Write a long story about a cat."), GenParams(max_tokens=60))[0].text,
        lambda: model.logprobs(_msgs("What is the capital of France?"), "Paris is the capital."),
    ])
    assert text and len(scores) >= 4 and all(math.isfinite(s) and s <= 0 for s in scores)
    assert scores == pytest.approx(model.logprobs(_msgs("What is the capital of France?"), "Paris is the capital."),
                                   abs=0.05)


def test_on_done_stops_the_other_samples_of_the_request(model):
    # hot sampling of a one-word question: some samples stop at once, others ramble on
    p = GenParams(temperature=1.3, max_tokens=64, seed=11)
    model.reset_cache()
    ended: list[int] = []

    def on_done(index, completion):
        ended.append(index)
        return True  # settled by the first sample that ends

    outs = model.generate_stream(_msgs("Reply with one word: what colour is grass?"), p, n=6, on_done=on_done)
    reasons = [c.finish_reason for c in outs]
    assert len(outs) == 6 and ended and reasons.count("settled") >= 1, reasons
    assert all(outs[i].finish_reason in ("stop", "length") for i in ended) and len(ended) == 1
    first = outs[ended[0]].completion_tokens
    # the sample that read the prompt is one token ahead of its copies; the others sampled once
    # more in the step the first ended, then stopped: none ran on
    for c in outs:
        assert c.completion_tokens <= first + 2 and c.finish_reason in ("stop", "length", "settled")
    # the engine is free again: a plain call afterwards runs normally
    assert model.generate(_msgs(CONFIDENT[0]), GenParams(max_tokens=8))[0].completion_tokens > 0


def test_scoring_shares_the_cached_prefix_of_another_slot(model):
    model.reset_cache()
    q = "A farmer has 12 cows and buys 5 more. How many cows does he have now? Let's think step by step."
    model.generate(_msgs(q), GenParams(max_tokens=8))
    decoded: list[int] = []
    engine = model.engine
    real = engine._decode
    engine._decode = lambda n: (decoded.append(n), real(n))[1]  # type: ignore[method-assign]
    try:
        scores = model.logprobs(_msgs(q), "17")
    finally:
        del engine._decode
    assert scores and all(s <= 0 for s in scores)
    assert sum(decoded) <= 4  # the prompt's last token and the continuation: the rest was shared
    model.reset_cache()
    assert model.logprobs(_msgs(q), "17") == pytest.approx(scores, abs=1e-3)


def test_split_kv_streams_give_what_the_unified_cache_gives(model):
    from reasonlab.models.base import ModelError
    from reasonlab.models.llama import kv_mode

    split = load_model("smollm2", n_threads=1, kv="split", n_seq_max=4, n_ctx=512)
    try:
        assert split.info().extra["kv"] == "split" and split.n_ctx == 512 and split.n_seq_max == 4
        msgs = _msgs("Write a short story about a cat and a dog.")
        params = GenParams(max_tokens=24, temperature=0.8)
        # 4 samples of one prompt: the prompt is read once and its stream copied to the others
        assert [c.text for c in split.generate(msgs, params, n=4)] == [c.text for c in model.generate(msgs, params, n=4)]
        greedy = split.generate(msgs, GenParams(max_tokens=16))[0].text
        follow = [*msgs, {"role": "assistant", "content": greedy}, {"role": "user", "content": "Shorter."}]
        assert split.generate(follow, GenParams(max_tokens=12))[0].text == model.generate(follow, GenParams(max_tokens=12))[0].text
        assert split.logprobs(msgs, "Once upon a time") == pytest.approx(model.logprobs(msgs, "Once upon a time"), abs=1e-3)
        with pytest.raises(ModelError, match="context holds 512"):
            split.generate(_msgs("word " * 600), GenParams(max_tokens=4))
    finally:
        split.close()
    with pytest.raises(ModelError, match="KV cache layout"):
        kv_mode("sideways")
