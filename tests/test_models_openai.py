"""The OpenAI-compatible backend against a small fake server started in-test on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from reasonlab.models import GenParams, ModelError, NotSupported, load_model
from reasonlab.models.openai_api import OpenAIModel


class FakeServer:
    """An OpenAI-like server whose behaviour each test sets: honour n or not, fail first, garbage."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.honour_n = True
        self.fail_first: list[int] = []  # status codes returned by the first requests, in order
        self.garbage: bytes | None = None
        self.tool_calls: list[dict[str, Any]] | None = None
        self.completions_reply: dict[str, Any] | None = None
        self.reject_n = False  # answer 400 to any request with n > 1
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.requests.append(body)
                    fake.headers.append(dict(self.headers))
                    status = fake.fail_first.pop(0) if fake.fail_first else 200
                    if fake.reject_n and body.get("n", 1) > 1:
                        status = 400
                if status != 200:
                    self._send(status, {"error": {"message": f"try again ({status})"}})
                elif fake.garbage is not None:
                    self._raw(200, fake.garbage)
                elif self.path.endswith("/chat/completions"):
                    self._send(200, fake.chat(body))
                elif self.path.endswith("/completions") and fake.completions_reply is not None:
                    self._send(200, fake.completions_reply)
                else:
                    self._send(404, {"error": {"message": "no such endpoint"}})

            def _send(self, status: int, obj: dict[str, Any]) -> None:
                self._raw(status, json.dumps(obj).encode())

            def _raw(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        n = body.get("n", 1) if self.honour_n else 1
        seed = body.get("seed")
        choices = []
        for i in range(n):
            msg: dict[str, Any] = {"role": "assistant", "content": f"seed {seed} choice {i}"}
            if self.tool_calls is not None:
                msg = {"role": "assistant", "content": None, "tool_calls": self.tool_calls}
            choices.append({"index": i, "message": msg, "finish_reason": "stop"})
        return {"choices": choices, "usage": {"prompt_tokens": 7, "completion_tokens": 4 * n}}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


def _model(server: FakeServer, **kw: Any) -> OpenAIModel:
    kw.setdefault("backoff", 0.01)
    return OpenAIModel("fake", server.url, **kw)


MSG = [{"role": "user", "content": "What is 2+2?"}]
PARAMS = GenParams.make(temperature=0.7, max_tokens=16, stop=["\n\n"], seed=5)


def test_request_body_and_reply(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    m = _model(server)
    [c] = m.generate(MSG, PARAMS)
    assert c.text == "seed 5 choice 0"
    assert (c.prompt_tokens, c.completion_tokens) == (7, 4)
    body = server.requests[0]
    assert body["max_tokens"] == 16 and "max_completion_tokens" not in body
    assert body["temperature"] == 0.7 and body["top_p"] == 1.0 and body["stop"] == ["\n\n"]
    assert body["seed"] == 5 and body["model"] == "fake" and "n" not in body
    assert server.headers[0]["Authorization"] == "Bearer sk-test"
    assert m.identity == f"openai:fake@{server.url}"


def test_n_honoured_is_one_request(server):
    m = _model(server)
    outs = m.generate(MSG, PARAMS, n=3, sample_offset=10)
    assert [c.text for c in outs] == ["seed 15 choice 0", "seed 15 choice 1", "seed 15 choice 2"]
    assert len(server.requests) == 1 and server.requests[0]["n"] == 3
    assert sum(c.completion_tokens for c in outs) == 12


def test_n_ignored_falls_back_to_concurrent_requests_with_own_seeds(server):
    server.honour_n = False
    m = _model(server, concurrency=2)
    outs = m.generate(MSG, PARAMS, n=4, sample_offset=0)
    assert len(outs) == 4
    assert sorted(c.text for c in outs) == [f"seed {s} choice 0" for s in (5, 6, 7, 8)]
    assert [c.text for c in outs] == [f"seed {s} choice 0" for s in (5, 6, 7, 8)]  # sample order kept
    assert len(server.requests) == 4
    # Once learnt, the next call sends single requests only.
    server.requests.clear()
    outs = m.generate(MSG, PARAMS, n=2, sample_offset=4)
    assert [c.text for c in outs] == ["seed 9 choice 0", "seed 10 choice 0"]
    assert all("n" not in r for r in server.requests)


def test_server_rejecting_n_gets_single_requests(server):
    server.reject_n = True
    outs = _model(server).generate(MSG, PARAMS, n=3)
    assert [c.text for c in outs] == [f"seed {s} choice 0" for s in (5, 6, 7)]
    assert [r.get("n", 1) for r in server.requests] == [3, 1, 1, 1]


@pytest.mark.parametrize("status", [500, 429, 503])
def test_retries_on_retryable_status(server, status):
    server.fail_first = [status, status]
    m = _model(server, max_retries=3)
    [c] = m.generate(MSG, PARAMS)
    assert c.text == "seed 5 choice 0"
    assert len(server.requests) == 3


def test_retries_are_bounded(server):
    server.fail_first = [500] * 10
    m = _model(server, max_retries=2)
    with pytest.raises(ModelError, match=r"HTTP 500: try again \(500\)"):
        m.generate(MSG, PARAMS)
    assert len(server.requests) == 3


def test_client_error_is_not_retried(server):
    server.fail_first = [400]
    m = _model(server)
    with pytest.raises(ModelError, match="HTTP 400"):
        m.generate(MSG, PARAMS)
    assert len(server.requests) == 1


def test_garbage_reply_is_one_line_error(server):
    server.garbage = b"<html>\nnot json at all\n</html>"
    m = _model(server)
    with pytest.raises(ModelError) as e:
        m.generate(MSG, PARAMS)
    assert "not JSON" in str(e.value) and "\n" not in str(e.value)


def test_reply_without_choices(server):
    server.garbage = b'{"object": "chat.completion"}'
    with pytest.raises(ModelError, match="no choices"):
        _model(server).generate(MSG, PARAMS)


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dead_server_is_one_clear_line():
    url = f"http://127.0.0.1:{_dead_port()}/v1"
    m = OpenAIModel("x", url, max_retries=1, backoff=0.01)
    with pytest.raises(ModelError) as e:
        m.generate(MSG, PARAMS)
    msg = str(e.value)
    assert msg.startswith(f"cannot reach {url}: ") and "refused" in msg and "\n" not in msg


def test_tool_calls_are_parsed(server):
    server.tool_calls = [{"id": "call_1", "type": "function",
                          "function": {"name": "calculator", "arguments": "{\"expression\": \"2+2\"}"}}]
    tools = [{"type": "function", "function": {"name": "calculator", "parameters": {"type": "object"}}}]
    [c] = _model(server).generate(MSG, PARAMS, tools=tools)
    assert c.text == ""
    assert c.tool_calls == [{"name": "calculator", "arguments": {"expression": "2+2"}, "id": "call_1"}]
    assert server.requests[0]["tools"] == tools


def test_logprobs_from_completions_echo(server):
    prompt = "Question: What is 2+2?\nAnswer:"
    server.completions_reply = {"choices": [{"text": prompt + " 4.", "logprobs": {
        "tokens": ["Question", ":", " 4", ".", "\n"],
        "text_offset": [0, 8, len(prompt), len(prompt) + 2, len(prompt) + 3],
        "token_logprobs": [None, -0.5, -1.25, -0.75, -3.0]}}]}
    scores = _model(server).logprobs(MSG, " 4.")
    assert scores == [-1.25, -0.75]
    assert server.requests[0]["echo"] is True and server.requests[0]["prompt"] == prompt + " 4."


def test_logprobs_unsupported(server):
    with pytest.raises(NotSupported):
        _model(server).logprobs(MSG, " 4")


def test_spec_builds_openai_model(server):
    m = load_model(f"openai:fake@{server.url}")
    assert isinstance(m, OpenAIModel) and m.base_url == server.url and m.spec == f"openai:fake@{server.url}"


def test_mock_transport_timeout_then_success():
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"choices": [{"index": 0, "message": {"content": "ok"}}]})

    m = OpenAIModel("x", "http://fake.invalid/v1", transport=httpx.MockTransport(handler), backoff=0.0)
    assert m.generate(MSG, PARAMS)[0].text == "ok"
    assert calls["n"] == 2


def _cli(*args: str, cache: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "REASONLAB_CACHE": cache}
    return subprocess.run([sys.executable, "-m", "reasonlab", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_cli_dead_server_is_one_line(tmp_path):
    url = f"http://127.0.0.1:{_dead_port()}/v1"
    r = _cli("ask", "What is 2+2?", "--model", f"openai:x@{url}", cache=str(tmp_path / "c.sqlite"))
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == [f"reasonlab: error: cannot reach {url}: connection refused"]


def test_cli_garbage_server_is_one_line_and_caches_nothing(server, tmp_path):
    server.garbage = b"Internal hiccup <html>"
    cache = tmp_path / "c.sqlite"
    r = _cli("ask", "What is 2+2?", "--model", f"openai:x@{server.url}", cache=str(cache))
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reasonlab: error: ") and "not JSON" in lines[0]
    if cache.exists():
        import sqlite3

        assert sqlite3.connect(cache).execute("SELECT COUNT(*) FROM completions").fetchone()[0] == 0
