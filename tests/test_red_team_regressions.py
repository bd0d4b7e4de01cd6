"""Regressions from re-running the hardening probes (issue 12): one test per hole found and fixed."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from reasonlab.cache import Cache, cache_key
from reasonlab.graphs.drawn import _lenient
from reasonlab.models.base import Completion, GenParams
from reasonlab.server import ServerConfig
from reasonlab.server.app import create_app
from reasonlab.server.testing import LiveServer

BOMB = "\n".join(["a: &a [" + ", ".join(['"lol"'] * 9) + "]"]
                 + [f"{n}: &{n} [" + ", ".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
                 + ["nodes: *i"]) + "\n"


def test_drawn_graph_reply_is_read_with_the_bounded_yaml_reader():
    """A model's reply is untrusted: an alias bomb in it is refused, not expanded by whoever reads it."""
    assert _lenient(BOMB) is None
    assert _lenient("{nodes: [{id: a, ask: 'x'}],}") == {"nodes": [{"id": "a", "ask": "x"}]}


def test_traces_and_responses_do_not_reveal_the_servers_model_paths(tmp_path: Path):
    script = tmp_path / "secret-dir" / "m.json"
    script.parent.mkdir()
    script.write_text(json.dumps({"default": "The answer is 5."}), encoding="utf-8")
    with LiveServer(create_app(ServerConfig(models=[f"scripted:{script}"]))) as srv:
        body = {"model": "zero-shot-cot/m", "messages": [{"role": "user", "content": "2+3?"}]}
        r = httpx.post(srv.url + "/v1/chat/completions", json=body, timeout=30)
        assert r.status_code == 200
        trace = httpx.get(srv.url + f"/v1/traces/{r.json()['id']}", timeout=10)
        with httpx.stream("POST", srv.url + "/v1/chat/completions", json={**body, "stream": True}, timeout=30) as s:
            stream = "".join(s.iter_text())
    for text in (r.text, trace.text, stream):
        assert "secret-dir" not in text and str(tmp_path) not in text
    assert trace.json()["model"] == "m" and {c["model"] for c in trace.json()["calls"]} == {"m"}


def test_cache_round_trips_a_reply_with_a_lone_surrogate(tmp_path: Path):
    cache = Cache(tmp_path / "c.sqlite")
    key = cache_key("m", [{"role": "user", "content": "x\ud800"}], GenParams(), 0)  # a key, not a crash
    reply = Completion(text="The answer is \ud800 5.", prompt_tokens=1, completion_tokens=2)
    cache.put(key, reply)
    assert cache.get(key).text == reply.text
