"""The escape suite: hostile programs run in the real sandbox, each must be stopped.

A program prints ESCAPED (or the secret it stole) only if its attack worked; every test also
checks the specific outcome (which limit fired, that the host did not change). Process and
privilege attacks are in test_sandbox_escape_processes.py, resource attacks in
test_sandbox_escape_resources.py.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from sandbox_support import FAST, assert_not_escaped, run, skip_without_isolation

from reasonlab.sandbox import run_code

pytestmark = pytest.mark.sandbox

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def _needs_isolation():
    skip_without_isolation()

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
