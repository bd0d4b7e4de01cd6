"""ASGI middleware: API keys (one client per key), cross-site request checks, the body-size limit."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
from typing import Any

Scope = dict[str, Any]


def presented_key(headers: dict[str, str]) -> str | None:
    """The key a request carries: `Authorization: Bearer K`, Basic auth (password K) or `X-API-Key: K`."""
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return password or user
    return headers.get("x-api-key") or None


async def _send_json(send: Any, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": data})


def _error(message: str, type_: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def client_id(key: str) -> str:
    """A stable, non-reversible name for the client holding `key` (traces and queues use it)."""
    return "client-" + hashlib.sha256(key.encode()).hexdigest()[:12]


LOCAL_CLIENT = "local"  # every request of a server without keys is this one client


class APIKeyMiddleware:
    """Every HTTP request must present one of the keys; each key is its own client.

    The request's client id and whether it holds the admin key go into `scope["state"]`
    (`request.state.client`, `request.state.admin`). Page routes ask the browser for the key
    (Basic auth, password = key), so the page's own requests then carry it automatically.
    """

    def __init__(self, app: Any, keys: list[str] | None = None, admin_key: str | None = None) -> None:
        self.app = app
        self.keys = [k.encode() for k in (keys or []) if k]
        self.admin_key = admin_key.encode() if admin_key else None

    def identify(self, key: str | None) -> tuple[str, bool] | None:
        """(client id, is admin) for a presented key, or None when it is not one of ours."""
        if key is None:
            return None
        given = key.encode()
        if self.admin_key is not None and hmac.compare_digest(given, self.admin_key):
            return "admin", True
        found = None
        for k in self.keys:  # compare against every key: no timing hint of which one matched
            if hmac.compare_digest(given, k):
                found = k
        return (client_id(found.decode()), False) if found is not None else None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if not self.keys and self.admin_key is None:
            state["client"], state["admin"] = LOCAL_CLIENT, False
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        key = presented_key(headers)
        who = self.identify(key)
        if who is not None:
            state["client"], state["admin"] = who
            await self.app(scope, receive, send)
            return
        msg = "missing API key" if key is None else "invalid API key"
        # Both schemes: API clients send Bearer; a browser asks its user (Basic, password = key) and
        # then sends the credentials with the page's own requests.
        await _send_json(send, 401, _error(f"{msg}: send 'Authorization: Bearer KEY'", "authentication_error",
                                           "invalid_api_key"),
                         [(b"www-authenticate", b'Bearer realm="reasonlab"'),
                          (b"www-authenticate", b'Basic realm="reasonlab", charset="UTF-8"')])


def host_name(value: str) -> str:
    """The host part of a Host header or an origin's netloc: 'Example.org:8000' → 'example.org'."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class CrossSiteMiddleware:
    """Refuse requests a foreign web page could make: wrong Host (DNS rebinding), foreign Origin,
    and state-changing requests that are not JSON (a cross-site form or `text/plain` POST).

    `allowed_hosts` None accepts any Host (a server bound to all interfaces with keys, no list given).
    """

    def __init__(self, app: Any, allowed_hosts: list[str] | None, loopback_only: bool) -> None:
        self.app = app
        self.allowed = {host_name(h) for h in allowed_hosts} if allowed_hosts is not None else None
        self.loopback_only = loopback_only

    def host_ok(self, host: str) -> bool:
        name = host_name(host)
        if self.loopback_only and is_loopback(name):
            return True
        return self.allowed is None or name in self.allowed

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not self.host_ok(host):
            await _send_json(send, 421, _error(f"host {host[:80]!r} is not served here (see --allowed-host)",
                                               "invalid_request_error", "host_not_allowed"), [])
            return
        origin = headers.get("origin")
        if origin and origin != "null":
            netloc = origin.split("://", 1)[-1].split("/", 1)[0]
            if netloc.lower() != host.strip().lower():
                await _send_json(send, 403, _error("cross-origin requests are refused",
                                                   "invalid_request_error", "cross_origin"), [])
                return
        elif origin == "null" or headers.get("sec-fetch-site") == "cross-site":
            await _send_json(send, 403, _error("cross-origin requests are refused",
                                               "invalid_request_error", "cross_origin"), [])
            return
        if scope.get("method") in ("POST", "PUT", "PATCH", "DELETE"):
            ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if ctype != "application/json":
                await _send_json(send, 415, _error("send the request body as 'Content-Type: application/json'",
                                                   "invalid_request_error", "unsupported_media_type"), [])
                return
        await self.app(scope, receive, send)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Answer 413 to request bodies over `limit` bytes (declared or streamed)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for k, v in scope.get("headers", []):
            if k.lower() == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    await self._reject(send)
                    return
        seen = 0
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(send)

    async def _reject(self, send: Any) -> None:
        await _send_json(send, 413, _error(f"request body exceeds the server limit of {self.limit} bytes",
                                           "invalid_request_error", "request_too_large"), [])
