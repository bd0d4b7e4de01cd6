"""The operator's sandbox ceilings (`serve --sandbox-memory-mb/--sandbox-timeout-s`): requests may only
tighten them, strategy defaults and tools stay under them, and `/v1/strategies` says what a client may set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reasonlab.errors import InputError
from reasonlab.sandbox import Limits, capped, detect, run_code, set_ceiling
from reasonlab.server import ServerConfig
from reasonlab.server.testing import free_port

BIG = "def solution():\n    x = bytearray(300 * 1024 * 1024)\n    return 6 * 7\n"
SMALL = "def solution():\n    x = bytearray(20 * 1024 * 1024)\n    return 6 * 7\n"


def _reply(program: str) -> str:
    return "Here is the program.\n```python\n" + program + "```"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ceiling")
    script = tmp / "m.json"
    script.write_text(json.dumps({"by_prompt": {"big one": _reply(BIG), "small one": _reply(SMALL)},
                                  "default": "The answer is 5."}), encoding="utf-8")
    port = free_port()
    log = tmp / "server.log"
    env = {**os.environ, "REASONLAB_CACHE": str(tmp / "cache.sqlite"), "OMP_WAIT_POLICY": "PASSIVE"}
    with log.open("w") as f:
        proc = subprocess.Popen([sys.executable, "-m", "reasonlab", "serve", "--model", f"scripted:{script}",
                                 "--port", str(port), "--sandbox-memory-mb", "100", "--sandbox-timeout-s", "4",
                                 "--log-level", "warning"], stdout=f, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(log.read_text()[-2000:])
    yield url
    proc.terminate()
    proc.wait(10)
    assert "Traceback" not in log.read_text()


def _ask(url: str, question: str, options: dict | None = None) -> httpx.Response:
    body = {"model": "pal/m", "messages": [{"role": "user", "content": question}],
            "reasonlab": {"options": {"samples": 1, "rounds": 0, **(options or {})}}}
    return httpx.post(url + "/v1/chat/completions", json=body, timeout=120)


def test_strategies_list_what_a_client_may_set(server):
    pal = httpx.get(server + "/v1/strategies", timeout=10).json()["strategies"]["pal"]
    by_name = {o["name"]: o for o in pal["options"]}
    assert by_name["memory_mb"]["client"]["max"] == 100 and by_name["timeout_s"]["client"]["max"] == 4
    assert "unsafe_exec" not in pal["client_options"] and "client" not in by_name["unsafe_exec"]
    assert "memory_mb" in pal["client_options"] and "choices" in by_name["exemplars"]["client"]


@pytest.mark.skipif(detect().backend not in ("bwrap", "landlock"), reason="no sandbox backend here")
def test_default_limits_stay_under_the_ceiling(server):
    small = _ask(server, "the small one?")
    assert small.status_code == 200 and "42" in small.json()["choices"][0]["message"]["content"]
    big = _ask(server, "the big one?")  # pal's default is 512 MiB; the operator allows 100
    assert big.status_code == 200 and "42" not in big.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize("options, code", [({"memory_mb": 200}, "option_limit"), ({"timeout_s": 9.0}, "option_limit"),
                                           ({"memory_mb": -1}, "invalid_option"), ({"memory_mb": "50"}, "invalid_option"),
                                           ({"unsafe_exec": True}, "forbidden_option")])
def test_requests_may_only_tighten(server, options, code):
    r = _ask(server, "the small one?", options)
    assert r.status_code == 400 and r.json()["error"]["code"] == code, r.text


def test_tighter_request_is_accepted(server):
    r = _ask(server, "the small one?", {"memory_mb": 64, "timeout_s": 2.0})
    assert r.status_code == 200


@pytest.mark.parametrize("flag, value", [("--sandbox-memory-mb", "-1"), ("--sandbox-memory-mb", "0"),
                                         ("--sandbox-timeout-s", "nan"), ("--sandbox-timeout-s", "inf")])
def test_bad_ceilings_are_refused_at_start(tmp_path: Path, flag: str, value: str):
    p = subprocess.run([sys.executable, "-m", "reasonlab", "serve", "--model", "scripted:x.json", flag, value,
                        "--port", str(free_port())], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "sandbox" in p.stderr, p.stderr


def test_config_checks_its_ceilings():
    with pytest.raises(InputError, match="sandbox ceiling"):
        ServerConfig(models=["m"], sandbox_memory_mb=-1)
    assert ServerConfig(models=["m"], sandbox_memory_mb=64).sandbox_limits().memory_mb == 64


def test_process_ceiling_caps_fixed_limits():
    set_ceiling(memory_mb=64, timeout_s=2)
    try:
        lim = capped(Limits(memory_mb=512, timeout_s=10, cpu_s=5))
        assert (lim.memory_mb, lim.timeout_s, lim.cpu_s) == (64, 2.0, 2)
        assert capped(Limits(memory_mb=32)).memory_mb == 32  # tighter values stay
        if detect().backend in ("bwrap", "landlock"):
            r = run_code("x = bytearray(200 * 1024 * 1024)\nprint('allocated')", Limits(memory_mb=512))
            assert "allocated" not in r.stdout
    finally:
        set_ceiling()
    assert capped(Limits(memory_mb=512)).memory_mb == 512
    with pytest.raises(InputError):
        set_ceiling(memory_mb=-1)
