"""The escape suite, resource half: hostile programs that try to exhaust memory, CPU, time,
output, disk or descriptors; each must be stopped by the named limit.
"""

from __future__ import annotations

import signal

import pytest
from sandbox_support import FAST, assert_not_escaped, run, skip_without_isolation

from reasonlab.sandbox import Limits

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module", autouse=True)
def _needs_isolation():
    skip_without_isolation()


# -- resource limits ------------------------------------------------------------------------------
def test_memory_bomb():
    r = run("""
        x = bytearray(8 * 1024 ** 3)
        print("ESCAPED", len(x))
    """)
    assert_not_escaped(r)
    assert r.limit == "memory"


def test_gradual_memory_growth():
    r = run("""
        chunks = []
        while True:
            chunks.append(bytearray(16 * 1024 * 1024))
    """)
    assert r.limit == "memory"


def test_cpu_loop():
    r = run("""
        while True:
            pass
    """, Limits(timeout_s=10, cpu_s=1))
    assert r.limit == "cpu_time"
    assert r.exit_code is None


def test_ignoring_sigxcpu_does_not_help():
    r = run("""
        import signal
        signal.signal(signal.SIGXCPU, signal.SIG_IGN)
        while True:
            pass
    """, Limits(timeout_s=15, cpu_s=1))
    assert r.limit == "cpu_time" and r.signal == signal.SIGKILL


def test_self_kill_is_not_a_limit():
    r = run("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    assert r.signal == signal.SIGKILL and r.limit is None and not r.ok


def test_sleeping_program_hits_wall_clock():
    r = run("import time\ntime.sleep(60)\nprint('ESCAPED')", Limits(timeout_s=1))
    assert r.limit == "wall_time"
    assert_not_escaped(r)


def test_huge_stdout():
    r = run("""
        while True:
            print("x" * 1000)
    """)
    assert r.limit == "output" and r.truncated
    assert len(r.stdout) <= FAST.output_bytes


def test_huge_stderr():
    r = run("""
        import sys
        while True:
            sys.stderr.write("e" * 4096)
    """)
    assert r.limit == "output"
    assert len(r.stderr) <= FAST.output_bytes


def test_write_10_gb_file():
    r = run("""
        block = b"\\0" * (1024 * 1024)
        with open("big", "wb") as f:
            for _ in range(10 * 1024):
                f.write(block)
        print("ESCAPED")
    """)
    assert_not_escaped(r)
    assert r.limit in ("file_size", "disk")


def test_sparse_10_gb_file():
    r = run("""
        with open("sparse", "wb") as f:
            f.seek(10 * 1024 ** 3)
            f.write(b"x")
        print("ESCAPED")
    """)
    assert_not_escaped(r)
    assert r.limit == "file_size"


def test_many_small_files_fill_scratch_only():
    r = run("""
        block = b"\\0" * (1024 * 1024)
        for i in range(1000):
            with open(f"f{i}", "wb") as f:
                f.write(block * 4)
        print("ESCAPED")
    """)
    assert_not_escaped(r)
    assert r.limit == "disk"


def test_open_file_limit():
    r = run("""
        fs = [open("/dev/null") for _ in range(100000)]
        print("ESCAPED", len(fs))
    """)
    assert_not_escaped(r)
    assert r.limit == "open_files"


def test_cannot_raise_limits():
    r = run("""
        import resource
        for name in ["RLIMIT_NPROC", "RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE"]:
            which = getattr(resource, name)
            try:
                resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                print("ESCAPED", name)
            except (ValueError, OSError):
                print("blocked", name)
    """)
    assert_not_escaped(r)
    assert r.stdout.count("blocked") == 5
