"""The escape suite, process half: hostile programs that steal the environment, signal the
host, spawn or fork without end, outlive their run, or try privilege tricks; each must fail.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from sandbox_support import FAST, assert_not_escaped, run, skip_without_isolation

from reasonlab.sandbox import Limits, detect

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module", autouse=True)
def _needs_isolation():
    skip_without_isolation()


# -- environment, processes, signals ------------------------------------------------------------
def test_parent_environment_secrets(monkeypatch):
    secret = "s3cr3t-token-8d1f"
    monkeypatch.setenv("REASONLAB_TEST_SECRET", secret)
    r = run("""
        import os
        print(dict(os.environ))
        for p in ["/proc/self/environ", "/proc/1/environ"]:
            try:
                print(open(p, "rb").read())
            except OSError:
                print("blocked", p)
    """)
    assert secret not in r.stdout
    assert "REASONLAB_TEST_SECRET" not in r.stdout


def test_signal_host_process():
    hit = threading.Event()
    old = signal.signal(signal.SIGUSR1, lambda *_: hit.set())
    try:
        r = run(f"""
            import os, signal
            try:
                os.kill({os.getpid()}, signal.SIGUSR1)
                print("sent")
            except OSError as e:
                print("blocked", e)
            print("pids", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
        """)
        time.sleep(0.2)
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert not hit.is_set()
    assert "blocked" in r.stdout
    pids = eval(r.stdout.split("pids", 1)[1])  # noqa: S307 - parsing our own test program's list output
    assert os.getpid() not in pids and max(pids) < 10  # only the sandbox's own PID namespace


def test_spawn_shell_and_subprocess():
    r = run("""
        import os, subprocess
        for argv in (["/bin/sh", "-c", "echo ESCAPED"], ["sh", "-c", "echo ESCAPED"], ["bash"], ["ls", "/"]):
            try:
                subprocess.run(argv, timeout=2)
                print("ran", argv[0])
            except OSError as e:
                print("blocked", argv[0], type(e).__name__)
        print("system", os.system("echo ESCAPED"))
    """)
    assert_not_escaped(r)
    assert "ran" not in r.stdout


def test_child_interpreter_stays_inside():
    r = run("""
        import subprocess, sys
        out = subprocess.run([sys.executable, "-c", "print(open('/etc/passwd').read())"],
                             capture_output=True, text=True)
        print("child rc", out.returncode)
        print(out.stdout)
    """)
    assert "root:" not in r.stdout


def test_fork_bomb_is_capped():
    r = run("""
        import os, time
        n = 0
        try:
            for _ in range(1000):
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                n += 1
        except OSError as e:
            print("fork failed after", n, type(e).__name__)
    """)
    assert "fork failed after" in r.stdout
    assert int(r.stdout.split("after")[1].split()[0]) < FAST.processes


def test_real_fork_bomb_terminates():
    limits = Limits(timeout_s=4, cpu_s=2, memory_mb=256, processes=16)
    t0 = time.monotonic()
    r = run("""
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """, limits)
    assert r.limit in ("processes", "cpu_time", "wall_time")
    assert not r.ok
    assert time.monotonic() - t0 < 30


def test_orphan_processes_die_with_the_run():
    tag = f"rlorph{os.getpid() % 100000}"
    r = run(f"""
        import ctypes, os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                ctypes.CDLL(None).prctl(15, {tag.encode()!r}, 0, 0, 0)  # PR_SET_NAME
                time.sleep(60)
            os._exit(0)
        print("parent done")
    """, Limits(timeout_s=3))
    assert "parent done" in r.stdout
    time.sleep(0.5)
    survivors = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and (p / "comm").read_text().strip() == tag:
                survivors.append(p.name)
        except OSError:
            pass
    assert survivors == []


# -- privilege tricks ---------------------------------------------------------------------------
def test_ctypes_privilege_syscalls():
    r = run(f"""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        checks = {{
            "setuid0": libc.setuid(0),
            "unshare_user": libc.unshare(0x10000000),
            "unshare_net": libc.unshare(0x40000000),
            "mount": libc.mount(b"none", b"/tmp", b"tmpfs", 0, None),
            "chroot": libc.chroot(b"/"),
            "ptrace_host": libc.ptrace(16, {os.getpid()}, None, None),
        }}
        for name, rc in checks.items():
            print("ESCAPED" if rc == 0 else "blocked", name)
        print("uid", os.getuid(), os.geteuid())
    """)
    assert_not_escaped(r)
    assert r.stdout.count("blocked") == 6
    assert "uid 1000 1000" in r.stdout


def test_kernel_attack_surface_syscalls_refused():
    from reasonlab.sandbox.seccomp import seccomp_bpf

    if detect().backend == "bwrap" and seccomp_bpf() is None:
        pytest.skip("no seccomp filter (pyseccomp/libseccomp missing)")
    r = run("""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        # x86_64 numbers: keyctl(JOIN_SESSION_KEYRING), bpf, perf_event_open, userfaultfd, io_uring_setup
        calls = {"keyctl": (250, 1, 0), "bpf": (321, 0, 0), "perf_event_open": (298, 0, 0),
                 "userfaultfd": (323, 0, 0), "io_uring_setup": (425, 1, 0)}
        import platform
        if platform.machine() != "x86_64":
            print("skip")
        for name, (nr, a, b) in calls.items():
            rc = libc.syscall(nr, a, b, 0, 0, 0)
            print("ESCAPED" if rc >= 0 else "blocked", name, ctypes.get_errno())
    """)
    if "skip" in r.stdout:
        pytest.skip("syscall numbers are for x86_64")
    assert_not_escaped(r)
    assert r.stdout.count("blocked") == 5


def test_no_capabilities():
    r = run("""
        for line in open("/proc/self/status"):
            if line.startswith(("CapEff", "CapPrm", "CapBnd", "NoNewPrivs")):
                print(line.strip())
    """)
    assert "CapEff:\t0000000000000000" in r.stdout
    assert "CapPrm:\t0000000000000000" in r.stdout


def test_introspection_escape_to_os_system():
    r = run("""
        for cls in ().__class__.__base__.__subclasses__():
            if cls.__name__ == "_wrap_close":
                g = cls.__init__.__globals__
                print("system rc", g["system"]("cat /etc/passwd; echo ESCAPED"))
                try:
                    print(g["popen"]("cat /etc/passwd").read())
                except OSError as e:
                    print("blocked popen", e)
                break
    """)
    assert_not_escaped(r)
    assert "root:" not in r.stdout


def test_introspection_escape_to_file_loader():
    r = run("""
        for cls in object.__subclasses__():
            if "FileLoader" in cls.__name__:
                try:
                    print("ESCAPED", cls.get_data(None, "/etc/passwd")[:40])
                except OSError as e:
                    print("blocked", type(e).__name__)
                break
    """)
    assert_not_escaped(r)


def test_proc_sys_and_devices_not_writable():
    r = run("""
        for p, mode in [("/proc/sys/kernel/hostname", "w"), ("/proc/sysrq-trigger", "w"),
                        ("/dev/mem", "rb"), ("/dev/kmsg", "rb"), ("/sys/kernel/notes", "rb")]:
            try:
                f = open(p, mode)
                if "w" in mode:
                    f.write("x")
                    f.close()
                    print("ESCAPED", p)
                else:
                    print("ESCAPED", p, f.read(16))
            except OSError:
                print("blocked", p)
    """)
    assert_not_escaped(r)
    assert r.stdout.count("blocked") == 5
