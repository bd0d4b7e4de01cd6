"""ASGI middleware: API-key check on every route, and the request-body size limit."""

from __future__ import annotations

import base64
import binascii
import hmac
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


class APIKeyMiddleware:
    """Every HTTP request must present the key. Page routes ask the browser for it (Basic auth,
    password = key), so the page's own requests then carry it automatically."""

    def __init__(self, app: Any, api_key: str | None) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.api_key:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        key = presented_key(headers)
        if key is not None and hmac.compare_digest(key.encode(), self.api_key.encode()):
            await self.app(scope, receive, send)
            return
        msg = "missing API key" if key is None else "invalid API key"
        # Both schemes: API clients send Bearer; a browser asks its user (Basic, password = key) and
        # then sends the credentials with the page's own requests.
        await _send_json(send, 401, _error(f"{msg}: send 'Authorization: Bearer KEY'", "authentication_error",
                                           "invalid_api_key"),
                         [(b"www-authenticate", b'Bearer realm="reasonlab"'),
                          (b"www-authenticate", b'Basic realm="reasonlab", charset="UTF-8"')])


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
