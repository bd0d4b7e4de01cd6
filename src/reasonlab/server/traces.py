"""The last N run traces, by id (GET /v1/traces/{id})."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class TraceStore:
    """A bounded, thread-safe map from request id to its trace; the oldest entries go first."""

    def __init__(self, limit: int = 256) -> None:
        self.limit = limit
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, trace_id: str, trace: dict[str, Any]) -> None:
        with self._lock:
            self._items[trace_id] = trace
            self._items.move_to_end(trace_id)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def get(self, trace_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._items.get(trace_id)

    def ids(self) -> list[str]:
        with self._lock:
            return list(reversed(self._items))

    def __len__(self) -> int:
        return len(self._items)
