"""The llama-cpp-python module, imported and initialised once, and a GGUF file's identity.

Kept apart from `llama.py` so that `weights.py` (which `llama.py` uses) can reach both without an
import cycle.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from .base import ModelError

_BACKEND_LOCK = threading.Lock()
_BACKEND_READY = False


def llama_cpp_module() -> Any:
    """Import llama_cpp once and initialise its backend quietly."""
    global _BACKEND_READY
    try:
        import llama_cpp
        from llama_cpp import _logger
    except ImportError:
        raise ModelError("the llama backend needs llama-cpp-python: pip install 'llama-cpp-python==0.3.36'") from None
    with _BACKEND_LOCK:
        if not _BACKEND_READY:
            _logger.set_verbose(False)
            llama_cpp.llama_backend_init()
            _BACKEND_READY = True
    return llama_cpp


def file_identity(path: Path) -> str:
    """Name, size and a hash of the first MiB (the GGUF header and metadata): stable across copies."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        h.update(f.read(1 << 20))
    return f"{path.name}:{path.stat().st_size}:{h.hexdigest()[:16]}"
