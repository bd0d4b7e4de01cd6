"""Token streaming and cancellation over HTTP with the real embedded model: reasoning arrives as
`reasoning_content` deltas while it is generated, the page's stream carries `delta` events, and
a client that disconnects stops the decoding."""

from __future__ import annotations

import json
import threading
import time

import httpx
import openai
import pytest

from reasonlab.server import ServerConfig
from reasonlab.server.app import create_app
from reasonlab.server.testing import LiveServer

pytestmark = [pytest.mark.server, pytest.mark.embedded]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = create_app(ServerConfig(models=["smollm2"], threads=1))
    with LiveServer(app) as srv:
        yield srv, app.state.service


def test_openai_stream_sends_reasoning_deltas_then_the_answer(server):
    srv, _ = server
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="x", max_retries=0, timeout=120)
    chunks = list(client.chat.completions.create(
        model="zero-shot-cot/smollm2", max_tokens=40, stream=True,
        messages=[{"role": "user", "content": "A pen costs 3 dollars. How much do 4 pens cost?"}]))
    reasoning = [c.choices[0].delta.model_extra.get("reasoning_content") for c in chunks]
    pieces = [r for r in reasoning if r]
    assert len(pieces) > 10 and pieces[0].startswith("[reasoning #0] ")  # token by token, not one block
    contents = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    first_content = next(i for i, c in enumerate(chunks) if c.choices[0].delta.content)
    last_reasoning = max(i for i, r in enumerate(reasoning) if r)
    assert contents and first_content > last_reasoning  # the answer after the reasoning
    events = [c.model_extra.get("reasonlab", {}).get("event") for c in chunks]
    assert "delta" in events and events.count("call") == 2
    calls = [c.model_extra["reasonlab"]["data"] for c in chunks if c.model_extra.get("reasonlab", {}).get("event") == "call"]
    assert all(c["finish_reason"] in ("stop", "length", "repetition") for c in calls)


def test_disconnect_stops_decoding(server):
    srv, service = server
    body = {"model": "chat/smollm2", "max_tokens": 1500, "stream": True,
            "messages": [{"role": "user", "content": "Write a very long story about a lighthouse."}]}
    deltas = 0
    with httpx.Client(timeout=60) as client, client.stream("POST", srv.url + "/v1/chat/completions", json=body) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                event = json.loads(line[6:]).get("reasonlab", {}).get("event")
                deltas += event == "delta"
            if deltas >= 5:
                break  # leaving the block closes the connection
    engine = service.models["smollm2"].engine
    deadline = time.monotonic() + 30
    while engine.active and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not engine.active  # the sequence left the batch long before 1,500 tokens
    stats = service.queue.snapshot()
    assert stats["cancelled"] + stats["completed"] >= 1 and stats["running"] == 0


def test_concurrent_requests_decode_in_one_batch(server):
    srv, service = server
    engine = service.models["smollm2"].engine
    engine.max_batch_seqs = 0
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="x", max_retries=0, timeout=120)
    answers: list[str] = []

    def ask(q: str) -> None:
        r = client.chat.completions.create(model="chat/smollm2", max_tokens=24, user=q,
                                           messages=[{"role": "user", "content": q}])
        answers.append(r.choices[0].message.content or "")

    threads = [threading.Thread(target=ask, args=(q,)) for q in ("Name a fruit.", "Name a color.", "Name a city.")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(answers) == 3 and engine.max_batch_seqs >= 2
