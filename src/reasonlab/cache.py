"""Persistent SQLite cache of completions, keyed on (model identity, messages, params, sample index)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .errors import InputError
from .models.base import Completion, GenParams, Message

log = logging.getLogger("reasonlab.cache")
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()  # a lone surrogate is still a key


class Cache:
    """Thread-safe; one connection per thread. Writes only ever store successful completions.

    A cache is only a cache: a corrupt file is moved aside (one warning line) and a new one started;
    a read or write that fails later counts as a miss / is skipped, never as a failed run.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_cache_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"cannot create the cache folder {self.path.parent} ({e.strerror or e}): set "
                             f"REASONLAB_CACHE to a writable file or use --no-cache") from None
        self._local = threading.local()
        self._warned = False
        try:
            self._open_checked()
        except sqlite3.DatabaseError as e:
            self._move_aside(e)
            self._open_checked()
        except OSError as e:
            raise InputError(f"cannot open the cache {self.path} ({e}): set REASONLAB_CACHE to a writable "
                             f"file or use --no-cache") from None

    def _open_checked(self) -> None:
        try:
            c = self._conn()
            if c.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("integrity check failed")
            with c:
                c.execute("CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        except sqlite3.OperationalError as e:
            if "readonly" in str(e) or "unable to open" in str(e):
                raise OSError(str(e)) from None
            raise

    def _move_aside(self, error: Exception) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        moved = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(str(self.path) + suffix)
            if part.exists():
                part.replace(Path(str(moved) + suffix))
        log.warning("reasonlab: warning: the cache %s was unreadable (%s); moved it to %s and started a new one",
                    self.path, error, moved)

    def _warn_once(self, what: str, error: Exception) -> None:
        if not self._warned:
            self._warned = True
            log.warning("reasonlab: warning: cache %s failed (%s); going on without it for this call", what, error)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> Completion | None:
        try:
            row = self._conn().execute("SELECT value FROM completions WHERE key=?", (key,)).fetchone()
        except sqlite3.Error as e:
            self._warn_once("read", e)
            return None
        if row is None:
            return None
        try:
            return Completion(**json.loads(row[0]))
        except (TypeError, ValueError):
            return None  # an entry from an incompatible version: treat as a miss

    def put(self, key: str, completion: Completion) -> None:
        try:
            with self._conn() as c:
                text = json.dumps(asdict(completion), ensure_ascii=False)
                if _SURROGATE.search(text):  # a lone surrogate in a reply: escaped, it round-trips exactly
                    text = json.dumps(asdict(completion))
                c.execute("INSERT OR REPLACE INTO completions VALUES (?, ?)", (key, text))
        except sqlite3.Error as e:
            self._warn_once("write", e)

    def __bool__(self) -> bool:  # an empty cache is still a cache (don't let `cache or None` drop it)
        return True

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM completions").fetchone()[0]

    def clear(self) -> None:
        with self._conn() as c:
            c.execute("DELETE FROM completions")
