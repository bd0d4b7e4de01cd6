"""The Landlock backend, for machines without a working bubblewrap.

The program runs in a child process that, before it starts, (1) joins the run's cgroup and
switches to a fresh unprivileged uid when we are root, (2) restricts itself with Landlock —
files readable only under the interpreter's paths, writable only in its own scratch directory;
TCP bind and connect denied (Landlock ABI ≥ 4); signals and abstract UNIX sockets scoped to the
sandbox (ABI ≥ 6) — and (3) loads the seccomp filter of `seccomp.py`, sockets refused too.
Limits as with bubblewrap. What it lacks compared with bubblewrap: the host's PIDs stay
visible in /proc; without root (and without a cgroup) the process-count limit counts every
process of the user; the scratch directory is on the host's temp directory (each file's size
is bounded, not the total).
"""

from __future__ import annotations

import ctypes
import os
import platform
import signal
import subprocess
import time
from collections.abc import Callable

from .child import Kill, boot_args, child_env, host_uid, kill_group, program_dir, run_child
from .execution import SandboxResult
from .host import SandboxInfo
from .limits import Limits
from .seccomp import seccomp_filter
from .tree_limits import open_run_cgroup

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
    return True, f"Landlock ABI {abi}" + (" + seccomp" if seccomp_filter() is not None else " (no seccomp: pip install pyseccomp)")


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
    seccomp = seccomp_filter()

    def apply() -> None:
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


def _kill_uid(uid: int, exe: str) -> Kill:
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


def run_landlock(info: SandboxInfo, code: str, limits: Limits, stdin: str | None) -> SandboxResult:
    """Run `code` as a Landlock- and seccomp-restricted child process."""
    assert info.interpreter is not None
    exe = info.interpreter.executable
    uid = host_uid() if info.drop_uid else None
    with program_dir(code, uid) as (prog_dir, scratch):
        restrict = _restrictor(info, prog_dir, scratch)
        t0 = time.monotonic()
        cgroup = open_run_cgroup(limits)
        argv = [exe, "-I", "-S", "-B", os.path.join(prog_dir, "boot.py"),
                *boot_args(os.path.join(prog_dir, "main.py"), limits, tree_capped=cgroup is not None)]
        return run_child(argv, limits, stdin, "landlock", cwd=scratch, env=child_env(scratch), uid=uid,
                         cgroup=cgroup, restrict=restrict, kill=kill_group if uid is None else _kill_uid(uid, exe),
                         t0=t0)

