"""Persistent SQLite cache of completions, keyed on (model identity, messages, params, sample index)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .models.base import Completion, GenParams, Message


def default_cache_path() -> Path:
    env = os.environ.get("REASONLAB_CACHE")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "reasonlab" / "cache.sqlite"


def cache_key(
    identity: str,
    messages: list[Message],
    params: GenParams,
    sample_index: int,
    tools: list[dict[str, Any]] | None = None,
) -> str:
    """Stable key: the same request and sample index always maps to the same entry."""
    blob = json.dumps(
        [identity, messages, params.to_dict(), sample_index, tools or None],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Cache:
    """Thread-safe; one connection per thread. Writes only ever store successful completions."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as c:
            c.execute("CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> Completion | None:
        row = self._conn().execute("SELECT value FROM completions WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return Completion(**json.loads(row[0]))
        except (TypeError, ValueError):
            return None  # an entry from an incompatible version: treat as a miss

    def put(self, key: str, completion: Completion) -> None:
        with self._conn() as c:
            c.execute("INSERT OR REPLACE INTO completions VALUES (?, ?)",
                      (key, json.dumps(asdict(completion), ensure_ascii=False)))

    def __bool__(self) -> bool:  # an empty cache is still a cache (don't let `cache or None` drop it)
        return True

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM completions").fetchone()[0]

    def clear(self) -> None:
        with self._conn() as c:
            c.execute("DELETE FROM completions")
