"""The escape suite: hostile programs run in the real sandbox, each must be stopped.

A program prints ESCAPED (or the secret it stole) only if its attack worked; every test also
checks the specific outcome (which limit fired, that the host did not change).
"""

from __future__ import annotations

import os
import signal
import socket
import textwrap
import threading
import time
from pathlib import Path

import pytest

from reasonlab.sandbox import Limits, SandboxResult, detect, run_code

pytestmark = pytest.mark.sandbox

PROJECT = Path(__file__).resolve().parents[1]
FAST = Limits(timeout_s=8, cpu_s=2, memory_mb=256, processes=16, file_size_mb=8, scratch_mb=32,
              open_files=32, output_bytes=200_000)


@pytest.fixture(scope="module", autouse=True)
def _needs_isolation():
    info = detect()
    if info.backend == "none":
        pytest.skip(f"no sandbox here: {info.reason}")


def run(code: str, limits: Limits = FAST) -> SandboxResult:
    return run_code(textwrap.dedent(code), limits)


def assert_not_escaped(r: SandboxResult) -> None:
    assert "ESCAPED" not in r.stdout, r


# -- files ------------------------------------------------------------------------------------
def test_read_etc_passwd():
    r = run("""
        try:
            print("ESCAPED", open("/etc/passwd").read())
        except OSError as e:
            print("blocked", type(e).__name__)
    """)
    assert_not_escaped(r)
    assert "root:" not in r.stdout and "blocked" in r.stdout


def test_read_project_files():
    r = run(f"""
        for p in [{str(PROJECT / "pyproject.toml")!r}, {str(PROJECT / "src/reasonlab/__init__.py")!r}]:
            try:
                print("ESCAPED", open(p).read()[:80])
            except OSError as e:
                print("blocked", type(e).__name__)
    """)
    assert_not_escaped(r)
    assert r.stdout.count("blocked") == 2


def test_list_home_and_root_dirs():
    r = run("""
        import os
        for d in ["/root", "/home", "/work", "/var", "/etc"]:
            try:
                print("ESCAPED" if os.listdir(d) and d != "/etc" else "seen", d, os.listdir(d))
            except OSError:
                print("blocked", d)
    """)
    assert_not_escaped(r)
    assert "passwd" not in r.stdout


def test_write_outside_scratch(tmp_path):
    target = tmp_path / "pwned.txt"
    r = run(f"""
        import os
        for p in [{str(target)!r}, "/prog/x", "/usr/lib/x", "/etc/x", "/x", "/proc/x", "/dev/x"]:
            try:
                with open(p, "w") as f:
                    f.write("pwned")
                print("wrote", p)
            except OSError as e:
                print("blocked", p)
    """)
    assert not target.exists()
    assert "wrote" not in r.stdout
    assert r.stdout.count("blocked") == 7


def test_scratch_is_private_and_empty_each_run():
    first = run("open('flag', 'w').write('x'); import os; print(os.getcwd(), os.listdir('.'))")
    assert first.ok and "flag" in first.stdout
    second = run("import os; print(os.listdir('.'))")
    assert second.stdout.strip() == "[]"


def test_symlink_to_host_files():
    r = run("""
        import os
        os.symlink("/etc/passwd", "a")
        os.symlink("/proc/1/root/etc/passwd", "b")
        os.symlink("/proc/self/root/../../../etc/shadow", "c")
        for name in "abc":
            try:
                print("ESCAPED", open(name).read()[:40])
            except OSError:
                print("blocked", name)
    """)
    assert_not_escaped(r)
    assert r.stdout.count("blocked") == 3


def test_proc_root_and_mounts_do_not_reach_host():
    r = run(f"""
        import os
        for p in ["/proc/1/root{PROJECT}/pyproject.toml", "/proc/2/root{PROJECT}/pyproject.toml",
                  "/proc/self/cwd/../../{PROJECT}/pyproject.toml"]:
            try:
                print("ESCAPED", open(p).read()[:40])
            except OSError:
                print("blocked")
    """)
    assert_not_escaped(r)
    assert r.stdout.count("blocked") == 3


def test_host_packages_not_importable():
    r = run("""
        import sys
        for name in ["reasonlab", "numpy", "llama_cpp", "click"]:
            try:
                __import__(name)
                print("ESCAPED", name)
            except ImportError:
                print("blocked", name)
    """)
    assert_not_escaped(r)


# -- network ----------------------------------------------------------------------------------
def test_connect_to_localhost_listener():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(0.5)
    port = srv.getsockname()[1]
    r = run(f"""
        import socket
        try:
            s = socket.create_connection(("127.0.0.1", {port}), timeout=2)
            s.sendall(b"hello")
            print("ESCAPED")
        except OSError as e:
            print("blocked", e)
    """)
    try:
        conn, _ = srv.accept()
        conn.close()
        accepted = True
    except TimeoutError:
        accepted = False
    finally:
        srv.close()
    assert not accepted
    assert_not_escaped(r)


def test_no_outside_network():
    r = run("""
        import socket
        for addr in [("1.1.1.1", 53), ("8.8.8.8", 443)]:
            try:
                socket.create_connection(addr, timeout=1)
                print("ESCAPED", addr)
            except OSError:
                print("blocked")
        try:
            socket.getaddrinfo("example.com", 80)
            print("ESCAPED dns")
        except OSError:
            print("blocked")
    """)
    assert_not_escaped(r)


def test_abstract_unix_socket_on_host():
    name = f"\0reasonlab-test-{os.getpid()}"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(name)
    srv.listen(1)
    srv.settimeout(0.5)
    r = run(f"""
        import socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect({name!r})
            print("ESCAPED")
        except OSError:
            print("blocked")
    """)
    try:
        srv.accept()
        accepted = True
    except TimeoutError:
        accepted = False
    finally:
        srv.close()
    assert not accepted
    assert_not_escaped(r)


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


# -- and ordinary programs still work -----------------------------------------------------------
def test_normal_program_works():
    r = run("""
        import math, fractions, datetime, itertools, decimal, statistics, collections, json, re
        print(math.comb(10, 3), fractions.Fraction(3, 4) + fractions.Fraction(1, 4))
        print((datetime.date(2024, 3, 1) - datetime.date(2024, 2, 1)).days)
        print(sum(1 for _ in itertools.permutations(range(5))))
        print(decimal.Decimal("0.1") + decimal.Decimal("0.2"), statistics.mean([1, 2, 3, 4]))
        print(json.dumps(collections.Counter("hello").most_common(1)), re.findall(r"\\d+", "a1b22"))
        open("scratch.txt", "w").write("ok")
        print(open("scratch.txt").read())
    """)
    assert r.ok, r
    assert r.stdout.split("\n")[:6] == ["120 1", "29", "120", "0.3 2.5", '[["l", 2]] [\'1\', \'22\']', "ok"]


def test_exception_reports_traceback_and_status():
    r = run("def f():\n    return 1 / 0\nf()\n")
    assert r.exit_code == 1 and r.limit is None and not r.ok
    assert "ZeroDivisionError" in r.stderr and "boot.py" not in r.stderr


def test_exit_status_passes_through():
    r = run("import sys\nprint('bye')\nsys.exit(3)\n")
    assert r.exit_code == 3 and r.stdout == "bye\n"


def test_stdin_is_delivered():
    r = run_code("import sys\nprint(sys.stdin.read().upper())", FAST, stdin="hello")
    assert r.stdout.strip() == "HELLO"
