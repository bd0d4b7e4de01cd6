"""Isolated execution of model-written Python (bubblewrap or Landlock, resource limits, tree caps).

    from reasonlab.sandbox import run_code, Limits
    r = run_code("print(6 * 7)", Limits(timeout_s=5))
    r.stdout, r.exit_code, r.limit   # '42\\n', 0, None

Model-written code is hostile input: it never runs in this process. See docs/code.md.
Layout (each module imports only the ones above it):
  execution   SandboxResult, LIMITS, SandboxError/SandboxUnavailable
  limits      Limits (checked; `tightened_by` for requests)
  host        the interpreter and SandboxInfo;  seccomp  the syscall filter
  tree_limits per-run cgroups capping memory/processes of the whole tree
  child       the child-process layer: boot, start, collect, classify, kill
  bwrap / landlock / unisolated   one module per backend
  detect      picks the backend;  dispatch  run_code / run_file
"""

from .detect import detect
from .dispatch import MAX_PROGRAM_BYTES, read_program, run_code, run_file
from .execution import LIMITS, SandboxError, SandboxResult, SandboxUnavailable
from .host import SandboxInfo
from .limits import Limits, capped, set_ceiling

__all__ = ["LIMITS", "MAX_PROGRAM_BYTES", "Limits", "SandboxError", "SandboxInfo", "SandboxResult",
           "SandboxUnavailable", "capped", "detect", "read_program", "run_code", "run_file", "set_ceiling"]
