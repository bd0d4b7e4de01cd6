"""Bind rules and the API key: loopback by default, a key required elsewhere and checked everywhere."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time

import httpx
import openai
import pytest

from reasonlab.errors import InputError
from reasonlab.server import ServerConfig, check_bind, is_loopback, resolve_api_key
from reasonlab.server.app import create_app
from reasonlab.server.testing import LiveServer, free_port

KEY = "s3cret-key"


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("auth") / "m.json"
    path.write_text(json.dumps({"default": "The answer is 5."}), encoding="utf-8")
    return path


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.1.2.3")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("example.org")


def test_non_loopback_bind_needs_a_key(monkeypatch):
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", "k")
    with pytest.raises(InputError, match="API key"):
        check_bind("0.0.0.0", None)
    monkeypatch.setenv("REASONLAB_API_KEY", "from-env")
    assert resolve_api_key(None) == "from-env"
    assert resolve_api_key("given") == "given"
    monkeypatch.setenv("REASONLAB_API_KEY", "")
    assert resolve_api_key(None) is None


def _cli(*args: str, env: dict[str, str] | None = None, **kw) -> subprocess.Popen:
    e = {k: v for k, v in os.environ.items() if k != "REASONLAB_API_KEY"}
    e.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "reasonlab", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=e, **kw)


@pytest.mark.server
def test_cli_refuses_public_bind_without_key(script):
    p = _cli("serve", "--host", "0.0.0.0", "--port", str(free_port()), "--model", f"scripted:{script}")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 2
    assert "reasonlab: error:" in err and "API key" in err and "Traceback" not in err


@pytest.mark.server
def test_cli_public_bind_with_key_checks_every_endpoint(script):
    port = free_port()
    p = _cli("serve", "--host", "0.0.0.0", "--port", str(port), "--model", f"scripted:{script}",
             "--log-level", "warning", env={"REASONLAB_API_KEY": KEY})
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(url + "/health", timeout=2)
                break
            except httpx.TransportError:
                assert p.poll() is None, p.stderr.read()
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert r.status_code == 401
        for path in ("/", "/static/main.js", "/v1/models", "/v1/stats", "/v1/traces/x", "/nope"):
            assert httpx.get(url + path).status_code == 401, path
        assert httpx.post(url + "/", json={"prompt": "hi"}).status_code == 401
        ok = openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0)
        r = ok.chat.completions.create(model="direct/m", messages=[{"role": "user", "content": "2+3?"}])
        assert r.choices[0].message.content == "5"
    finally:
        p.terminate()
        p.wait(20)


@pytest.fixture(scope="module")
def keyed(script):
    app = create_app(ServerConfig(models=[f"scripted:{script}"], api_key=KEY))
    with LiveServer(app) as srv:
        yield srv


@pytest.mark.server
def test_missing_or_wrong_key_is_401(keyed):
    for key in ("wrong", "s3cret-ke", KEY + "x"):
        client = openai.OpenAI(base_url=keyed.url + "/v1", api_key=key, max_retries=0)
        with pytest.raises(openai.AuthenticationError) as info:
            client.models.list()
        assert info.value.response.json()["error"]["code"] == "invalid_api_key"
    r = httpx.post(keyed.url + "/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "q"}]})
    assert r.status_code == 401
    assert [h.split()[0] for h in r.headers.get_list("www-authenticate")] == ["Bearer", "Basic"]
    page = httpx.get(keyed.url + "/")
    assert page.status_code == 401 and "Basic" in page.headers.get_list("www-authenticate")[1]


@pytest.mark.server
def test_right_key_in_any_accepted_form(keyed):
    client = openai.OpenAI(base_url=keyed.url + "/v1", api_key=KEY, max_retries=0)
    assert any(m.id == "m" for m in client.models.list())
    assert httpx.get(keyed.url + "/v1/models", headers={"X-API-Key": KEY}).status_code == 200
    basic = base64.b64encode(f"me:{KEY}".encode()).decode()
    page = httpx.get(keyed.url + "/", headers={"Authorization": f"Basic {basic}"})
    assert page.status_code == 200 and "reasonlab" in page.text
