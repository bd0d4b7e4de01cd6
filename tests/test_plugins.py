"""Plugins through real entry points: the example package of docs/plugins.md is built into a wheel,
installed with `pip install --target`, and used by name through the CLI (ask, eval, serve, tools);
a broken plugin beside it is reported in one line and skipped."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```\w+ file=(\S+)\n(.*?)^```", re.M | re.S)


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> Path:
    """A folder holding the installed example plugin and a broken one (hand-written .dist-info)."""
    base = tmp_path_factory.mktemp("plugin")
    src = base / "reasonlab-shout"
    blocks = BLOCK.findall((ROOT / "docs" / "plugins.md").read_text(encoding="utf-8"))
    assert {name for name, _ in blocks} == {"pyproject.toml", "reasonlab_shout/__init__.py"}
    for name, text in blocks:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text, encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(base / "dist"), str(src)],
                   check=True, timeout=300, cwd=base)
    wheel = next((base / "dist").glob("reasonlab_shout-0.1.0-*.whl"))
    target = base / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True, timeout=300)
    broken = target / "reasonlab_broken-0.1.dist-info"
    broken.mkdir()
    (broken / "METADATA").write_text("Metadata-Version: 2.1\nName: reasonlab-broken\nVersion: 0.1\n")
    (broken / "entry_points.txt").write_text("[reasonlab.strategies]\nbroken = reasonlab_no_such_module:Nope\n")
    return target


def _env(path: Path, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(path), "REASONLAB_CACHE": str(tmp_path / "cache.sqlite")}


def _cli(path: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reasonlab", *args], capture_output=True, text=True,
                          env=_env(path, tmp_path), timeout=300, cwd=tmp_path)


def test_plugin_strategy_is_listed_and_broken_one_is_one_line(plugin_path, tmp_path):
    out = _cli(plugin_path, tmp_path, "strategies")
    assert out.returncode == 0, out.stderr
    assert re.search(r"^\s*shout\b", out.stdout, re.M), out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "plugin 'broken'" in lines[0] and "skipped" in lines[0]
    assert "reasonlab_no_such_module" in lines[0]


def test_plugins_command_says_where_each_comes_from(plugin_path, tmp_path):
    out = _cli(plugin_path, tmp_path, "plugins", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["groups"]["reasonlab.strategies"]["shout"].startswith("reasonlab-shout 0.1.0")
    assert set(report["groups"]["reasonlab.models"]) == {"echo"}
    assert set(report["groups"]["reasonlab.datasets"]) == {"countdown"}
    assert set(report["groups"]["reasonlab.tools"]) == {"reverse_text"}
    assert len(report["problems"]) == 1


def test_ask_with_plugin_strategy_and_model(plugin_path, tmp_path):
    out = _cli(plugin_path, tmp_path, "ask", "What is 2 + 5?", "--strategy", "shout", "--model", "echo:seven",
               "--json", "-o", "marker=ANSWER:")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert (result["answer"], result["strategy"], result["model"]) == ("SEVEN", "shout", "echo:seven")
    dry = _cli(plugin_path, tmp_path, "ask", "What is 2 + 5?", "--strategy", "shout", "--dry-run")
    assert dry.returncode == 0 and "Write ANSWER: and then the answer" in dry.stdout


def test_eval_with_plugin_dataset(plugin_path, tmp_path):
    out = _cli(plugin_path, tmp_path, "eval", "-d", "countdown:3", "-s", "shout", "-m", "echo:2",
               "--out", str(tmp_path / "run"), "--no-plots", "--no-progress", "--no-smooth")
    assert out.returncode == 0, out.stderr
    assert "3 tasks run now (0 errored)" in out.stdout
    rows = list(csv_rows(tmp_path / "run" / "results.csv"))
    assert sorted((r["item_id"], r["prediction"]) for r in rows) == [("1", "2"), ("2", "2"), ("3", "2")]
    bad = _cli(plugin_path, tmp_path, "eval", "-d", "countdown:x", "-s", "shout", "-m", "echo:2",
               "--out", str(tmp_path / "run2"))
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1] == \
        "reasonlab: error: countdown:x: N must be a whole number"


def csv_rows(path: Path):
    import csv

    with path.open(encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def test_plugin_tool_is_callable(plugin_path, tmp_path):
    code = ("from reasonlab.tools import call_tool, list_tools; "
            "print(call_tool('reverse_text', {'text': 'abc'}), 'calculator' in list_tools())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_env(plugin_path, tmp_path), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["cba", "True"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.server
def test_serve_with_plugin_strategy(plugin_path, tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "reasonlab", "serve", "--port", str(port), "--strategy", "shout",
                             "--model", "echo:seven", "--log-level", "warning"],
                            env=_env(plugin_path, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"server exited: {proc.stderr.read()}")
            time.sleep(0.2)
        strategies = httpx.get(f"{base}/v1/strategies", timeout=10).json()
        assert "shout" in json.dumps(strategies)
        reply = httpx.post(f"{base}/v1/chat/completions", timeout=60,
                           json={"messages": [{"role": "user", "content": "What is 2 + 5?"}]})
        assert reply.status_code == 200, reply.text
        assert "SEVEN" in reply.json()["choices"][0]["message"]["content"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_registry_keeps_builtins_and_skips_wrong_kinds(tmp_path, monkeypatch, capsys):
    """In-process: a plugin may not replace a built-in, and an entry point of the wrong kind is one line."""
    from reasonlab.discover import Registry, load_plugins
    from reasonlab.strategies import Strategy, get_strategy

    (tmp_path / "reasonlab_test_plug.py").write_text(
        "from reasonlab import Strategy\n"
        "class Impostor(Strategy):\n    name = 'direct'\n"
        "class Fine(Strategy):\n    name = 'fine'\n"
        "thing = 42\n")
    info = tmp_path / "reasonlab_test_plug-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: reasonlab-test-plug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[reasonlab.test_group]\nimpostor = reasonlab_test_plug:Impostor\n"
                                           "fine = reasonlab_test_plug:Fine\nthing = reasonlab_test_plug:thing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    direct = type(get_strategy("direct"))
    reg = Registry("reasonlab.strategies", skip=("base",), group="reasonlab.test_group", kind=Strategy)
    reg["direct"] = direct
    reg.loaded()
    assert reg["direct"] is direct and reg["fine"].__name__ == "Fine" and "thing" not in reg
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert any("plugin 'thing' (reasonlab.test_group) skipped: 42 is not a Strategy subclass" in e for e in err)
    assert any("tried to replace the built-in 'direct'" in e for e in err)
    assert set(load_plugins("reasonlab.test_group")) == {"impostor", "fine", "thing"}


def test_registry_loaded_from_many_threads_waits_for_the_imports(tmp_path, monkeypatch):
    """A thread asking while another imports sees the full registry, never a partial one."""
    import threading

    from reasonlab.discover import Registry

    pkg = tmp_path / "slowpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from reasonlab.discover import Registry\nREG = Registry('slowpkg')\n")
    for i in range(3):
        (pkg / f"m{i}.py").write_text(f"import time\nfrom slowpkg import REG\ntime.sleep(0.2)\nREG['m{i}'] = {i}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import slowpkg

    reg: Registry = slowpkg.REG
    seen: list[int] = []
    threads = [threading.Thread(target=lambda: seen.append(len(reg.loaded()))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [3] * 6
    for name in [m for m in sys.modules if m == "slowpkg" or m.startswith("slowpkg.")]:
        monkeypatch.delitem(sys.modules, name)
