"""Server-sent events: a thread-to-asyncio event pipe and a response that notices disconnects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.responses import StreamingResponse

_CLOSE = object()
PING_S = 15.0  # comment frames keep idle connections (and proxies) alive during long runs


class EventStream:
    """Items put from any thread come out of `async for` on the event loop that created it."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    def _push(self, item: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is gone: nobody is listening any more
            pass

    def put(self, item: str) -> None:
        self._push(item)

    def close(self) -> None:
        self._push(_CLOSE)

    async def __aiter__(self) -> AsyncIterator[str | None]:
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), timeout=PING_S)
            except TimeoutError:
                yield None  # a keep-alive ping
                continue
            if item is _CLOSE:
                return
            yield item


async def _frames(items: AsyncIterator[str | None]) -> AsyncIterator[str]:
    async for item in items:
        yield ": ping\n\n" if item is None else f"data: {item}\n\n"


class SSEResponse(StreamingResponse):
    """text/event-stream whose body generator is cancelled as soon as the client disconnects
    (whatever ASGI spec version the server speaks), so the run behind it can be cancelled."""

    def __init__(self, items: AsyncIterator[str | None]) -> None:
        super().__init__(_frames(items), media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async with anyio.create_task_group() as tg:
            async def stream() -> None:
                await self.stream_response(send)
                tg.cancel_scope.cancel()

            tg.start_soon(stream)
            await self.listen_for_disconnect(receive)
            tg.cancel_scope.cancel()
