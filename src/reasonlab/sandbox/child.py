"""The child-process layer shared by every backend: boot, start, collect, classify, kill.

A backend builds a command line that ends in ``python -I -S -B boot.py PROGRAM …`` (`boot_args`)
and hands it to `run_child`, which:
  * makes the run's cgroup (`tree_limits`) where one can be made;
  * starts the child in a new session; before it execs, the child joins the cgroup, drops to
    the sandbox uid (when we are root) and applies the backend's own restrictions (Landlock,
    seccomp);
  * feeds stdin, reads stdout/stderr up to the output cap until the wall-clock deadline
    (`collect`), kills the whole tree, removes the cgroup;
  * turns the exit status, stderr and the cgroup's counters into a `SandboxResult` (`classify`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib import resources

from .execution import SandboxError, SandboxResult
from .limits import Limits
from .tree_limits import RunCgroup

HOST_UID_RANGE = (200_000, 260_000)  # unprivileged host uids used when we are root
MAX_STDIN_BYTES = 1 << 20

_STDERR_PATTERNS = (  # last-line patterns that tell which limit a failing program hit
    ("MemoryError", "memory"),
    ("Cannot allocate memory", "memory"),
    ("File too large", "file_size"),
    ("No space left on device", "disk"),
    ("Too many open files", "open_files"),
    ("Resource temporarily unavailable", "processes"),
    ("can't start new thread", "processes"),
)

Kill = Callable[[subprocess.Popen], None]


@functools.lru_cache(maxsize=1)
def boot_source() -> bytes:
    """The source of boot.py, the first code run inside the sandbox (sets the rlimits)."""
    return resources.files(__package__).joinpath("boot.py").read_bytes()


def memfd(name: str, data: bytes) -> int:
    """An anonymous in-memory file holding `data`, positioned at its start."""
    fd = os.memfd_create(name, 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def host_uid() -> int:
    """A fresh unprivileged host uid for one run (when we are root)."""
    return random.SystemRandom().randrange(*HOST_UID_RANGE)


def boot_args(path: str, limits: Limits, tree_capped: bool) -> list[str]:
    """boot.py's arguments: PROGRAM CPU_S MEMORY_MB PROCESSES FILE_SIZE_MB OPEN_FILES.

    With a cgroup capping the tree each process may use all of `memory_mb`; without one the
    per-process limits are split so that processes × memory stays within the cap.
    """
    processes, memory_mb = ((limits.processes, limits.memory_mb) if tree_capped
                            else limits.per_process_split())
    return [path, str(limits.cpu_s), str(memory_mb), str(processes), str(limits.file_size_mb),
            str(limits.open_files)]


@contextlib.contextmanager
def program_dir(code: str, uid: int | None) -> Iterator[tuple[str, str]]:
    """A host temp directory with prog/boot.py, prog/main.py and an empty scratch/ (owned by `uid`).

    Yields (prog_dir, scratch); removed afterwards. Used by the backends without bubblewrap.
    """
    work = tempfile.mkdtemp(prefix="reasonlab-sbx-")
    try:
        prog_dir, scratch = os.path.join(work, "prog"), os.path.join(work, "scratch")
        os.mkdir(prog_dir)
        os.mkdir(scratch)
        with open(os.path.join(prog_dir, "boot.py"), "wb") as f:
            f.write(boot_source())
        with open(os.path.join(prog_dir, "main.py"), "w", encoding="utf-8") as f:
            f.write(code)
        if uid is not None:
            os.chmod(work, 0o711)
            os.chmod(prog_dir, 0o755)
            for name in ("boot.py", "main.py"):
                os.chmod(os.path.join(prog_dir, name), 0o644)
            os.chown(scratch, uid, uid)
        yield prog_dir, scratch
    finally:
        shutil.rmtree(work, ignore_errors=True)


def child_env(scratch: str) -> dict[str, str]:
    """The whole environment of a program run outside bubblewrap."""
    return {"HOME": scratch, "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "PATH": "/nonexistent"}


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the child's process group (its session: it was started with setsid)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _preexec(cgroup: RunCgroup | None, uid: int | None, restrict: Callable[[], None] | None) -> Callable[[], None]:
    def setup() -> None:
        os.setsid()
        if cgroup is not None:
            cgroup.join()  # still root here: the cgroup's files are root's
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        if restrict is not None:
            restrict()

    return setup


def launch(argv: list[str], *, stdin: bool, cwd: str, env: dict[str, str], uid: int | None,
           cgroup: RunCgroup | None, restrict: Callable[[], None] | None = None,
           pass_fds: tuple[int, ...] = ()) -> subprocess.Popen:
    """Start the child in its own session (joined to `cgroup`, as `uid`, restricted by `restrict`)."""
    kw: dict = {}
    if cgroup is None and restrict is None:  # nothing to do in the child: let Popen do it (vfork)
        kw = {"start_new_session": True}
        if uid is not None:
            kw |= {"user": uid, "group": uid, "extra_groups": []}
    else:
        kw = {"preexec_fn": _preexec(cgroup, uid, restrict)}
    try:
        return subprocess.Popen(argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=pass_fds,
                                env=env, cwd=cwd, **kw)  # noqa: PLW1509 - restrictions must be set in the child
    except subprocess.SubprocessError as e:  # the child's setup (cgroup, uid, Landlock) failed
        raise SandboxError(f"could not start the sandboxed process: {e}") from e


def collect(proc: subprocess.Popen, limits: Limits, deadline: float,
            kill: Kill = kill_group) -> tuple[bytes, bytes, str | None, bool]:
    """Read stdout/stderr until both close; stop the run at the deadline or past the output cap.

    Returns (stdout, stderr, limit that stopped the run or None, whether output was cut).
    """
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


def classify(code: int | None, stderr: str, limits: Limits, backend: str, elapsed: float = 0.0,
             oom_killed: bool = False) -> tuple[int | None, int | None, str | None]:
    """(exit_code, signal, limit) from the child's status and the tail of its stderr.

    SIGXCPU is the soft CPU limit; SIGKILL is the memory cap when the cgroup reports an OOM kill,
    else the hard CPU limit when the run lasted long enough to have used the CPU allowance (a
    program may also kill itself).
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
        if sig == signal.SIGKILL and oom_killed:
            return None, sig, "memory"
        if sig == signal.SIGKILL and elapsed >= 0.5 * limits.cpu_s:
            return None, sig, "cpu_time"  # wall time and output limits are known before this
        return None, sig, None
    if code != 0:
        tail = "\n".join(stderr.strip().splitlines()[-3:])
        for pattern, name in _STDERR_PATTERNS:
            if pattern in tail:
                return code, None, name
        if oom_killed:
            return code, None, "memory"  # a process of the tree was killed for the memory cap
    return code, None, None


def _feed(proc: subprocess.Popen, stdin: str | None) -> None:
    if stdin is not None and proc.stdin is not None:
        try:
            proc.stdin.write(stdin.encode("utf-8")[:MAX_STDIN_BYTES])
            proc.stdin.close()
        except BrokenPipeError:
            pass


def run_child(argv: list[str], limits: Limits, stdin: str | None, backend: str, *, cwd: str,
              env: dict[str, str], uid: int | None, cgroup: RunCgroup | None,
              restrict: Callable[[], None] | None = None, kill: Kill = kill_group,
              pass_fds: tuple[int, ...] = (), t0: float | None = None) -> SandboxResult:
    """Start `argv` as the sandboxed child, wait for it within `limits`, and describe what it did.

    `cgroup` (from `open_run_cgroup`, may be None) is removed before this returns.
    """
    def kill_all(proc: subprocess.Popen) -> None:
        kill(proc)
        if cgroup is not None:
            cgroup.kill()

    t0 = time.monotonic() if t0 is None else t0
    try:
        proc = launch(argv, stdin=stdin is not None, cwd=cwd, env=env, uid=uid, cgroup=cgroup,
                      restrict=restrict, pass_fds=pass_fds)
        _feed(proc, stdin)
        out, err, limit, truncated = collect(proc, limits, t0 + limits.timeout_s, kill_all)
        oom = cgroup is not None and cgroup.oom_kills() > 0
        refused_forks = cgroup is not None and cgroup.pids_refused() > 0
        peak = cgroup.peak_memory_mb() if cgroup is not None else None
    finally:
        if cgroup is not None:
            cgroup.remove()
    stdout = out.decode("utf-8", "replace")
    stderr = err.decode("utf-8", "replace")
    if backend == "bwrap" and proc.returncode == 1 and stderr.startswith("bwrap:"):
        raise SandboxError(f"bubblewrap failed: {stderr.strip().splitlines()[0]}")
    code, sig, lim = classify(proc.returncode, stderr, limits, backend, time.monotonic() - t0, oom)
    if lim is None and refused_forks and code != 0:
        lim = "processes"
    if limit is not None:
        lim = limit
        code = None if code is None or proc.returncode < 0 or (backend == "bwrap" and proc.returncode > 128) else code
        sig = sig or signal.SIGKILL
    return SandboxResult(stdout=stdout, stderr=stderr, exit_code=code, signal=sig, limit=lim,
                         seconds=time.monotonic() - t0, backend=backend, truncated=truncated,
                         peak_memory_mb=None if peak is None else round(peak, 1))

