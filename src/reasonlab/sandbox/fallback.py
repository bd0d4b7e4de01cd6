"""Sandbox layers for machines without a working bubblewrap.

``landlock``: the program runs in a child process that, before it starts, (1) switches to a
fresh unprivileged uid when we are root, (2) restricts itself with Landlock — files readable
only under the interpreter's paths, writable only in its own scratch directory; TCP bind and
connect denied (Landlock ABI ≥ 4); signals and abstract UNIX sockets scoped to the sandbox
(ABI ≥ 6) — and (3) loads a seccomp filter (PyPI ``pyseccomp`` + libseccomp, when present)
that refuses sockets, ptrace, mounts, namespaces, keyrings, BPF and module loading. Limits
as with bubblewrap. What it lacks compared with bubblewrap: the host's PIDs stay visible in
/proc; without root the process-count limit counts every process of the user; the scratch
directory is on the host's temp directory (each file's size is bounded, not the total).

``run_unisolated``: only for ``--unsafe-exec``: a child process with resource limits, nothing else.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable

from .detect import SandboxInfo
from .result import Limits, SandboxResult

_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446  # same numbers on every architecture
_PR_SET_NO_NEW_PRIVS = 38
_FS_READ = (1 << 0) | (1 << 2) | (1 << 3)  # execute, read file, read dir
_FS_FILE_READ = (1 << 0) | (1 << 2)


def _fs_all(abi: int) -> int:
    bits = (1 << 13) - 1  # ABI 1: execute … make_sym
    if abi >= 2:
        bits |= 1 << 13  # refer
    if abi >= 3:
        bits |= 1 << 14  # truncate
    if abi >= 5:
        bits |= 1 << 15  # ioctl_dev
    return bits


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0 when Landlock is missing or disabled)."""
    if platform.system() != "Linux":
        return 0
    v = _libc.syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(0, int(v))


def landlock_status() -> tuple[bool, str]:
    """(usable, why) for the Landlock fallback."""
    abi = landlock_abi()
    if abi < 1:
        return False, "Landlock is not available in this kernel"
    return True, f"Landlock ABI {abi}" + (" + seccomp" if _seccomp_filter() is not None else " (no seccomp: pip install pyseccomp)")


_DENY_ALWAYS = ("ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot",
                "unshare", "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
                "io_uring_setup", "init_module", "finit_module", "delete_module", "kexec_load", "reboot",
                "swapon", "swapoff", "open_by_handle_at", "name_to_handle_at", "fanotify_init", "mknod", "mknodat")


@functools.lru_cache(maxsize=1)
def seccomp_bpf() -> bytes | None:
    """The compiled seccomp program bubblewrap loads (`--seccomp FD`): the always-denied syscalls.

    Sockets stay allowed there (the sandbox has its own empty network namespace). None when
    pyseccomp/libseccomp is missing; the sandbox then relies on namespaces and dropped capabilities.
    """
    f = _seccomp_filter(sockets=False)
    if f is None:
        return None
    fd = os.memfd_create("seccomp", 0)
    try:
        with os.fdopen(os.dup(fd), "wb") as out:
            f.export_bpf(out)
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks) or None
    except OSError:
        return None
    finally:
        os.close(fd)


def _seccomp_filter(sockets: bool = True):
    """A seccomp filter refusing dangerous syscalls with EPERM, or None without pyseccomp/libseccomp."""
    try:
        import pyseccomp as sc
    except (ImportError, OSError):
        return None
    try:
        f = sc.SyscallFilter(sc.ALLOW)
        deny = sc.ERRNO(errno.EPERM)
        for name in (("socket", "socketpair") if sockets else ()) + _DENY_ALWAYS:
            try:
                f.add_rule(deny, name)
            except (OSError, ValueError):
                pass
        return f
    except OSError:
        return None


def _restrictor(info: SandboxInfo, prog_dir: str, scratch: str) -> Callable[[], None]:
    """A function run in the child before exec: Landlock rules, then seccomp."""
    abi = landlock_abi()
    interp = info.interpreter
    assert interp is not None
    read_dirs = [*interp.dirs, prog_dir]
    read_files = [*interp.files] + [p for p in ("/etc/ld.so.cache", "/dev/urandom") if os.path.exists(p)]
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    attr = _RulesetAttr(fs=_fs_all(abi), net=3 if abi >= 4 else 0, scoped=3 if abi >= 6 else 0)
    fs_all = _fs_all(abi)
    file_rw = _FS_FILE_READ | (1 << 1) | ((1 << 14) if abi >= 3 else 0)
    seccomp = _seccomp_filter()

    def apply() -> None:
        os.setsid()
        rs = _libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
        if rs < 0:
            raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
        rules = [(d, _FS_READ) for d in read_dirs] + [(f, _FS_FILE_READ) for f in read_files]
        rules += [(scratch, fs_all), ("/dev/null", file_rw)]
        for path, access in rules:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            rule = _PathBeneath(allowed=access, fd=fd)
            if _libc.syscall(_SYS_ADD_RULE, rs, 1, ctypes.byref(rule), 0) < 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
            os.close(fd)
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
        if _libc.syscall(_SYS_RESTRICT, rs, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
        os.close(rs)
        if seccomp is not None:
            seccomp.load()

    return apply


def _kill_uid(uid: int, exe: str) -> Callable[[subprocess.Popen], None]:
    """Kill every process of the (fresh, otherwise unused) uid: catches children that left the group."""

    def kill(proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        subprocess.run([exe, "-I", "-S", "-c", "import os, signal\nos.kill(-1, signal.SIGKILL)"],
                       user=uid, group=uid, extra_groups=[], env={}, cwd="/", check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    return kill


def _run_child(info: SandboxInfo, code: str, limits: Limits, stdin: str | None, backend: str,
               isolate: bool) -> SandboxResult:
    from .runner import _boot_args, _boot_source, _finish, _host_uid, _kill_group

    interp = info.interpreter
    exe = interp.executable if interp is not None else os.path.realpath(shutil.which("python3") or "python3")
    work = tempfile.mkdtemp(prefix="reasonlab-sbx-")
    prog_dir, scratch = os.path.join(work, "prog"), os.path.join(work, "scratch")
    os.mkdir(prog_dir)
    os.mkdir(scratch)
    with open(os.path.join(prog_dir, "boot.py"), "wb") as f:
        f.write(_boot_source())
    with open(os.path.join(prog_dir, "main.py"), "w", encoding="utf-8") as f:
        f.write(code)
    kw: dict = {}
    kill = _kill_group
    if info.drop_uid:
        uid = _host_uid()
        os.chmod(work, 0o711)
        os.chmod(prog_dir, 0o755)
        for name in ("boot.py", "main.py"):
            os.chmod(os.path.join(prog_dir, name), 0o644)
        os.chown(scratch, uid, uid)
        kw = {"user": uid, "group": uid, "extra_groups": []}
        if isolate:
            kill = _kill_uid(uid, exe)
    preexec = _restrictor(info, prog_dir, scratch) if isolate else os.setsid
    argv = [exe, "-I", "-S", "-B", os.path.join(prog_dir, "boot.py"), *_boot_args(os.path.join(prog_dir, "main.py"), limits)]
    env = {"HOME": scratch, "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "PATH": "/nonexistent"}
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=scratch, env=env,
                                preexec_fn=preexec, **kw)  # noqa: PLW1509 - restrictions must be set in the child
        return _finish(proc, limits, stdin, t0, backend, kill)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_landlock(info: SandboxInfo, code: str, limits: Limits, stdin: str | None) -> SandboxResult:
    return _run_child(info, code, limits, stdin, "landlock", isolate=True)


def run_unisolated(info: SandboxInfo, code: str, limits: Limits, stdin: str | None) -> SandboxResult:
    """No isolation at all (explicit --unsafe-exec): a separate process with resource limits."""
    return _run_child(info, code, limits, stdin, "unsafe", isolate=False)
