"""Run a Python program in a separate, isolated process and report what happened.

The program never runs in this process. With bubblewrap the child gets new user, mount, PID,
network, IPC, UTS and cgroup namespaces, no capabilities, no environment, a root filesystem
holding only the interpreter, its stdlib and the system libraries (read-only), and an empty
size-limited tmpfs as its working directory. When this process runs as root the sandbox first
switches to a fresh unprivileged uid (so the process-count limit applies). Resource limits are
set inside by `boot.py`; wall time and output size are enforced here.
"""

from __future__ import annotations

import functools
import os
import random
import selectors
import signal
import subprocess
import time
from importlib import resources
from pathlib import Path

from .detect import SandboxInfo, detect
from .result import Limits, SandboxError, SandboxResult, SandboxUnavailable

SANDBOX_UID = 1000  # the uid/gid the program sees inside the user namespace
PROG_DIR = "/prog"
SCRATCH = "/tmp"
_HOST_UID_RANGE = (200_000, 260_000)  # unprivileged host uids used when we are root

_STDERR_PATTERNS = (  # last-line patterns that tell which limit a failing program hit
    ("MemoryError", "memory"),
    ("Cannot allocate memory", "memory"),
    ("File too large", "file_size"),
    ("No space left on device", "disk"),
    ("Too many open files", "open_files"),
    ("Resource temporarily unavailable", "processes"),
    ("can't start new thread", "processes"),
)


@functools.lru_cache(maxsize=1)
def _boot_source() -> bytes:
    return resources.files(__package__).joinpath("boot.py").read_bytes()


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _host_uid() -> int:
    return random.SystemRandom().randrange(*_HOST_UID_RANGE)


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
    """The full bubblewrap command line for one run."""
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


def _boot_args(path: str, limits: Limits) -> list[str]:
    return [path, str(limits.cpu_s), str(limits.memory_mb), str(limits.processes),
            str(limits.file_size_mb), str(limits.open_files)]


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _collect(proc: subprocess.Popen, limits: Limits, deadline: float,
             kill=_kill_group) -> tuple[bytes, bytes, str | None, bool]:
    """Read stdout/stderr until both close; stop the run at the deadline or past the output cap."""
    assert proc.stdout is not None and proc.stderr is not None
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    bufs = {out_fd: bytearray(), err_fd: bytearray()}
    sel = selectors.DefaultSelector()
    for fd in bufs:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    limit: str | None = None
    truncated = False
    exited_at: float | None = None
    leftovers_killed = False
    try:
        while sel.get_map() and limit is None:
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                limit = "wall_time"
                break
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            elif exited_at is not None and not leftovers_killed and now - exited_at > 0.1:
                # The program is done but something it started still holds the pipes: end it.
                leftovers_killed = True
                kill(proc)
            elif exited_at is not None and now - exited_at > 1.0:
                break
            for key, _ in sel.select(min(remaining, 0.05 if exited_at is None else 0.2)):
                fd = key.fd
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(fd)
                    continue
                buf = bufs[fd]
                buf += chunk
                if len(buf) > limits.output_bytes:
                    del buf[limits.output_bytes:]
                    truncated = True
                    limit = "output"
                    break
        if limit is None:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                limit = "wall_time"
    finally:
        sel.close()
        if limit is not None:
            kill(proc)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    return bytes(bufs[out_fd]), bytes(bufs[err_fd]), limit, truncated


def _classify(code: int | None, stderr: str, limits: Limits, backend: str,
              elapsed: float = 0.0) -> tuple[int | None, int | None, str | None]:
    """(exit_code, signal, limit) from the child's status and the tail of its stderr.

    SIGXCPU is the soft CPU limit; SIGKILL counts as the hard one only when the run lasted long
    enough to have used the CPU allowance (a program may also kill itself).
    """
    if code is None:
        return None, None, None
    sig: int | None = None
    if code < 0:
        sig = -code
    elif backend == "bwrap" and code > 128 and code - 128 in (signal.SIGKILL, signal.SIGXCPU, signal.SIGXFSZ,
                                                              signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
        sig = code - 128  # bubblewrap reports a signalled child as 128 + signal
    if sig is not None:
        if sig == signal.SIGXCPU:
            return None, sig, "cpu_time"
        if sig == signal.SIGXFSZ:
            return None, sig, "file_size"
        if sig == signal.SIGKILL and elapsed >= 0.5 * limits.cpu_s:
            return None, sig, "cpu_time"  # wall time and output limits are known before this
        return None, sig, None
    if code != 0:
        tail = "\n".join(stderr.strip().splitlines()[-3:])
        for pattern, name in _STDERR_PATTERNS:
            if pattern in tail:
                return code, None, name
    return code, None, None


def probe(info: SandboxInfo) -> str | None:
    """Run a trivial program with `info`; None when it works, else the reason it does not."""
    try:
        r = _run_bwrap(info, "print(6 * 7)\n", Limits(timeout_s=20), None)
    except (OSError, SandboxError) as e:
        return str(e)
    if r.stdout.strip() == "42" and r.exit_code == 0:
        return None
    return (r.stderr.strip().splitlines() or [f"exit status {r.exit_code}"])[-1]


def _run_bwrap(info: SandboxInfo, code: str, limits: Limits, stdin: str | None) -> SandboxResult:
    from .fallback import seccomp_bpf

    boot_fd = _memfd("boot.py", _boot_source())
    prog_fd = _memfd("main.py", code.encode("utf-8"))
    bpf = seccomp_bpf()
    seccomp_fd = _memfd("seccomp", bpf) if bpf else None
    fds = (boot_fd, prog_fd) + ((seccomp_fd,) if seccomp_fd is not None else ())
    argv = bwrap_argv(info, limits, boot_fd, prog_fd, seccomp_fd) + _boot_args(f"{PROG_DIR}/main.py", limits)
    kw: dict = {}
    if info.drop_uid:
        uid = _host_uid()
        kw = {"user": uid, "group": uid, "extra_groups": []}
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=fds,
                                start_new_session=True, env={}, cwd="/", **kw)
    finally:
        for fd in fds:
            os.close(fd)
    return _finish(proc, limits, stdin, t0, "bwrap")


def _finish(proc: subprocess.Popen, limits: Limits, stdin: str | None, t0: float, backend: str,
            kill=_kill_group) -> SandboxResult:
    if stdin is not None and proc.stdin is not None:
        try:
            proc.stdin.write(stdin.encode("utf-8")[: 1 << 20])
            proc.stdin.close()
        except BrokenPipeError:
            pass
    out, err, limit, truncated = _collect(proc, limits, t0 + limits.timeout_s, kill)
    stdout = out.decode("utf-8", "replace")
    stderr = err.decode("utf-8", "replace")
    if backend == "bwrap" and proc.returncode == 1 and stderr.startswith("bwrap:"):
        raise SandboxError(f"bubblewrap failed: {stderr.strip().splitlines()[0]}")
    code, sig, lim = _classify(proc.returncode, stderr, limits, backend, time.monotonic() - t0)
    if limit is not None:
        lim = limit
        code = None if code is None or proc.returncode < 0 or (backend == "bwrap" and proc.returncode > 128) else code
        sig = sig or signal.SIGKILL
    return SandboxResult(stdout=stdout, stderr=stderr, exit_code=code, signal=sig, limit=lim,
                         seconds=time.monotonic() - t0, backend=backend, truncated=truncated)


def run_code(code: str, limits: Limits | None = None, *, stdin: str | None = None,
             unsafe: bool = False, info: SandboxInfo | None = None) -> SandboxResult:
    """Run Python source `code` in the sandbox and return what it printed and how it ended.

    Raises SandboxUnavailable when no isolation works here and `unsafe` is False; with
    `unsafe=True` the program then runs in a plain child process with resource limits only.
    """
    limits = limits or Limits()
    info = info or detect()
    if info.backend == "bwrap":
        return _run_bwrap(info, code, limits, stdin)
    if info.backend == "landlock":
        from .fallback import run_landlock

        return run_landlock(info, code, limits, stdin)
    if not unsafe:
        raise SandboxUnavailable(
            f"cannot run code safely here ({info.reason}). Install bubblewrap "
            "(apt-get install bubblewrap) or pass --unsafe-exec to run it without isolation")
    from .fallback import run_unisolated

    return run_unisolated(info, code, limits, stdin)


def run_file(path: str | Path, limits: Limits | None = None, **kw) -> SandboxResult:
    """Run a Python file's source in the sandbox (the file itself is not visible inside)."""
    p = Path(path)
    try:
        code = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        from ..errors import InputError

        raise InputError(f"no such file: {p}") from None
    except UnicodeDecodeError:
        from ..errors import InputError

        raise InputError(f"{p}: not UTF-8 text") from None
    return run_code(code, limits, **kw)
