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


# Characters that many line readers (Python's str.splitlines, JavaScript's line separators) take as
# a line break although SSE does not; JSON text has them only inside strings, where \uXXXX is the same.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def frame(item: str | None) -> str:
    """One SSE frame: a keep-alive comment for None, else `data: ITEM` with ITEM (JSON text) kept on one
    line for every line reader."""
    return ": ping\n\n" if item is None else f"data: {item.translate(_LINE_BREAKS)}\n\n"


async def _frames(items: AsyncIterator[str | None]) -> AsyncIterator[str]:
    async for item in items:
        yield frame(item)


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


class ReasoningText:
    """The run's model text as one readable `reasoning_content` stream: samples decoded at the same
    time are written one after another (the first to produce text streams live; the others are
    held back and written when it ends), each under a ``[label #index]`` heading."""

    def __init__(self) -> None:
        self._current: tuple[str, int] | None = None
        self._partial: dict[tuple[str, int], str] = {}  # held-back samples still being decoded
        self._done: list[tuple[tuple[str, int], str]] = []  # held-back samples that finished

    @staticmethod
    def _head(key: tuple[str, int]) -> str:
        return f"[{key[0] or 'call'} #{key[1]}] "

    def on_event(self, event: str, payload: dict[str, Any]) -> str:
        """Text to send for one run event ("" when nothing is due)."""
        if event == "delta":
            key, text = (payload.get("label") or "", int(payload.get("index", 0))), payload.get("text", "")
            if self._current is None:
                self._current = key
                return self._head(key) + self._partial.pop(key, "") + text
            if key == self._current:
                return text
            self._partial[key] = self._partial.get(key, "") + text
            return ""
        if event != "call" or payload.get("kind", "generate") != "generate":
            return ""
        key = (payload.get("label") or "", int(payload.get("sample_index", 0)))
        out = ""
        if key == self._current:
            out, self._current = "\n\n", None
        else:
            self._partial.pop(key, None)
            self._done.append((key, str(payload.get("output", ""))))
        if self._current is None:
            for k, text in self._done:
                out += self._head(k) + text + "\n\n"
            self._done.clear()
            if self._partial:  # the next sample still decoding goes live
                k = next(iter(self._partial))
                self._current = k
                out += self._head(k) + self._partial.pop(k)
        return out
