"""Server settings and the bind-address security rule."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

from ..errors import InputError

API_KEY_ENV = "REASONLAB_API_KEY"


@dataclass
class ServerConfig:
    """Everything `reasonlab serve` can set. Limits protect the machine from oversized requests."""

    host: str = "127.0.0.1"
    port: int = 8000
    models: list[str] = field(default_factory=lambda: ["smollm2"])
    default_strategy: str = "zero-shot-cot"
    api_key: str | None = None
    max_body_bytes: int = 256 * 1024  # request body limit (413 beyond)
    max_tokens_limit: int = 2048  # largest max_tokens a request (or a strategy option) may ask for
    max_calls: int = 64  # model calls one request may make
    queue_size: int = 32  # requests admitted (running + waiting); beyond: 429
    workers: int = 4  # requests running at once (their model calls are interleaved fairly)
    trace_limit: int = 256  # traces kept in memory for GET /v1/traces/{id}
    cache: bool = False  # use the persistent completion cache
    merge_identical: bool = True  # concurrent identical model calls run once
    threads: int | None = None  # CPU threads of local (llama) models; None: the backend's default

    def __post_init__(self) -> None:
        if not self.models:
            raise InputError("the server needs at least one --model")
        for name, value in (("queue size", self.queue_size), ("workers", self.workers),
                            ("max body bytes", self.max_body_bytes), ("max tokens limit", self.max_tokens_limit),
                            ("max calls", self.max_calls)):
            if value < 1:
                raise InputError(f"{name} must be at least 1 (got {value})")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
