"""One request to the real embedded model through the server (structure only, never its words)."""

from __future__ import annotations

import openai
import pytest

from reasonlab.server import ServerConfig
from reasonlab.server.app import create_app
from reasonlab.server.testing import LiveServer

pytestmark = [pytest.mark.server, pytest.mark.embedded]


def test_embedded_model_answers_through_the_api(tmp_path, monkeypatch):
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "cache.sqlite"))
    app = create_app(ServerConfig(models=["smollm2"], threads=1))  # 1 thread: fast on a busy machine too
    with LiveServer(app) as srv:
        client = openai.OpenAI(base_url=srv.url + "/v1", api_key="x", max_retries=0, timeout=120)
        r = client.chat.completions.create(
            model="zero-shot-cot/smollm2", max_tokens=24,
            messages=[{"role": "user", "content": "A pen costs 3 dollars. How much do 4 pens cost?"}])
        assert isinstance(r.choices[0].message.content, str)
        trace = r.model_extra["reasonlab"]["trace"]
        assert [c["label"] for c in trace["calls"]] == ["reasoning", "extract"]
        assert all(c["model"] == "smollm2" for c in trace["calls"])
        assert r.usage.completion_tokens > 0 and r.usage.prompt_tokens > 0
        chunks = list(client.chat.completions.create(
            model="chat/smollm2", max_tokens=8, stream=True, messages=[{"role": "user", "content": "Hello!"}]))
        assert chunks[-1].choices[0].finish_reason == "stop"
