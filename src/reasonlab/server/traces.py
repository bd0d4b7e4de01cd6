"""The last N run traces, by id, each readable only by the client that made it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class TraceStore:
    """A bounded, thread-safe map from request id to (owner, trace); the oldest entries go first.

    `get` and `ids` take the asking client: another client's trace is as absent as a missing one
    (the API answers 404 for both); `admin=True` sees every trace.
    """

    def __init__(self, limit: int = 256) -> None:
        self.limit = limit
        self._items: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, trace_id: str, trace: dict[str, Any], owner: str = "local") -> None:
        with self._lock:
            self._items[trace_id] = (owner, trace)
            self._items.move_to_end(trace_id)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def get(self, trace_id: str, client: str = "local", admin: bool = False) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(trace_id)
        if item is None or not (admin or item[0] == client):
            return None
        return item[1]

    def ids(self, client: str = "local", admin: bool = False) -> list[str]:
        with self._lock:
            return [k for k, (owner, _t) in reversed(self._items.items()) if admin or owner == client]

    def __len__(self) -> int:
        return len(self._items)
