"""Clients are separate (one per key, traces private), and foreign web pages can't drive the server."""

from __future__ import annotations

import json

import httpx
import pytest

from reasonlab.server import ServerConfig
from reasonlab.server.app import create_app
from reasonlab.server.config import accepted_hosts, resolve_api_keys
from reasonlab.server.security import client_id, host_name
from reasonlab.server.testing import LiveServer
from reasonlab.server.traces import TraceStore

ALICE, BOB, ADMIN = "alice-key-0123", "bob-key-4567", "admin-key-89ab"
Q = {"model": "direct/m", "messages": [{"role": "user", "content": "2+3?"}]}


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("iso") / "m.json"
    path.write_text(json.dumps({"default": "The answer is 5."}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def multi(script):
    app = create_app(ServerConfig(models=[f"scripted:{script}"], api_keys=[ALICE, BOB], admin_key=ADMIN))
    with LiveServer(app) as srv:
        yield srv


@pytest.fixture(scope="module")
def open_server(script):
    with LiveServer(create_app(ServerConfig(models=[f"scripted:{script}"]))) as srv:
        yield srv


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_trace_store_is_per_owner():
    store = TraceStore(limit=3)
    store.put("a1", {"x": 1}, owner="A")
    store.put("b1", {"x": 2}, owner="B")
    assert store.get("a1", "A") == {"x": 1}
    assert store.get("a1", "B") is None and store.ids("B") == ["b1"]
    assert store.get("a1", "B", admin=True) == {"x": 1} and store.ids("Z", admin=True) == ["b1", "a1"]
    for i in range(5):
        store.put(f"c{i}", {}, owner="A")
    assert len(store) == 3 and store.get("a1", "A") is None  # bounded: the oldest went first


def test_keys_from_flags_and_environment(monkeypatch):
    monkeypatch.setenv("REASONLAB_API_KEYS", "k1, k2,,k1")
    monkeypatch.setenv("REASONLAB_API_KEY", "k3")
    assert resolve_api_keys(()) == ["k1", "k2", "k3"]
    assert resolve_api_keys(("given",)) == ["given"]
    assert client_id("k1") == client_id("k1") != client_id("k2") and "k1" not in client_id("k1")
    assert ServerConfig(api_key="solo").api_keys == ["solo"]


def test_host_rules():
    assert host_name("Example.org:8000") == "example.org" and host_name("[::1]:80") == "::1"
    assert accepted_hosts(ServerConfig()) == ["localhost", "127.0.0.1", "::1"]
    assert accepted_hosts(ServerConfig(host="0.0.0.0", api_key="k")) is None
    assert accepted_hosts(ServerConfig(host="0.0.0.0", api_key="k", allowed_hosts=["box.lan"])) == ["box.lan"]


@pytest.mark.server
def test_each_key_sees_only_its_own_traces(multi):
    url = multi.url
    a = httpx.post(url + "/v1/chat/completions", json=Q, headers=auth(ALICE)).json()
    b = httpx.post(url + "/v1/chat/completions", json=Q, headers=auth(BOB)).json()
    ta, tb = a["reasonlab"]["trace_id"], b["reasonlab"]["trace_id"]
    assert len(ta.removeprefix("chatcmpl-")) >= 32  # unguessable ids
    assert httpx.get(f"{url}/v1/traces/{ta}", headers=auth(ALICE)).status_code == 200
    other = httpx.get(f"{url}/v1/traces/{ta}", headers=auth(BOB))
    missing = httpx.get(f"{url}/v1/traces/chatcmpl-nope", headers=auth(BOB))
    assert other.status_code == missing.status_code == 404  # indistinguishable from a missing trace
    assert other.json()["error"]["code"] == "trace_not_found"
    assert ta in httpx.get(url + "/v1/traces", headers=auth(ALICE)).json()["data"]
    assert ta not in httpx.get(url + "/v1/traces", headers=auth(BOB)).json()["data"]
    everything = httpx.get(url + "/v1/traces", headers=auth(ADMIN)).json()["data"]
    assert ta in everything and tb in everything
    assert httpx.get(f"{url}/v1/traces/{tb}", headers=auth(ADMIN)).status_code == 200
    assert httpx.get(url + "/v1/traces", headers=auth("nobody")).status_code == 401


@pytest.mark.server
def test_cross_site_requests_are_refused(open_server):
    url = open_server.url
    rebinding = httpx.get(url + "/v1/models", headers={"Host": "evil.example:8000"})
    assert rebinding.status_code == 421 and rebinding.json()["error"]["code"] == "host_not_allowed"
    assert httpx.get(url + "/v1/models", headers={"Host": "localhost:1234"}).status_code == 200
    # a page elsewhere posting a "simple" request (no preflight): text/plain or a form
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        r = httpx.post(url + "/v1/chat/completions", content=json.dumps(Q), headers={"Content-Type": ctype})
        assert r.status_code == 415, ctype
    foreign = httpx.post(url + "/v1/chat/completions", json=Q, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "cross_origin"
    assert httpx.post(url + "/v1/chat/completions", json=Q, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    same = httpx.post(url + "/v1/chat/completions", json=Q, headers={"Origin": url})
    assert same.status_code == 200 and same.json()["choices"][0]["message"]["content"] == "5"
