"""Limits of a run: checked values, tighten-only requests, caps on the whole process tree,
program files checked before reading, terminal escapes neutralised, cross-process syscalls refused."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reasonlab.errors import InputError
from reasonlab.sandbox import MAX_PROGRAM_BYTES, Limits, SandboxInfo, detect, read_program, run_code
from reasonlab.sandbox.tree_limits import cgroup_layout

SRC = str(Path(__file__).resolve().parents[1] / "src")


def cli(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env or {}), "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", "from reasonlab.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, input=stdin, timeout=120)


needs_sandbox = pytest.mark.skipif(detect().backend == "none", reason="no sandbox on this machine")


# -- values are checked when limits are made -------------------------------------------------------
@pytest.mark.parametrize("field,value", [
    ("timeout_s", math.nan), ("timeout_s", math.inf), ("timeout_s", 0), ("timeout_s", -1.0),
    ("memory_mb", -1), ("memory_mb", 0), ("memory_mb", 2.5), ("memory_mb", "512"), ("memory_mb", True),
    ("processes", -5), ("cpu_s", math.nan), ("output_bytes", 0), ("memory_mb", 10 ** 12),
])
def test_bad_limit_values_are_refused(field, value):
    with pytest.raises(InputError, match=field) as e:
        Limits(**{field: value})
    assert "\n" not in str(e.value)


def test_whole_floats_are_accepted_for_integer_limits():
    lim = Limits(memory_mb=256.0, timeout_s=3)
    assert lim.memory_mb == 256 and isinstance(lim.memory_mb, int) and lim.timeout_s == 3.0


# -- a request may only tighten ------------------------------------------------------------------
def test_tightened_by_lowers_and_keeps_the_rest():
    base = Limits(timeout_s=10, memory_mb=1024, processes=16)
    mine = base.tightened_by({"timeout_s": 2.5, "memory_mb": 256, "processes": None})
    assert (mine.timeout_s, mine.memory_mb, mine.processes, mine.cpu_s) == (2.5, 256, 16, base.cpu_s)
    assert base.tightened_by({}) == base and base.tightened_by(None) == base


@pytest.mark.parametrize("requested,message", [
    ({"memory_mb": 4096}, "may only lower"),
    ({"timeout_s": 10.5}, "may only lower"),
    ({"memory_mb": -1}, "positive"),
    ({"timeout_s": math.nan}, "positive"),
    ({"memory_mb": "100"}, "number"),
    ({"unsafe": 1}, "unknown sandbox limit"),
])
def test_tightened_by_refuses_loosening_and_bad_values(requested, message):
    base = Limits(timeout_s=10, memory_mb=1024)
    with pytest.raises(InputError, match=message):
        base.tightened_by(requested)


@pytest.mark.parametrize("memory_mb,processes", [(512, 32), (256, 16), (64, 32), (1000, 3), (32, 1), (100, 100)])
def test_per_process_split_stays_within_the_cap(memory_mb, processes):
    n, each = Limits(memory_mb=memory_mb, processes=processes).per_process_split()
    assert 1 <= n <= processes and n * each <= memory_mb and each >= min(memory_mb, 64)


# -- the whole tree is held under the memory cap -------------------------------------------------
FIVE_CHILDREN = """
    import os, select, time
    EACH = {each_mb} * 1024 * 1024
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    kids = []
    for i in range(5):
        try:
            pid = os.fork()
        except OSError as e:
            print("fork failed", i, e.errno, flush=True)
            continue
        if pid == 0:
            try:
                block = b"\\x01" * EACH  # written, so resident
                os.write(ready_w, b"r")
                os.read(go_r, 1)
                print("held", i, len(block), flush=True)
            except MemoryError:
                print("memory error", i, flush=True)
            os._exit(0)
        kids.append(pid)
    print("forked", len(kids), flush=True)
    # Wait until every child holds its block or is gone, then let the survivors report together.
    waiting, ready, deadline = set(kids), 0, time.monotonic() + 15
    while waiting and ready < len(waiting) and time.monotonic() < deadline:
        if select.select([ready_r], [], [], 0.05)[0]:
            ready += len(os.read(ready_r, 16))
        for pid in list(waiting):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                waiting.discard(pid)
    os.write(go_w, b"g" * 5)
    for pid in waiting:
        os.waitpid(pid, 0)
"""
EACH_MB, CAP_MB = 96, 256


def _five_children(env_cgroup: str | None, monkeypatch):
    if env_cgroup is not None:
        monkeypatch.setenv("REASONLAB_SANDBOX_CGROUP", env_cgroup)
    limits = Limits(timeout_s=30, cpu_s=20, memory_mb=CAP_MB, processes=16)
    return run_code(textwrap.dedent(FIVE_CHILDREN.format(each_mb=EACH_MB)), limits)


@needs_sandbox
@pytest.mark.sandbox
def test_five_process_tree_is_held_under_the_cap_with_a_cgroup(monkeypatch):
    if cgroup_layout()[0] is None:
        pytest.skip(f"no cgroup here: {cgroup_layout()[1]}")
    r = _five_children(None, monkeypatch)
    assert "forked 5" in r.stdout, r
    held = r.stdout.count("held")
    # Uncapped, all five hold 480 MiB together. Under the cap some are stopped; the count of "held"
    # lines alone is not strict residency (on a loaded machine a child can be killed after it
    # reported ready, and a late one then fits), so the strict check is the tree's peak from the
    # cgroup's own counter.
    assert held < 5, r.stdout
    assert r.peak_memory_mb is not None and r.peak_memory_mb <= CAP_MB, r


@needs_sandbox
@pytest.mark.sandbox
def test_five_process_tree_is_held_under_the_cap_with_rlimits_only(monkeypatch):
    r = _five_children("none", monkeypatch)
    assert "forked" in r.stdout, r
    assert r.stdout.count("held") * EACH_MB <= CAP_MB, r.stdout
    n, each = Limits(memory_mb=CAP_MB, processes=16).per_process_split()
    assert n * each <= CAP_MB


@needs_sandbox
@pytest.mark.sandbox
def test_cgroup_oom_kill_is_reported_as_the_memory_limit_and_cleaned_up(monkeypatch):
    layout = cgroup_layout()[0]
    if layout is None:
        pytest.skip("no cgroup here")
    code = """
        import os
        kids = []
        for i in range(4):
            pid = os.fork()
            if pid == 0:
                block = b"\\x01" * (100 * 1024 * 1024)
                import time; time.sleep(5)
                os._exit(0)
            kids.append(pid)
        statuses = [os.waitpid(p, 0)[1] for p in kids]
        raise SystemExit(1 if any(statuses) else 0)
    """
    r = run_code(textwrap.dedent(code), Limits(timeout_s=30, memory_mb=200, processes=16))
    assert r.limit == "memory" and not r.ok, r
    left = [p for parent in layout.parents.values() for p in Path(parent).glob(f"reasonlab-sandbox-{os.getpid()}-*")]
    assert left == []


def test_stale_run_cgroups_of_dead_processes_are_removed():
    from reasonlab.sandbox.tree_limits import _remove_stale

    layout = cgroup_layout()[0]
    if layout is None:
        pytest.skip("no cgroup here")
    stale = [Path(parent) / "reasonlab-sandbox-999999999-dead" for parent in layout.parents.values()]
    for d in stale:
        d.mkdir()
    _remove_stale(layout)
    assert not any(d.exists() for d in stale)


@needs_sandbox
@pytest.mark.sandbox
def test_process_count_covers_the_whole_tree():
    code = """
        import os, time
        n = 0
        try:
            for _ in range(200):
                if os.fork() == 0:
                    try:
                        os.fork()  # grandchildren count too
                    except OSError:
                        pass
                    time.sleep(20)
                    os._exit(0)
                n += 1
        except OSError:
            pass
        print("forked", n)
    """
    r = run_code(textwrap.dedent(code), Limits(timeout_s=8, processes=12))
    assert "forked" in r.stdout
    assert int(r.stdout.split()[1]) < 12


# -- cross-process syscalls ----------------------------------------------------------------------
@needs_sandbox
@pytest.mark.sandbox
def test_pidfd_and_process_access_syscalls_refused():
    from reasonlab.sandbox.seccomp import seccomp_bpf

    if detect().backend == "bwrap" and seccomp_bpf() is None:
        pytest.skip("no seccomp filter (pyseccomp/libseccomp missing)")
    code = """
        import ctypes, os, platform
        if platform.machine() != "x86_64":
            print("skip"); raise SystemExit
        libc = ctypes.CDLL(None, use_errno=True)
        me = os.getpid()
        # Each call succeeds (or fails with another errno) unless seccomp refuses it with EPERM.
        calls = {"pidfd_open": (434, me, 0, 0), "pidfd_getfd": (438, -1, 0, 0),
                 "kcmp": (312, me, me, 0), "process_vm_readv": (310, me, 0, 0),
                 "process_vm_writev": (311, me, 0, 0)}
        for name, (nr, *args) in calls.items():
            ctypes.set_errno(0)
            rc = libc.syscall(nr, *args, 0, 0)
            err = ctypes.get_errno()
            print("blocked" if rc < 0 and err == 1 else "ALLOWED", name, rc, err)
    """
    r = run_code(textwrap.dedent(code), Limits(timeout_s=10))
    if "skip" in r.stdout:
        pytest.skip("syscall numbers are for x86_64")
    assert "ALLOWED" not in r.stdout and r.stdout.count("blocked") == 5, r


# -- program files are checked before they are read ---------------------------------------------
def test_read_program_refuses_devices_fifos_directories_and_huge_files(tmp_path):
    with pytest.raises(InputError, match="not a regular file"):
        read_program("/dev/zero")
    fifo = tmp_path / "fifo.py"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_program(fifo)  # would block forever if it were opened for a plain read
    with pytest.raises(InputError, match="directory"):
        read_program(tmp_path)
    big = tmp_path / "big.py"
    big.write_bytes(b"#" * (MAX_PROGRAM_BYTES + 1))
    with pytest.raises(InputError, match="larger than"):
        read_program(big)
    ok = tmp_path / "ok.py"
    ok.write_text("print(1)\n")
    assert read_program(ok) == "print(1)\n"


@pytest.mark.parametrize("args", [
    ["--timeout", "nan"], ["--timeout", "inf"], ["--timeout", "-1"], ["--memory", "-1"], ["--memory", "0"],
    ["--processes", "0"], ["--cpu", "-3"],
])
def test_cli_bad_limits_are_one_line(args):
    p = cli("sandbox", "run", "-", *args, stdin="print(1)")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.startswith("reasonlab: error: ") and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_cli_refuses_non_regular_and_huge_files(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    big = tmp_path / "big.py"
    big.write_bytes(b"#" * (MAX_PROGRAM_BYTES + 1))
    for path, message in (("/dev/zero", "not a regular file"), (str(fifo), "not a regular file"),
                          (str(big), "larger than")):
        p = cli("sandbox", "run", path)
        assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
    p = cli("sandbox", "run", "-", stdin="#" * (MAX_PROGRAM_BYTES + 1))
    assert p.returncode == 2 and "larger than" in p.stderr


# -- terminal escapes ----------------------------------------------------------------------------
def test_neutralise_keeps_text_and_shows_controls():
    from reasonlab.cli.sandbox import neutralise

    assert neutralise("a\tb\nc é ∑") == "a\tb\nc é ∑"
    assert neutralise("\x1b]0;pwned\x07\x1b[2J\rX\x9b1A\x00") == "\\x1b]0;pwned\\x07\\x1b[2J\\x0dX\\x9b1A\\x00"


@needs_sandbox
@pytest.mark.sandbox
def test_cli_neutralises_escapes_in_program_output():
    prog = "import sys\nprint('\\x1b[31mred\\x1b[0m')\nsys.stderr.write('\\x1b]0;title\\x07\\n')\n"
    p = cli("sandbox", "run", "-", stdin=prog)
    assert p.returncode == 0 and "\x1b" not in p.stdout + p.stderr and "\x07" not in p.stderr
    assert p.stdout == "\\x1b[31mred\\x1b[0m\n" and "\\x1b]0;title\\x07" in p.stderr
    p = cli("sandbox", "run", "-", "--json", stdin=prog)
    assert json.loads(p.stdout)["stdout"] == "\x1b[31mred\x1b[0m\n"  # JSON carries the exact text


def test_check_reports_how_the_tree_is_capped():
    p = cli("sandbox", "check", "--json")
    caps = json.loads(p.stdout)["tree_limits"]
    assert caps.startswith("cgroup v") or caps.startswith("per-process rlimits")
    p = cli("sandbox", "check", "--json", env={"REASONLAB_SANDBOX_CGROUP": "none"})
    assert json.loads(p.stdout)["tree_limits"].startswith("per-process rlimits")


def test_unisolated_runs_use_the_tree_caps_too():
    none = SandboxInfo("none", "test", detect().interpreter, drop_uid=os.geteuid() == 0)
    r = run_code("x = b'1' * (400 * 1024 * 1024)\nprint('ESCAPED')", Limits(timeout_s=10, memory_mb=128),
                 unsafe=True, info=none)
    assert "ESCAPED" not in r.stdout and r.limit == "memory"
