"""The bubblewrap backend (Debian package `bubblewrap`): the strongest isolation here.

The child gets new user, mount, PID, network, IPC, UTS and cgroup namespaces, no capabilities,
no environment, a root filesystem holding only the interpreter, its stdlib and the system
libraries (read-only), an empty size-limited tmpfs as its working directory, and the seccomp
filter of `seccomp.py`. When this process runs as root the sandbox first switches to a fresh
unprivileged uid (so the process-count limit applies).
"""

from __future__ import annotations

import os
import time

from .child import boot_args, boot_source, host_uid, memfd, run_child
from .execution import SandboxError, SandboxResult
from .host import SandboxInfo
from .limits import Limits
from .seccomp import seccomp_bpf
from .tree_limits import open_run_cgroup

SANDBOX_UID = 1000  # the uid/gid the program sees inside the user namespace
PROG_DIR = "/prog"
SCRATCH = "/tmp"


def _mirror_root_links() -> list[str]:
    """/lib, /lib64 … as on the host: symlinks where the host has symlinks (merged /usr)."""
    args: list[str] = []
    for d in ("/lib", "/lib64", "/lib32"):
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    return args


def bwrap_argv(info: SandboxInfo, limits: Limits, boot_fd: int, prog_fd: int,
               seccomp_fd: int | None = None) -> list[str]:
    """The full bubblewrap command line for one run (without boot.py's arguments)."""
    interp = info.interpreter
    assert interp is not None and info.bwrap
    argv = [info.bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
            "--disable-userns", "--clearenv", "--cap-drop", "ALL", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--hostname", "sandbox"]
    for d in interp.dirs:
        argv += ["--ro-bind", d, d]
    for f in interp.files:
        argv += ["--ro-bind", f, f]
    for h in interp.hide:
        argv += ["--tmpfs", h]
    argv += _mirror_root_links()
    if os.path.exists("/etc/ld.so.cache"):
        argv += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(limits.scratch_mb * 1024 * 1024), "--tmpfs", SCRATCH,
             "--ro-bind-data", str(boot_fd), f"{PROG_DIR}/boot.py",
             "--ro-bind-data", str(prog_fd), f"{PROG_DIR}/main.py",
             "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", SCRATCH,
             *(["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []),
             "--setenv", "HOME", SCRATCH, "--setenv", "LANG", "C.UTF-8",
             "--setenv", "PYTHONIOENCODING", "utf-8", "--setenv", "PATH", "/nonexistent",
             "--", interp.executable, "-I", "-S", "-B", f"{PROG_DIR}/boot.py"]
    return argv


def run_bwrap(info: SandboxInfo, code: str, limits: Limits, stdin: str | None) -> SandboxResult:
    """Run `code` under bubblewrap."""
    boot_fd = memfd("boot.py", boot_source())
    prog_fd = memfd("main.py", code.encode("utf-8"))
    bpf = seccomp_bpf()
    seccomp_fd = memfd("seccomp", bpf) if bpf else None
    fds = (boot_fd, prog_fd) + ((seccomp_fd,) if seccomp_fd is not None else ())
    try:
        t0 = time.monotonic()
        cgroup = open_run_cgroup(limits)
        argv = bwrap_argv(info, limits, boot_fd, prog_fd, seccomp_fd) + boot_args(
            f"{PROG_DIR}/main.py", limits, tree_capped=cgroup is not None)
        return run_child(argv, limits, stdin, "bwrap", cwd="/", env={},
                         uid=host_uid() if info.drop_uid else None, cgroup=cgroup, pass_fds=fds, t0=t0)
    finally:
        for fd in fds:
            os.close(fd)


def probe(info: SandboxInfo) -> str | None:
    """Run a trivial program with `info`; None when it works, else the reason it does not."""
    try:
        r = run_bwrap(info, "print(6 * 7)\n", Limits(timeout_s=20), None)
    except (OSError, SandboxError) as e:
        return str(e)
    if r.stdout.strip() == "42" and r.exit_code == 0:
        return None
    return (r.stderr.strip().splitlines() or [f"exit status {r.exit_code}"])[-1]
