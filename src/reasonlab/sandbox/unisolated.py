"""The unisolated backend, only for an explicit ``--unsafe-exec`` where no isolation works.

The program still never runs in this process: it gets a child process of its own, in its own
session, with the resource limits (and the run's cgroup, where one can be made), as a fresh
unprivileged uid when we are root — but it can read and write whatever that uid can.
"""

from __future__ import annotations

import os
import shutil
import time

from .child import boot_args, child_env, host_uid, program_dir, run_child
from .execution import SandboxResult
from .host import SandboxInfo
from .limits import Limits
from .tree_limits import open_run_cgroup


def run_unisolated(info: SandboxInfo, code: str, limits: Limits, stdin: str | None) -> SandboxResult:
    """Run `code` in a plain child process with resource limits, nothing else."""
    interp = info.interpreter
    exe = interp.executable if interp is not None else os.path.realpath(shutil.which("python3") or "python3")
    uid = host_uid() if info.drop_uid else None
    with program_dir(code, uid) as (prog_dir, scratch):
        t0 = time.monotonic()
        cgroup = open_run_cgroup(limits)
        argv = [exe, "-I", "-S", "-B", os.path.join(prog_dir, "boot.py"),
                *boot_args(os.path.join(prog_dir, "main.py"), limits, tree_capped=cgroup is not None)]
        return run_child(argv, limits, stdin, "unsafe", cwd=scratch, env=child_env(scratch), uid=uid,
                         cgroup=cgroup, t0=t0)
