"""`reasonlab sandbox run/check`, backend detection, refusal without isolation, and the Landlock fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasonlab.sandbox import Limits, SandboxInfo, SandboxUnavailable, detect, run_code
from reasonlab.sandbox.landlock import landlock_abi

SRC = str(Path(__file__).resolve().parents[1] / "src")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", "from reasonlab.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, input=stdin, timeout=120)


needs_sandbox = pytest.mark.skipif(detect().backend == "none", reason="no sandbox on this machine")


@needs_sandbox
@pytest.mark.sandbox
def test_cli_run_success(tmp_path):
    f = tmp_path / "ok.py"
    f.write_text("import math\nprint(math.gcd(12, 18))\n")
    p = cli("sandbox", "run", str(f))
    assert p.returncode == 0 and p.stdout == "6\n"
    assert "ok" in p.stderr


@needs_sandbox
@pytest.mark.sandbox
def test_cli_run_failure_exit_codes(tmp_path):
    f = tmp_path / "fail.py"
    f.write_text("import sys\nprint('partial')\nsys.exit(5)\n")
    p = cli("sandbox", "run", str(f))
    assert p.returncode == 5 and p.stdout == "partial\n" and "exit status 5" in p.stderr
    f.write_text("raise ValueError('nope')\n")
    p = cli("sandbox", "run", str(f))
    assert p.returncode == 1 and "ValueError: nope" in p.stderr


@needs_sandbox
@pytest.mark.sandbox
def test_cli_run_json_reports_limit(tmp_path):
    f = tmp_path / "loop.py"
    f.write_text("import time\ntime.sleep(30)\n")
    p = cli("sandbox", "run", str(f), "--timeout", "1", "--json")
    assert p.returncode == 1
    data = json.loads(p.stdout)
    assert data["limit"] == "wall_time" and data["ok"] is False and data["limits"]["timeout_s"] == 1.0


@needs_sandbox
@pytest.mark.sandbox
def test_cli_run_from_stdin():
    p = cli("sandbox", "run", "-", stdin="print(2 ** 10)\n")
    assert p.returncode == 0 and p.stdout.strip() == "1024"


def test_cli_missing_file_is_one_line_error(tmp_path):
    p = cli("sandbox", "run", str(tmp_path / "nope.py"))
    assert p.returncode == 2 and p.stderr.startswith("reasonlab: error: no such file")
    assert "Traceback" not in p.stderr


def test_cli_bad_timeout():
    p = cli("sandbox", "run", "-", "--timeout", "0", stdin="print(1)")
    assert p.returncode == 2 and "must be positive" in p.stderr


def test_cli_check_reports_backend():
    p = cli("sandbox", "check", "--json")
    data = json.loads(p.stdout)
    assert data["backend"] in ("bwrap", "landlock", "none")
    assert p.returncode == (1 if data["backend"] == "none" else 0)


# -- no isolation: refuse, unless explicitly unsafe ------------------------------------------------
def test_refuses_without_isolation():
    none = SandboxInfo("none", "test: nothing works", detect().interpreter)
    with pytest.raises(SandboxUnavailable, match="--unsafe-exec"):
        run_code("print(1)", info=none)


def test_unsafe_exec_is_still_a_separate_process():
    none = SandboxInfo("none", "test", detect().interpreter, drop_uid=os.geteuid() == 0)
    r = run_code("import os\nprint(os.getpid())", Limits(timeout_s=10), unsafe=True, info=none)
    assert r.ok and r.backend == "unsafe"
    assert int(r.stdout) != os.getpid()
    r = run_code("while True:\n    pass\n", Limits(timeout_s=10, cpu_s=1), unsafe=True, info=none)
    assert r.limit == "cpu_time"


# -- the Landlock fallback ------------------------------------------------------------------------
needs_landlock = pytest.mark.skipif(landlock_abi() < 1 or detect().interpreter is None,
                                    reason="Landlock not available")


def _landlock() -> SandboxInfo:
    return SandboxInfo("landlock", "test", detect().interpreter, drop_uid=os.geteuid() == 0)


@needs_landlock
@pytest.mark.sandbox
@pytest.mark.parametrize("code", [
    "print('ESCAPED', open('/etc/passwd').read())",
    f"print('ESCAPED', open({str(Path(SRC).parent / 'pyproject.toml')!r}).read())",
    "open('/tmp/reasonlab-landlock-pwned', 'w').write('x'); print('ESCAPED')",
    "import socket; socket.create_connection(('127.0.0.1', 22), timeout=1); print('ESCAPED')",
    "import os; os.execv('/bin/sh', ['sh', '-c', 'echo ESCAPED'])",
    "import subprocess; subprocess.run(['ls', '/']); print('ESCAPED')",
])
def test_landlock_blocks(code):
    r = run_code(code, Limits(timeout_s=5), info=_landlock())
    assert "ESCAPED" not in r.stdout
    assert not Path("/tmp/reasonlab-landlock-pwned").exists()


@needs_landlock
@pytest.mark.sandbox
def test_landlock_runs_normal_programs_and_limits(monkeypatch):
    monkeypatch.setenv("REASONLAB_TEST_SECRET", "landlock-secret-1")
    r = run_code("import fractions, os\nprint(fractions.Fraction(1, 3) * 3, dict(os.environ))", info=_landlock())
    assert r.ok and r.stdout.startswith("1 ") and "landlock-secret-1" not in r.stdout
    r = run_code("x = bytearray(4 * 1024 ** 3)", Limits(memory_mb=256), info=_landlock())
    assert r.limit == "memory"


# -- the bubblewrap command line ------------------------------------------------------------------
def test_bwrap_command_line_is_minimal():
    from reasonlab.sandbox.bwrap import bwrap_argv

    info = detect()
    if info.backend != "bwrap":
        pytest.skip("bubblewrap backend not in use")
    argv = bwrap_argv(info, Limits(), 10, 11)
    for flag in ("--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--clearenv",
                 "--disable-userns"):
        assert flag in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    sources = [argv[i + 1] for i, a in enumerate(argv) if a in ("--ro-bind", "--bind")]
    project = str(Path(SRC).parent)
    assert not any(s == "/" or s.startswith(project) or s in ("/etc", "/etc/passwd", "/home", "/usr")
                   for s in sources), sources
    assert "--bind" not in argv  # nothing host-side is writable
    assert argv[argv.index("--chdir") + 1] == "/tmp"


def test_error_summary_is_trimmed():
    from reasonlab.sandbox import SandboxResult

    r = SandboxResult(stdout="", stderr="x" * 5000 + "\nValueError: bad", exit_code=1)
    s = r.error_summary(200)
    assert s.startswith("exit status 1") and s.endswith("ValueError: bad") and len(s) < 260
    assert SandboxResult(stdout="1", stderr="", exit_code=0).error_summary() == ""
