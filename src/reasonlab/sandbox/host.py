"""What the sandbox found on this host: the interpreter programs run with (and the paths it
needs), and the chosen backend (`SandboxInfo`, filled in by `detect`)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

_PROBE = ("import json, sys, sysconfig\n"
          "print(json.dumps({'executable': sys.executable, 'version': list(sys.version_info[:2]),"
          " 'stdlib': sysconfig.get_paths()['stdlib'], 'platstdlib': sysconfig.get_paths()['platstdlib'],"
          " 'multiarch': sysconfig.get_config_var('MULTIARCH') or ''}))")


@dataclass(frozen=True)
class Interpreter:
    """A Python interpreter and the host paths it needs at run time (all read-only)."""

    executable: str  # resolved path of the binary
    version: tuple[int, int]
    stdlib: str
    files: tuple[str, ...] = ()  # single files to bind (the binary, a libpython outside system dirs)
    dirs: tuple[str, ...] = ()  # directories to bind (stdlib, system library dirs)
    hide: tuple[str, ...] = ()  # directories inside bound ones to mask with an empty tmpfs


@dataclass
class SandboxInfo:
    """What `detect()` found: the backend to use, why, and the interpreter."""

    backend: str  # "bwrap" | "landlock" | "none"
    reason: str
    interpreter: Interpreter | None = None
    bwrap: str | None = None
    drop_uid: bool = False  # running as root: the sandbox switches to an unprivileged uid first
    notes: list[str] = field(default_factory=list)
    tree_limits: str = ""  # how memory and process count of the whole tree are capped

    def to_dict(self) -> dict:
        return {"backend": self.backend, "reason": self.reason, "bwrap": self.bwrap,
                "drop_uid": self.drop_uid, "notes": self.notes, "tree_limits": self.tree_limits,
                "interpreter": None if self.interpreter is None else {
                    "executable": self.interpreter.executable,
                    "version": ".".join(map(str, self.interpreter.version)),
                    "binds": [*self.interpreter.files, *self.interpreter.dirs]}}


def _others_can_reach(path: str) -> bool:
    """True when a user with no special rights can read `path` (every parent searchable)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return False
    if not st.st_mode & stat.S_IROTH:
        return False
    for parent in p.parents:
        try:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _ldd(path: str) -> list[str]:
    """Resolved shared libraries of an executable (empty when ldd is missing)."""
    ldd = shutil.which("ldd")
    if not ldd:
        return []
    try:
        out = subprocess.run([ldd, path], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    libs = []
    for line in out.splitlines():
        parts = line.split("=>")
        target = (parts[1] if len(parts) > 1 else parts[0]).strip().split(" (")[0].strip()
        if target.startswith("/"):
            libs.append(os.path.realpath(target))
    return libs


SYSTEM_LIB_DIRS = ("/usr/lib64", "/usr/lib32")


def describe_interpreter(executable: str) -> Interpreter | None:
    """Ask `executable` where its stdlib is and work out the paths to bind; None if it does not run."""
    exe = os.path.realpath(executable)
    try:
        out = subprocess.run([exe, "-I", "-S", "-c", _PROBE], capture_output=True, text=True, timeout=20,
                             env={})
        info = json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    stdlib = os.path.realpath(info["stdlib"])
    dirs: list[str] = [stdlib]
    plat = os.path.realpath(info["platstdlib"])
    if not plat.startswith(stdlib + os.sep) and plat != stdlib:
        dirs.append(plat)
    sys_dirs: list[str] = []
    multiarch = info.get("multiarch") or ""
    if multiarch and os.path.isdir(f"/usr/lib/{multiarch}"):
        sys_dirs.append(f"/usr/lib/{multiarch}")
    else:
        sys_dirs.append("/usr/lib")
    sys_dirs += [d for d in SYSTEM_LIB_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    files = [exe]
    for lib in _ldd(exe):
        if not any(lib.startswith(d + os.sep) for d in sys_dirs + dirs):
            files.append(lib)
    hide = [os.path.join(stdlib, sub) for sub in ("site-packages", "dist-packages")
            if os.path.isdir(os.path.join(stdlib, sub))]
    return Interpreter(executable=exe, version=tuple(info["version"]), stdlib=stdlib,
                       files=tuple(dict.fromkeys(files)), dirs=tuple(dict.fromkeys(dirs + sys_dirs)),
                       hide=tuple(hide))


def _candidates() -> list[str]:
    env = os.environ.get("REASONLAB_SANDBOX_PYTHON")
    if env:
        return [env]
    base = getattr(sys, "_base_executable", None) or sys.executable
    found = [base, sys.executable]
    for name in (f"python{sys.version_info[0]}.{sys.version_info[1]}", "python3"):
        for d in ("/usr/bin", "/usr/local/bin"):
            found.append(os.path.join(d, name))
    return [c for c in dict.fromkeys(found) if c and os.path.exists(c)]


def find_interpreter(need_public: bool) -> tuple[Interpreter | None, list[str]]:
    """The first candidate interpreter that runs (and, when dropping to another uid, that it can read)."""
    notes = []
    for cand in _candidates():
        interp = describe_interpreter(cand)
        if interp is None:
            notes.append(f"{cand}: does not run")
            continue
        if need_public:
            hidden = [p for p in (*interp.files, *interp.dirs) if not _others_can_reach(p)]
            if hidden:
                notes.append(f"{cand}: not readable by an unprivileged user ({hidden[0]})")
                continue
        return interp, notes
    return None, notes
