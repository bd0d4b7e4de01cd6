"""Isolated execution of model-written Python (bubblewrap + resource limits).

    from reasonlab.sandbox import run_code, Limits
    r = run_code("print(6 * 7)", Limits(timeout_s=5))
    r.stdout, r.exit_code, r.limit   # '42\\n', 0, None

Model-written code is hostile input: it never runs in this process. See docs/code.md.
"""

from .detect import SandboxInfo, detect
from .result import LIMITS, Limits, SandboxError, SandboxResult, SandboxUnavailable
from .runner import run_code, run_file

__all__ = ["LIMITS", "Limits", "SandboxError", "SandboxInfo", "SandboxResult", "SandboxUnavailable",
           "detect", "run_code", "run_file"]
