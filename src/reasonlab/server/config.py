"""Server settings and the bind-address security rule."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from .security import is_loopback

API_KEY_ENV = "REASONLAB_API_KEY"
API_KEYS_ENV = "REASONLAB_API_KEYS"  # several keys, comma-separated: one client each
ADMIN_KEY_ENV = "REASONLAB_ADMIN_KEY"


@dataclass
class ServerConfig:
    """Everything `reasonlab serve` can set. Limits protect the machine from oversized requests."""

    host: str = "127.0.0.1"
    port: int = 8000
    models: list[str] = field(default_factory=lambda: ["smollm2"])
    default_strategy: str = "zero-shot-cot"
    api_key: str | None = None  # one client key (kept for the single-key case); see api_keys
    api_keys: list[str] = field(default_factory=list)  # each key is one client; traces are per client
    admin_key: str | None = None  # sees every client's traces
    allowed_hosts: list[str] | None = None  # Host names accepted; None: loopback names (or any, see hosts())
    max_body_bytes: int = 256 * 1024  # request body limit (413 beyond)
    max_tokens_limit: int = 2048  # largest max_tokens a request (or a strategy option) may ask for
    max_calls: int = 64  # model calls one request may make
    queue_size: int = 32  # requests admitted (running + waiting); beyond: 429
    workers: int = 4  # requests running at once (their model calls are interleaved fairly)
    trace_limit: int = 256  # traces kept in memory for GET /v1/traces/{id}
    cache: bool = False  # use the persistent completion cache
    merge_identical: bool = True  # concurrent identical model calls run once
    threads: int | None = None  # CPU threads of local (llama) models; None: the backend's default
    sandbox_memory_mb: int = 512  # ceiling of every sandboxed program's process tree; requests may only lower it
    sandbox_timeout_s: float = 10.0  # ceiling of every sandboxed program's wall clock; requests may only lower it

    def __post_init__(self) -> None:
        if self.api_key and self.api_key not in self.api_keys:
            self.api_keys = [self.api_key, *self.api_keys]
        self.api_key = self.api_key or (self.api_keys[0] if self.api_keys else None)
        if not self.models:
            raise InputError("the server needs at least one --model")
        for name, value in (("queue size", self.queue_size), ("workers", self.workers),
                            ("max body bytes", self.max_body_bytes), ("max tokens limit", self.max_tokens_limit),
                            ("max calls", self.max_calls)):
            if value < 1:
                raise InputError(f"{name} must be at least 1 (got {value})")
        self.sandbox_limits()  # refuses non-positive, non-finite or too large ceilings

    def sandbox_limits(self) -> Any:
        """The operator's sandbox ceilings as `sandbox.Limits` (what a request may only tighten)."""
        from ..sandbox import Limits

        try:
            return Limits(memory_mb=self.sandbox_memory_mb, timeout_s=self.sandbox_timeout_s)
        except InputError as e:
            raise InputError(f"sandbox ceiling: {e}") from None


def resolve_api_key(given: str | None) -> str | None:
    """The key from --api-key, else from the environment; empty means none."""
    key = given if given is not None else os.environ.get(API_KEY_ENV)
    return key or None


def check_bind(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond this machine without an API key."""
    if not is_loopback(host) and not api_key:
        raise InputError(
            f"binding to {host} exposes the server to the network: set an API key with --api-key "
            f"or {API_KEY_ENV} (or bind to 127.0.0.1)"
        )


def resolve_api_keys(given: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Keys from --api-key (repeatable), else REASONLAB_API_KEYS (comma-separated) and REASONLAB_API_KEY."""
    keys = [k.strip() for k in given if k and k.strip()]
    if not keys:
        keys = [k.strip() for k in os.environ.get(API_KEYS_ENV, "").split(",") if k.strip()]
        single = os.environ.get(API_KEY_ENV, "").strip()
        if single and single not in keys:
            keys.append(single)
    return list(dict.fromkeys(keys))


def accepted_hosts(config: ServerConfig) -> list[str] | None:
    """Host header names the server answers: the configured list, else loopback names when bound to
    loopback, else the bound address (None — any — when bound to all interfaces)."""
    if config.allowed_hosts:
        return list(config.allowed_hosts)
    if is_loopback(config.host):
        return ["localhost", "127.0.0.1", "::1"]
    if config.host in ("0.0.0.0", "::", ""):
        return None
    return [config.host]
