"""`ollama:NAME[@URL]` against a stub that answers like Ollama's OpenAI-compatible API (one choice
whatever `n` asks, no prompt log-probabilities), and the grammar fallback for servers that refuse it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from reasonlab.models import GenParams, NotSupported, load_model, parse_spec
from reasonlab.models.openai_api import OpenAIModel


class Stub:
    """Ollama-like: /v1/chat/completions returns a single choice; optional 400 on a `grammar` field."""

    def __init__(self, reject_grammar: bool = False) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.reject_grammar = reject_grammar
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, status: int, obj: dict[str, Any]) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/v1/models":
                    return self._send(200, {"object": "list", "data": [
                        {"id": "llama3.2:1b", "object": "model", "owned_by": "library"}]})
                self._send(404, {"error": "not found"})

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append((self.path, body))
                if self.path == "/v1/chat/completions":
                    if stub.reject_grammar and "grammar" in body:
                        return self._send(400, {"error": {"message": "Unrecognized request argument: grammar"}})
                    seed = body.get("seed", 0)
                    return self._send(200, {
                        "id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": f"The answer is {seed}."}}],
                        "usage": {"prompt_tokens": 7, "completion_tokens": 5}})
                if self.path == "/v1/completions":  # Ollama ignores echo/logprobs
                    return self._send(200, {"choices": [{"index": 0, "text": "x", "finish_reason": "length"}]})
                self._send(404, {"error": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub():
    s = Stub()
    yield s
    s.close()


def test_ollama_spec_defaults(monkeypatch):
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    ms = parse_spec("ollama:llama3.2:1b")
    assert (ms.backend, ms.target, ms.base_url) == ("openai", "llama3.2:1b", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("OLLAMA_HOST", "10.0.0.5")
    assert parse_spec("ollama:qwen2.5").base_url == "http://10.0.0.5:11434/v1"
    monkeypatch.setenv("OLLAMA_HOST", "http://gpu-box:8000")
    assert parse_spec("ollama:qwen2.5").base_url == "http://gpu-box:8000/v1"
    assert parse_spec("ollama:qwen2.5@http://h:1/v1").base_url == "http://h:1/v1"


def test_ollama_samples_one_request_each_when_n_is_ignored(stub):
    model = load_model(f"ollama:llama3.2:1b@{stub.url}/v1")
    assert model.spec.startswith("ollama:") and model.identity == f"openai:llama3.2:1b@{stub.url}/v1"
    outs = model.generate([{"role": "user", "content": "hi"}], GenParams(temperature=0.7, seed=10), n=3)
    assert [o.text for o in outs] == ["The answer is 10.", "The answer is 11.", "The answer is 12."]
    assert [b["model"] for _, b in stub.requests] == ["llama3.2:1b"] * 3
    assert model.info().extra["n_honoured"] is False
    with pytest.raises(NotSupported):
        model.logprobs([{"role": "user", "content": "hi"}], " there")
    model.close()


def test_cli_ask_through_ollama_host(stub, tmp_path):
    env = {**os.environ, "OLLAMA_HOST": stub.url, "REASONLAB_CACHE": str(tmp_path / "c.sqlite")}
    out = subprocess.run([sys.executable, "-m", "reasonlab", "ask", "What is 2+2?", "--strategy", "direct",
                          "--model", "ollama:llama3.2:1b", "--seed", "4", "--json"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["answer"] == "4"


def test_grammar_refused_falls_back_once_and_is_remembered():
    s = Stub(reject_grammar=True)
    try:
        model = OpenAIModel("m", f"{s.url}/v1")
        params = GenParams(grammar='root ::= "x"')
        assert model.generate([{"role": "user", "content": "a"}], params)[0].text == "The answer is 0."
        model.generate([{"role": "user", "content": "b"}], params)
        sent = [("grammar" in b) for _, b in s.requests]
        assert sent == [True, False, False]  # refused once, then never sent again
        assert model.info().extra["grammar_accepted"] is False
    finally:
        s.close()


def test_grammar_field_is_configurable(stub, monkeypatch):
    monkeypatch.setenv("REASONLAB_GRAMMAR_FIELD", "guided_grammar")
    model = OpenAIModel("m", f"{stub.url}/v1")
    model.generate([{"role": "user", "content": "a"}], GenParams(grammar='root ::= "x"'))
    assert stub.requests[-1][1]["guided_grammar"] == 'root ::= "x"' and "grammar" not in stub.requests[-1][1]
    monkeypatch.setenv("REASONLAB_GRAMMAR_FIELD", "none")
    OpenAIModel("m", f"{stub.url}/v1").generate([{"role": "user", "content": "a"}], GenParams(grammar="r"))
    assert "guided_grammar" not in stub.requests[-1][1] and "grammar" not in stub.requests[-1][1]
