"""Fair queue, shared-model gate, 429 when full, and cancellation when the client goes away."""

from __future__ import annotations

import json
import threading
import time

import httpx
import openai
import pytest

from reasonlab.context import Cancelled
from reasonlab.models import GenParams
from reasonlab.models.scripted import ScriptedModel
from reasonlab.server import ServerConfig
from reasonlab.server.app import create_app
from reasonlab.server.gate import ModelGate
from reasonlab.server.scheduler import FairQueue, QueueFull
from reasonlab.server.testing import LiveServer


def wait_until(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


# -- the queue on its own ----------------------------------------------------------------------
def test_queue_serves_clients_round_robin():
    q = FairQueue(capacity=10, workers=1)
    gate, order = threading.Event(), []
    q.submit("block", "A", gate.wait)
    wait_until(lambda: q.snapshot()["running"] == 1)
    jobs = [q.submit(name, client, lambda name=name: order.append(name))
            for name, client in (("A1", "A"), ("A2", "A"), ("A3", "A"), ("B1", "B"), ("C1", "C"), ("B2", "B"))]
    gate.set()
    for j in jobs:
        j.future.result(5)
    assert order == ["A1", "B1", "C1", "A2", "B2", "A3"]
    q.close()


def test_queue_full_raises_with_retry_after():
    q = FairQueue(capacity=2, workers=1)
    gate = threading.Event()
    q.submit("1", "A", gate.wait)
    q.submit("2", "B", gate.wait)
    with pytest.raises(QueueFull) as info:
        q.submit("3", "C", gate.wait)
    assert info.value.retry_after >= 1
    assert q.snapshot()["rejected"] == 1
    gate.set()
    q.close()


def test_cancelled_waiting_job_leaves_the_queue():
    q = FairQueue(capacity=5, workers=1)
    gate, ran = threading.Event(), []
    q.submit("1", "A", gate.wait)
    wait_until(lambda: q.snapshot()["running"] == 1)
    job = q.submit("2", "B", lambda: ran.append("2"))
    q.cancel(job)
    with pytest.raises(Cancelled):
        job.future.result(1)
    assert q.snapshot()["waiting"] == 0 and q.snapshot()["cancelled"] == 1
    gate.set()
    time.sleep(0.1)
    assert ran == []
    q.close()


# -- the model gate ----------------------------------------------------------------------------
def test_gate_merges_identical_concurrent_calls():
    model = ScriptedModel(default="same", delay_s=0.3)
    gate = ModelGate(model)
    params = GenParams(max_tokens=8)
    msgs = [{"role": "user", "content": "q"}]
    out: list = []
    threads = [threading.Thread(target=lambda c=c: out.append(gate.generate(c, threading.Event(), msgs, params, 1, 0, None)))
               for c in ("A", "B", "C")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [o[0].text for o in out] == ["same"] * 3
    assert len(model.received) == 1
    assert gate.stats.calls == 1 and gate.stats.merged == 2


def test_gate_combines_sample_ranges_of_the_same_prompt():
    release = threading.Event()
    calls: list[tuple[str, int]] = []

    def reply(messages, params, index):
        if messages[-1]["content"] == "hold":
            release.wait(5)
        calls.append((messages[-1]["content"], index))
        return f"sample {index}"

    model = ScriptedModel(fn=reply)
    gate = ModelGate(model)
    msgs, params = [{"role": "user", "content": "P"}], GenParams(temperature=0.7)
    holder = threading.Thread(target=gate.generate, args=("H", threading.Event(), [{"role": "user", "content": "hold"}],
                                                          params, 1, 0, None))
    holder.start()
    wait_until(lambda: gate.snapshot()["busy"])
    out: dict[str, list[str]] = {}

    def ask(client, n, offset):
        out[client] = [c.text for c in gate.generate(client, threading.Event(), msgs, params, n, offset, None)]

    threads = [threading.Thread(target=ask, args=a) for a in (("A", 4, 0), ("B", 4, 4), ("C", 2, 2))]
    for t in threads:
        t.start()
        time.sleep(0.1)
    release.set()
    for t in [holder, *threads]:
        t.join(5)
    assert out["A"] == [f"sample {i}" for i in range(4)]
    assert out["B"] == [f"sample {i}" for i in range(4, 8)]
    assert out["C"] == ["sample 2", "sample 3"]
    assert len(model.received) == 2  # the held call, then one batched call of 8 samples
    assert [i for p, i in calls if p == "P"] == list(range(8))
    assert gate.stats.widened == 1 and gate.stats.merged == 2


def test_gate_does_not_merge_different_calls():
    model = ScriptedModel(default="x", delay_s=0.05)
    gate = ModelGate(model)
    threads = [threading.Thread(target=gate.generate, args=(c, threading.Event(), [{"role": "user", "content": c}],
                                                             GenParams(), 1, 0, None)) for c in "ABC"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(model.received) == 3 and gate.stats.merged == 0


def test_gate_alternates_between_clients():
    order: list[str] = []
    release = threading.Event()

    def reply(messages, params, index):
        text = messages[-1]["content"]
        if text == "first":
            release.wait(5)
        order.append(text)
        return text

    gate = ModelGate(ScriptedModel(fn=reply), merge_identical=False)
    call = lambda client, text: gate.generate(client, threading.Event(), [{"role": "user", "content": text}],  # noqa: E731
                                              GenParams(), 1, 0, None)
    first = threading.Thread(target=call, args=("A", "first"))
    first.start()
    wait_until(lambda: gate.snapshot()["busy"])
    threads = []
    for client, text in (("A", "a1"), ("A", "a2"), ("B", "b1")):
        threads.append(threading.Thread(target=call, args=(client, text)))
        threads[-1].start()
        wait_until(lambda n=len(threads): gate.snapshot()["waiting"] == n)
    release.set()
    for t in [first, *threads]:
        t.join(5)
    assert order == ["first", "a1", "b1", "a2"]


def test_gate_drops_cancelled_waiters():
    release = threading.Event()
    gate = ModelGate(ScriptedModel(fn=lambda m, p, i: release.wait(5) and "done"), merge_identical=False)
    holder = threading.Thread(target=gate.generate, args=("A", threading.Event(), [{"role": "user", "content": "1"}],
                                                          GenParams(), 1, 0, None))
    holder.start()
    wait_until(lambda: gate.snapshot()["busy"])
    cancel, box = threading.Event(), {}

    def waiter():
        try:
            gate.generate("B", cancel, [{"role": "user", "content": "2"}], GenParams(), 1, 0, None)
        except Cancelled as e:
            box["error"] = e

    t = threading.Thread(target=waiter)
    t.start()
    wait_until(lambda: gate.snapshot()["waiting"] == 1)
    cancel.set()
    t.join(5)
    assert isinstance(box.get("error"), Cancelled)
    assert gate.snapshot()["waiting"] == 0 and gate.stats.cancelled_waiting == 1
    release.set()
    holder.join(5)


# -- over HTTP ---------------------------------------------------------------------------------
@pytest.fixture()
def slow_server(tmp_path):
    path = tmp_path / "slow.json"
    path.write_text(json.dumps({"default": "The answer is 7.", "delay_s": 1.0}), encoding="utf-8")
    app = create_app(ServerConfig(models=[f"scripted:{path}"], queue_size=1, workers=1))
    with LiveServer(app) as srv:
        srv.service = app.state.service
        yield srv


@pytest.mark.server
def test_full_queue_answers_429_with_retry_after(slow_server):
    url = slow_server.url
    first = threading.Thread(target=httpx.post, args=(f"{url}/v1/chat/completions",),
                             kwargs={"json": {"model": "direct/slow", "messages": [{"role": "user", "content": "q"}]},
                                     "timeout": 30})
    first.start()
    wait_until(lambda: slow_server.service.queue.snapshot()["running"] == 1)
    client = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="direct/slow", messages=[{"role": "user", "content": "q2"}])
    resp = info.value.response
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert resp.json()["error"]["code"] == "queue_full"
    first.join()
    # room again once the first finished
    r = client.chat.completions.create(model="direct/slow", messages=[{"role": "user", "content": "q3"}])
    assert r.choices[0].message.content == "7"


@pytest.mark.server
def test_disconnect_cancels_the_run(slow_server):
    service = slow_server.service
    model = service.models["slow"]
    with pytest.raises(httpx.ReadTimeout):  # the client gives up during the first of two calls
        httpx.post(f"{slow_server.url}/v1/chat/completions", timeout=0.3,
                   json={"model": "zero-shot-cot/slow", "messages": [{"role": "user", "content": "3 + 4?"}]})
    wait_until(lambda: service.queue.snapshot()["cancelled"] == 1)
    time.sleep(1.2)  # a second call would have started by now
    assert len(model.received) <= 1  # (0 when the cancel came before the run even started)
    assert service.queue.snapshot()["running"] == 0


@pytest.mark.server
def test_stream_disconnect_cancels_the_run(slow_server):
    service = slow_server.service
    model = service.models["slow"]
    with httpx.stream("POST", f"{slow_server.url}/v1/chat/completions", timeout=10,
                      json={"model": "zero-shot-cot/slow", "stream": True,
                            "messages": [{"role": "user", "content": "3 + 4?"}]}) as r:
        first = next(r.iter_lines())
        assert first.startswith("data: ") and '"queued"' in first
    wait_until(lambda: service.queue.snapshot()["cancelled"] == 1)
    time.sleep(1.2)
    assert len(model.received) <= 1


@pytest.mark.server
def test_idle_stream_gets_keepalive_pings(slow_server, monkeypatch):
    import reasonlab.server.streaming as streaming

    monkeypatch.setattr(streaming, "PING_S", 0.2)
    lines = []
    with httpx.stream("POST", f"{slow_server.url}/v1/chat/completions", timeout=30,
                      json={"model": "direct/slow", "stream": True, "messages": [{"role": "user", "content": "q"}]}) as r:
        for line in r.iter_lines():
            lines.append(line)
    assert ": ping" in lines  # sent while the 1-second model call ran
    assert [x for x in lines if x][-1] == "data: [DONE]"
