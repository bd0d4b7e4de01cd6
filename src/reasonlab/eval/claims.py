"""Task claims in the results store: evaluations sharing a folder split the work instead of repeating it.

Before a task runs, its evaluation claims it (one row in `claims`, written in an immediate
transaction, so two processes can never both take it). A claim names its owner (host, pid, the
process's start time and a random token) and carries a heartbeat that a background thread renews.
A claim stops counting when its row is released (the task's result was written, or the
evaluation ended), when its owner on this host is gone (kill -9: taken over at once, pid reuse
is told apart by the start time), or when its heartbeat is older than `TTL` (an owner elsewhere).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger("reasonlab.eval")

CLAIMS_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
  dataset TEXT NOT NULL, setting TEXT NOT NULL, model TEXT NOT NULL, strategy TEXT NOT NULL,
  run INTEGER NOT NULL, item_id TEXT NOT NULL,
  owner TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, started TEXT NOT NULL, heartbeat REAL NOT NULL,
  PRIMARY KEY (dataset, setting, model, strategy, run, item_id)
);
"""
KEY = "dataset=? AND setting=? AND model=? AND strategy=? AND run=? AND item_id=?"
TTL = 60.0  # seconds without a heartbeat after which a claim from another host is taken over
HEARTBEAT = 10.0  # seconds between heartbeats

Outcome = Literal["mine", "done", "busy"]


def _host() -> str:
    """This machine: its name and boot id (a pid is only meaningful within one boot of one host)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot}"


def _started(pid: int) -> str:
    """When process `pid` started (clock ticks since boot), '' when unknown: tells a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19] if ")" in stat else ""


def _alive(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    now = _started(pid)
    return not (started and now and now != started)


class Claims:
    """Claims of one process on one store connection (shared with the store, under its lock)."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock, final: tuple[str, ...]) -> None:
        self._conn = conn
        self._lock = lock
        self._final = final
        self.host, self.pid = _host(), os.getpid()
        self.started = _started(self.pid)
        self.owner = f"{self.host}:{self.pid}:{secrets.token_hex(4)}"
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def take(self, key: Any, seed: int, since: float) -> Outcome:
        """Claim task `key` (a TaskKey): 'mine', 'done' (finished, or tried by another run since `since`)
        or 'busy' (a live claim of another evaluation)."""
        k = tuple(vars(key).values())
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(f"SELECT seed, status, finished_at FROM results WHERE {KEY}", k).fetchone()
                if row is not None and ((row[1] in self._final and row[0] == seed) or row[2] >= since):
                    return "done"
                c = self._conn.execute(f"SELECT owner, host, pid, started, heartbeat FROM claims WHERE {KEY}",
                                       k).fetchone()
                if c is not None and c[0] != self.owner and self._live(c):
                    return "busy"
                self._conn.execute("INSERT OR REPLACE INTO claims VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                                   (*k, self.owner, self.host, self.pid, self.started, time.time()))
                self._conn.commit()
                return "mine"
            finally:
                if self._conn.in_transaction:
                    self._conn.rollback()

    def _live(self, claim: tuple[Any, ...]) -> bool:
        _owner, host, pid, started, heartbeat = claim
        if time.time() - heartbeat > TTL:
            return False
        return host != self.host or _alive(pid, started)

    def release(self, key: Any) -> None:
        """Drop this process's claim of `key` (call inside the transaction that writes its row)."""
        self._conn.execute(f"DELETE FROM claims WHERE {KEY} AND owner=?", (*vars(key).values(), self.owner))

    def start_heartbeat(self) -> None:
        if self._beat is None:
            self._beat = threading.Thread(target=self._heartbeat, name="eval-claims", daemon=True)
            self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            try:
                with self._lock:
                    if self._stop.is_set():  # the store is closing (or closed) meanwhile
                        return
                    with self._conn:
                        self._conn.execute("UPDATE claims SET heartbeat=? WHERE owner=?", (time.time(), self.owner))
            except sqlite3.Error as e:  # a missed beat only shortens how long the claims hold
                log.warning("reasonlab: warning: could not renew task claims (%s)", e)

    def release_all(self) -> None:
        """Stop the heartbeat and drop every claim of this process (the evaluation ends or stops)."""
        self._stop.set()
        try:
            with self._lock, self._conn:
                self._conn.execute("DELETE FROM claims WHERE owner=?", (self.owner,))
        except sqlite3.Error:
            pass  # left-over claims of an ended process are taken over anyway
