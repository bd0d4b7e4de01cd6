"""Pick the isolation backend for this machine (once per process).

Backends, best first:
  bwrap       bubblewrap with all namespaces unshared (Debian package `bubblewrap`)
  landlock    unprivileged uid + Landlock (files, TCP, signals) + seccomp (sockets, ptrace…)
  none        no isolation: runs are refused unless the caller allows unsafe execution
Also reported: how memory and process count of a run's whole tree are capped (`tree_limits`).
"""

from __future__ import annotations

import functools
import os
import shutil
import sys

from .bwrap import probe
from .host import SandboxInfo, find_interpreter
from .landlock import landlock_status
from .tree_limits import cgroup_layout


@functools.lru_cache(maxsize=1)
def detect() -> SandboxInfo:
    """Pick the best working backend on this machine (cached for the process)."""
    if sys.platform != "linux":
        return SandboxInfo("none", f"no sandbox backend for {sys.platform} (bubblewrap and Landlock are Linux-only)")
    root = os.geteuid() == 0
    interp, notes = find_interpreter(need_public=root)
    caps = cgroup_layout()[1]
    if interp is None:
        return SandboxInfo("none", "no Python interpreter usable inside the sandbox"
                           + (" by an unprivileged user; set REASONLAB_SANDBOX_PYTHON" if root else ""),
                           notes=notes, tree_limits=caps)
    bwrap = shutil.which("bwrap")
    if bwrap:
        info = SandboxInfo("bwrap", "bubblewrap works", interp, bwrap, drop_uid=root, notes=notes, tree_limits=caps)
        err = probe(info)
        if err is None:
            return info
        notes.append(f"bubblewrap does not work here: {err}")
    else:
        notes.append("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    ok, why = landlock_status()
    if ok:
        return SandboxInfo("landlock", why, interp, None, drop_uid=root, notes=notes, tree_limits=caps)
    notes.append(why)
    return SandboxInfo("none", "no isolation available: " + "; ".join(notes), interp, notes=notes, tree_limits=caps)
