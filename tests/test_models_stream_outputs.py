"""Where streamed text goes: the terminal printer and the OpenAI reasoning_content stream show
one sample at a time; the server's gate lets a batching backend take concurrent calls."""

from __future__ import annotations

import threading

from reasonlab.cli.live_output import LivePrinter
from reasonlab.models.base import Completion, Model
from reasonlab.server.gate import GatedModel, ModelGate
from reasonlab.server.streaming import ReasoningText


def _d(label, i, text):
    return "delta", {"label": label, "index": i, "text": text}


def _c(label, i, output, **kw):
    return "call", {"label": label, "sample_index": i, "output": output, "completion_tokens": 2, "seconds": 0.1,
                    "cached": False, "finish_reason": "stop", **kw}


INTERLEAVED = [("call_start", {"label": "r", "n": 2, "messages": [], "params": {}}),
               _d("r", 0, "Hello "), _d("r", 1, "Other "), _d("r", 0, "world"), _d("r", 1, "sample"),
               _c("r", 1, "Other sample"), _c("r", 0, "Hello world"), _c("x", 0, "cached text", cached=True)]


def test_reasoning_content_writes_samples_one_after_another():
    rt = ReasoningText()
    text = "".join(rt.on_event(e, p) for e, p in INTERLEAVED)
    assert text == "[r #0] Hello world\n\n[r #1] Other sample\n\n[x #0] cached text\n\n"


def test_reasoning_content_hands_over_to_a_sample_still_decoding():
    rt = ReasoningText()
    events = [_d("r", 0, "A"), _d("r", 1, "B1 "), _c("r", 0, "A"), _d("r", 1, "B2"), _c("r", 1, "B1 B2")]
    assert [rt.on_event(e, p) for e, p in events] == ["[r #0] A", "", "\n\n[r #1] B1 ", "B2", "\n\n"]


def test_terminal_printer_never_interleaves_samples():
    out: list[str] = []
    printer = LivePrinter(stream=True, calls=True, echo=lambda s="", nl=True, err=False: out.append(s + ("\n" if nl else "")))
    for e, p in INTERLEAVED:
        printer(e, p)
    printer.finish()
    text = "".join(out)
    assert "Hello world" in text and "Other sample" in text
    assert text.index("Hello world") < text.index("Other sample")  # sample 1 waited for sample 0
    assert "· r #1: 2 tokens" in text and "(cached)" in text


class Barrier(Model):
    """Two calls must be inside generate at the same time to get past the barrier."""

    spec = identity = "barrier"

    def __init__(self, batches: bool) -> None:
        self.batches_concurrent_calls = batches
        self.barrier = threading.Barrier(2, timeout=2)
        self.met = 0

    def generate(self, messages, params, n=1, sample_offset=0, tools=None):
        try:
            self.barrier.wait()
            self.met += 1
        except threading.BrokenBarrierError:
            pass
        return [Completion(messages[-1]["content"])] * n


def _two_concurrent_calls(model: Model) -> list[str]:
    from reasonlab.models.base import GenParams

    gate = ModelGate(model, merge_identical=False)
    outs: list[str] = []

    def call(client: str, q: str) -> None:
        outs.append(GatedModel(gate, client, threading.Event()).generate(
            [{"role": "user", "content": q}], GenParams())[0].text)

    threads = [threading.Thread(target=call, args=(f"c{i}", f"q{i}")) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outs)


def test_gate_lets_a_batching_backend_decode_calls_together():
    model = Barrier(batches=True)
    assert _two_concurrent_calls(model) == ["q0", "q1"] and model.met == 2


def test_gate_serialises_a_backend_that_does_not_batch():
    model = Barrier(batches=False)
    assert _two_concurrent_calls(model) == ["q0", "q1"] and model.met == 0
