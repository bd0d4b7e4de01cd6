"""Batch-friendly weights: a Q8_0 copy of a GGUF whose weight type has no batched matmul in ggml.

On a CPU, llama.cpp decodes several sequences in one step through matrix-matrix kernels
(llamafile's tinyBLAS, ggml's repacked kernels) that exist for Q8_0, Q4_0, Q5_0, IQ4_NL and the
float types, but not for Q4_1 or Q5_1: with those a step of 8 sequences is 8 row-by-row dot
products (SmolLM2's Q4_1: ~5x the one-sequence step). Requantized to Q8_0 the same model is
near-lossless (perplexity +0.4 % on GSM8K text) and its batched steps are 1.4–1.7x cheaper, but a
single stream is up to ~10 % slower (docs/BENCHMARKS.md, issue 15).

Setting (``--weights``, env ``REASONLAB_WEIGHTS``):

- ``auto`` (default): use the Q8_0 copy only for a file of a type in `NO_BATCHED_PATH` and only in
  a process that will decode several sequences at once (`expect_batching`: ``serve``,
  ``eval -c N>1``, ``ask``/``run`` of a strategy that samples k > 1); otherwise the file itself;
- ``original``: always the file itself;
- ``q8_0``: a Q8_0 copy of any file that is not Q8_0 already.

The copy is written once into the user cache (``$XDG_CACHE_HOME/reasonlab/models/q8_0/``, keyed
by the source's `file_identity`), through a temporary file renamed into place, so a killed
conversion never leaves a truncated copy under the final name; a copy that llama.cpp cannot load
is deleted and converted again (`LlamaModel`).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import struct
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from .base import ModelError
from .llama_backend import file_identity, llama_cpp_module

WEIGHTS_ENV = "REASONLAB_WEIGHTS"
MODES = ("auto", "original", "q8_0")
# llama_ftype values (general.file_type)
FTYPE_NAMES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
               11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
               17: "Q5_K_M", 18: "Q6_K", 25: "IQ4_NL", 32: "BF16"}
Q8_0 = 7
NO_BATCHED_PATH = (3, 9)  # Q4_1, Q5_1: no tinyBLAS / repack kernel in ggml's CPU backend
_BATCHING = False


def weights_mode(mode: str | None = None) -> str:
    """The setting: `mode` if given, else REASONLAB_WEIGHTS, else auto; ModelError when unknown."""
    raw = (mode if mode is not None else os.environ.get(WEIGHTS_ENV, "")).strip().lower() or "auto"
    if raw not in MODES:
        src = "weights" if mode is not None else WEIGHTS_ENV
        raise ModelError(f"{src}={raw!r} is not one of {', '.join(MODES)}")
    return raw


def set_weights(mode: str | None) -> None:
    """What `--weights MODE` does: every local model loaded afterwards in this process follows it."""
    if mode is not None:
        os.environ[WEIGHTS_ENV] = weights_mode(mode)


def expect_batching(on: bool = True) -> None:
    """Declare that this process will decode several sequences at once (serve, eval -c N>1, k > 1)."""
    global _BATCHING
    _BATCHING = on


def batching_expected() -> bool:
    return _BATCHING


# -- reading the GGUF header -------------------------------------------------------------------
_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


def _read(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise ValueError("the file ends inside its header")
    return data


def _value(f: BinaryIO, vtype: int) -> Any:
    if vtype in _SCALAR:
        fmt = _SCALAR[vtype]
        return struct.unpack(fmt, _read(f, struct.calcsize(fmt)))[0]
    if vtype == _STRING:
        (n,) = struct.unpack("<Q", _read(f, 8))
        return _read(f, n)
    if vtype == _ARRAY:
        etype, count = struct.unpack("<IQ", _read(f, 12))
        if etype in _SCALAR:  # skip fixed-size elements at once
            f.seek(struct.calcsize(_SCALAR[etype]) * count, os.SEEK_CUR)
        else:
            for _ in range(count):
                _value(f, etype)
        return None
    raise ValueError(f"unknown GGUF value type {vtype}")


def file_type(path: Path) -> int | None:
    """general.file_type of a GGUF (a llama_ftype: 3 = Q4_1, 7 = Q8_0, …), None when it has none."""
    with path.open("rb") as f:
        if _read(f, 4) != b"GGUF":
            raise ValueError("not a GGUF file")
        version, _n_tensors, n_kv = struct.unpack("<IQQ", _read(f, 20))
        if version < 2:
            raise ValueError(f"GGUF version {version} is too old")
        for _ in range(n_kv):
            (klen,) = struct.unpack("<Q", _read(f, 8))
            key = _read(f, klen)
            (vtype,) = struct.unpack("<I", _read(f, 4))
            value = _value(f, vtype)
            if key == b"general.file_type" and isinstance(value, int):
                return value & 0x3FF  # the high bit marks "guessed" in old files
    return None


def type_name(ftype: int | None) -> str:
    return "unknown" if ftype is None else FTYPE_NAMES.get(ftype, f"type {ftype}")


# -- the Q8_0 copy ------------------------------------------------------------------------------
def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "reasonlab" / "models" / "q8_0"


def cached_copy(src: Path) -> Path:
    """Where the Q8_0 copy of `src` lives: named after the file, keyed by its identity."""

    key = hashlib.sha256(file_identity(src).encode()).hexdigest()[:16]
    return cache_dir() / f"{src.stem}.{key}.q8_0.gguf"


def convert(src: Path, dst: Path, threads: int = 0) -> Path:
    """Requantize `src` to Q8_0 at `dst` through a temporary file in the same folder (atomic)."""

    lc = llama_cpp_module()
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".partial")
        os.close(fd)
    except OSError as e:
        raise ModelError(f"cannot write the Q8_0 copy of {src.name} into {dst.parent}: {e.strerror or e}") from None
    try:
        params = lc.llama_model_quantize_default_params()
        params.ftype = lc.LLAMA_FTYPE_MOSTLY_Q8_0
        params.allow_requantize = True
        params.nthread = max(0, threads)
        from llama_cpp._utils import suppress_stdout_stderr

        with suppress_stdout_stderr(disable=False):  # llama.cpp prints every tensor it converts
            rc = lc.llama_model_quantize(str(src).encode(), tmp.encode(), ctypes.byref(params))
        if rc != 0 or os.path.getsize(tmp) == 0:
            raise ModelError(f"cannot convert {src} to Q8_0 (llama.cpp returned {rc}); use --weights original")
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the copy from the user's other tools
        os.replace(tmp, dst)
    except OSError as e:
        raise ModelError(f"cannot write the Q8_0 copy of {src.name} into {dst.parent}: {e.strerror or e}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dst


def choose(src: Path, mode: str | None = None, batching: bool | None = None) -> tuple[Path, str]:
    """(file to load, a note on what was chosen) for GGUF `src` under the weights setting."""
    mode = weights_mode(mode)
    if mode == "original":
        return src, "original"
    try:
        ftype = file_type(src)
    except (OSError, ValueError) as e:
        if mode == "auto":  # llama.cpp may still read it: load it as it is
            return src, "original (unknown)"
        raise ModelError(f"cannot read the GGUF header of {src}: {e}") from None
    batching = batching_expected() if batching is None else batching
    if ftype == Q8_0 or (mode == "auto" and (ftype not in NO_BATCHED_PATH or not batching)):
        return src, f"original ({type_name(ftype)})"
    dst = cached_copy(src)
    if not (dst.is_file() and dst.stat().st_size > 0 and _is_q8_0(dst)):
        convert(src, dst)
    return dst, f"q8_0 (from {type_name(ftype)})"


def _is_q8_0(path: Path) -> bool:
    try:
        return file_type(path) == Q8_0
    except (OSError, ValueError):
        return False


def discard(path: Path) -> None:
    """Delete a cached copy llama.cpp could not load (the next `choose` converts again)."""
    if path.parent == cache_dir():
        try:
            path.unlink()
        except OSError:
            pass
