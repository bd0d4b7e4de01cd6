"""Memory and process-count caps on the whole process tree of a run, through a cgroup.

Each run gets a fresh cgroup with `memory_mb` as its memory limit (swap included where swap is
accounted) and `processes` as its pids limit. The child joins it before it execs anything (as
root, before it drops to the sandbox uid), so everything it starts is counted; when the run ends
every process still in it is killed and the cgroup removed.

Where the cgroup is made, tried in order (`cgroup_layout`, decided once per process):
  v2  `REASONLAB_SANDBOX_CGROUP` (a delegated, empty cgroup v2 directory), else a sibling of
      this process's own cgroup (its parent already hands `memory` and `pids` to its children),
      else a child of the root cgroup when this process sits in it;
  v1  the `memory` and `pids` hierarchies (each under this process's own path in it).
Each candidate is tested by making and removing a cgroup. Typically only root can do this
(or a user with a delegated cgroup v2 subtree). Where none works — or with
REASONLAB_SANDBOX_CGROUP=none — the caps fall back to per-process rlimits sized so their
product stays within the cap (`Limits.per_process_split`). `reasonlab sandbox check` says which.
"""

from __future__ import annotations

import functools
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from .limits import Limits

MIB = 1024 * 1024


@dataclass(frozen=True)
class CgroupLayout:
    """Where per-run cgroups are made: version 2 (one directory) or 1 (one per controller)."""

    version: int
    parents: dict[str, str]  # controller ("unified" for v2, else "memory"/"pids") -> parent directory

    def describe(self) -> str:
        where = ", ".join(sorted(set(self.parents.values())))
        return f"cgroup v{self.version} per run (memory + pids of the whole tree) under {where}"


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, super options) of every cgroup mount."""
    out = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        left, _, right = line.partition(" - ")
        parts, rparts = left.split(), right.split()
        if len(parts) >= 5 and len(rparts) >= 3 and rparts[0] in ("cgroup", "cgroup2"):
            out.append((parts[4], rparts[0], set(rparts[2].split(","))))
    return out


def _own_paths() -> dict[str, str]:
    """This process's cgroup path per controller ("unified" for the v2 entry)."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        _, ctrls, path = line.split(":", 2)
        for c in ctrls.split(",") if ctrls else ["unified"]:
            paths[c] = path
    return paths


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _disabled() -> bool:
    return os.environ.get("REASONLAB_SANDBOX_CGROUP", "").strip().lower() in ("none", "off", "0")


def _v2_candidates() -> list[str]:
    env = os.environ.get("REASONLAB_SANDBOX_CGROUP")
    if env:
        return [env]
    own = _own_paths().get("unified")
    mount = next((m for m, fs, _ in _mounts() if fs == "cgroup2"), None)
    if own is None or mount is None:
        return []
    here = os.path.normpath(os.path.join(mount, own.lstrip("/")))
    if own == "/":
        try:  # the root cgroup may hold processes and still hand controllers down
            if not {"memory", "pids"} <= set(_read(f"{here}/cgroup.subtree_control").split()):
                _write(f"{here}/cgroup.subtree_control", "+memory +pids")
        except OSError:
            pass
        return [here]
    return [os.path.dirname(here.rstrip("/"))]


def _v1_parents() -> dict[str, str] | None:
    own = _own_paths()
    parents = {}
    for ctrl in ("memory", "pids"):
        mount = next((m for m, fs, opts in _mounts() if fs == "cgroup" and ctrl in opts), None)
        if mount is None or ctrl not in own:
            return None
        parents[ctrl] = os.path.normpath(os.path.join(mount, own[ctrl].lstrip("/")))
    return parents


def _works(layout: CgroupLayout) -> str | None:
    """None when a capped cgroup can be made and removed with `layout`, else why not."""
    try:
        cg = RunCgroup(layout, Limits(memory_mb=64, processes=4))
    except OSError as e:
        return f"{e.strerror or e} ({getattr(e, 'filename', '') or ''})"
    cg.remove()
    return None


def _remove_stale(layout: CgroupLayout) -> None:
    """Remove empty run cgroups left by a reasonlab process that died (kill -9) mid-run."""
    for parent in layout.parents.values():
        for d in Path(parent).glob("reasonlab-sandbox-*-*"):
            pid = d.name.split("-")[2]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                try:
                    os.rmdir(d)
                except OSError:
                    pass  # still holds processes: left alone


@functools.lru_cache(maxsize=1)
def cgroup_layout() -> tuple[CgroupLayout | None, str]:
    """(layout, description) of how tree caps work here; layout None means per-process rlimits."""
    if _disabled():
        return None, "per-process rlimits sized so their product stays within the cap (REASONLAB_SANDBOX_CGROUP=none)"
    why: list[str] = []
    for parent in _v2_candidates():
        ctrls = set(_read(os.path.join(parent, "cgroup.subtree_control")).split())
        if not {"memory", "pids"} <= ctrls:
            why.append(f"cgroup v2 {parent}: memory/pids not delegated to children")
            continue
        layout = CgroupLayout(2, {"unified": parent})
        err = _works(layout)
        if err is None:
            _remove_stale(layout)
            return layout, layout.describe()
        why.append(f"cgroup v2 {parent}: {err}")
    v1 = _v1_parents()
    if v1 is not None:
        layout = CgroupLayout(1, v1)
        err = _works(layout)
        if err is None:
            _remove_stale(layout)
            return layout, layout.describe()
        why.append(f"cgroup v1: {err}")
    else:
        why.append("no cgroup v1 memory+pids hierarchies")
    return None, "per-process rlimits sized so their product stays within the cap (" + "; ".join(why) + ")"


class RunCgroup:
    """The cgroup(s) of one run, made with the caps of `limits`. Raises OSError when it cannot."""

    def __init__(self, layout: CgroupLayout, limits: Limits) -> None:
        self.layout = layout
        name = f"reasonlab-sandbox-{os.getpid()}-{secrets.token_hex(4)}"
        self.dirs: dict[str, str] = {}
        self._procs: list[str] = []
        try:
            for ctrl, parent in layout.parents.items():
                d = os.path.join(parent, name)
                os.mkdir(d, 0o755)
                self.dirs[ctrl] = d
                self._procs.append(os.path.join(d, "cgroup.procs"))
            mem, pids = self._dir("memory"), self._dir("pids")
            cap = limits.memory_mb * MIB
            if layout.version == 2:
                _write(f"{mem}/memory.max", str(cap))
                if os.path.exists(f"{mem}/memory.swap.max"):
                    _write(f"{mem}/memory.swap.max", "0")
            else:
                _write(f"{mem}/memory.limit_in_bytes", str(cap))
                if os.path.exists(f"{mem}/memory.memsw.limit_in_bytes"):
                    _write(f"{mem}/memory.memsw.limit_in_bytes", str(cap))
            _write(f"{pids}/pids.max", str(limits.processes))
        except OSError:
            self.remove()
            raise

    def _dir(self, ctrl: str) -> str:
        return self.dirs["unified" if self.layout.version == 2 else ctrl]

    def join(self) -> None:
        """Move the calling process into the cgroup(s): run in the child before it execs (and,
        as root, before it drops privileges: the cgroup files are root's)."""
        me = str(os.getpid())
        for path in self._procs:
            _write(path, me)

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self._procs:
            found |= {int(p) for p in _read(path).split()}
        return found

    def _count(self, file: str, ctrl: str, key: str) -> int:
        for line in _read(os.path.join(self._dir(ctrl), file)).splitlines():
            k, _, v = line.partition(" ")
            if k == key and v.strip().isdigit():
                return int(v)
        return 0

    def oom_kills(self) -> int:
        """Processes the kernel killed for the memory cap."""
        if self.layout.version == 2:
            return self._count("memory.events", "memory", "oom_kill")
        return self._count("memory.oom_control", "memory", "oom_kill")

    def pids_refused(self) -> int:
        """Forks refused by the process-count cap."""
        return self._count("pids.events", "pids", "max")

    def peak_memory_mb(self) -> float | None:
        """The tree's peak memory (kernel's count, page cache and tmpfs included)."""
        name = "memory.peak" if self.layout.version == 2 else "memory.max_usage_in_bytes"
        text = _read(os.path.join(self._dir("memory"), name)).strip()
        return int(text) / MIB if text.isdigit() else None

    def kill(self) -> None:
        """SIGKILL every process in the cgroup (those that left the session included)."""
        kill_file = os.path.join(self.dirs.get("unified", ""), "cgroup.kill")
        if self.layout.version == 2 and os.path.exists(kill_file):
            try:
                _write(kill_file, "1")
                return
            except OSError:
                pass
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def remove(self) -> None:
        """Kill what is left and remove the cgroup(s); retries while the last processes exit."""
        if not self.dirs:
            return
        self.kill()
        for d in list(self.dirs.values()):
            for attempt in range(100):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01 * min(attempt + 1, 10))
                    self.kill()
        self.dirs = {}


def open_run_cgroup(limits: Limits) -> RunCgroup | None:
    """A capped cgroup for one run, or None where tree caps fall back to per-process rlimits."""
    layout, _ = cgroup_layout()
    if layout is None or _disabled():
        return None
    try:
        return RunCgroup(layout, limits)
    except OSError:
        return None
