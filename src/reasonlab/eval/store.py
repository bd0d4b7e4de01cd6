"""The results store: one SQLite file per evaluation folder, one row per finished task.

A *task* is (dataset, setting, model, strategy, run, item). A row is written (and committed) as
soon as its task finishes, so an interrupted evaluation loses at most the tasks in flight.
Rows with status "error" are retried on the next run; "ok" and "no_answer" rows are final.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
  dataset TEXT NOT NULL, setting TEXT NOT NULL, model TEXT NOT NULL, strategy TEXT NOT NULL,
  run INTEGER NOT NULL, item_id TEXT NOT NULL,
  seed INTEGER NOT NULL, status TEXT NOT NULL, question TEXT, gold TEXT,
  prediction TEXT, strict_answer TEXT, metrics TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, calls INTEGER NOT NULL,
  seconds REAL NOT NULL, error TEXT, details TEXT, finished_at REAL NOT NULL, attempts INTEGER NOT NULL,
  PRIMARY KEY (dataset, setting, model, strategy, run, item_id)
);
CREATE TABLE IF NOT EXISTS models (spec TEXT PRIMARY KEY, info TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS model_metrics (
  dataset TEXT NOT NULL, setting TEXT NOT NULL, model TEXT NOT NULL, item_id TEXT NOT NULL,
  metrics TEXT NOT NULL, prompt TEXT NOT NULL,
  PRIMARY KEY (dataset, setting, model, item_id)
);
"""

FINAL = ("ok", "no_answer")


@dataclass(frozen=True)
class TaskKey:
    dataset: str
    setting: str
    model: str
    strategy: str
    run: int
    item_id: str


class ModelItem(NamedTuple):
    """One item as seen by one model in one setting (the key of model-level metrics)."""

    dataset: str
    setting: str
    model: str
    item_id: str


@dataclass
class Row:
    """One finished task."""

    key: TaskKey
    seed: int
    status: str  # ok | no_answer | error
    question: str = ""
    gold: str = ""
    prediction: str | None = None
    strict_answer: str | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    seconds: float = 0.0
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    attempts: int = 1

    def flat(self) -> dict[str, Any]:
        d = asdict(self.key)
        d.update({k: v for k, v in asdict(self).items() if k not in ("key", "metrics", "details")})
        return d


class Store:
    """Thread-safe SQLite results store at DIR/results.sqlite."""

    FILENAME = "results.sqlite"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / self.FILENAME
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

    # -- writing ----------------------------------------------------------------------------
    def put(self, row: Row) -> None:
        """Insert or replace one row and commit; `attempts` counts how often the task was run."""
        k = row.key
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1) "
                "ON CONFLICT (dataset, setting, model, strategy, run, item_id) DO UPDATE SET "
                "seed=excluded.seed, status=excluded.status, question=excluded.question, gold=excluded.gold, "
                "prediction=excluded.prediction, strict_answer=excluded.strict_answer, "
                "metrics=excluded.metrics, prompt_tokens=excluded.prompt_tokens, "
                "completion_tokens=excluded.completion_tokens, calls=excluded.calls, seconds=excluded.seconds, "
                "error=excluded.error, details=excluded.details, finished_at=excluded.finished_at, "
                "attempts=results.attempts + 1",
                (k.dataset, k.setting, k.model, k.strategy, k.run, k.item_id, row.seed, row.status,
                 row.question, row.gold, row.prediction, row.strict_answer,
                 json.dumps(row.metrics), row.prompt_tokens, row.completion_tokens, row.calls,
                 row.seconds, row.error, json.dumps(row.details, ensure_ascii=False, default=str),
                 time.time()),
            )

    def set_model(self, spec: str, info: dict[str, Any]) -> None:
        with self._lock, self._conn:
            self._conn.execute("INSERT OR REPLACE INTO models VALUES (?, ?)", (spec, json.dumps(info, default=str)))

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock, self._conn:
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value, default=str)))

    def put_model_metrics(self, key: ModelItem, metrics: dict[str, float | None], prompt: str) -> None:
        """Metrics of the model itself on one item (not of a strategy), e.g. scored under the direct prompt."""
        with self._lock, self._conn:
            self._conn.execute("INSERT OR REPLACE INTO model_metrics VALUES (?, ?, ?, ?, ?, ?)",
                               (*key, json.dumps(metrics), prompt))

    # -- reading ----------------------------------------------------------------------------
    def finished(self) -> dict[TaskKey, int]:
        """Seed of every task that needs no more work (status ok or no_answer)."""
        with self._lock:
            cur = self._conn.execute(
                "SELECT dataset, setting, model, strategy, run, item_id, seed FROM results "
                "WHERE status IN (?, ?)", FINAL)
            return {TaskKey(*r[:6]): r[6] for r in cur.fetchall()}

    def rows(self) -> Iterator[Row]:
        with self._lock:
            data = self._conn.execute(
                "SELECT * FROM results ORDER BY dataset, setting, model, strategy, run, item_id").fetchall()
        for r in data:
            yield Row(key=TaskKey(*r[:6]), seed=r[6], status=r[7], question=r[8] or "", gold=r[9] or "",
                      prediction=r[10], strict_answer=r[11], metrics=json.loads(r[12]),
                      prompt_tokens=r[13], completion_tokens=r[14], calls=r[15], seconds=r[16],
                      error=r[17], details=json.loads(r[18] or "{}"), attempts=r[20])

    def model_metrics(self) -> dict[ModelItem, dict[str, float | None]]:
        """Model-level metrics per (dataset, setting, model, item id)."""
        with self._lock:
            cur = self._conn.execute("SELECT dataset, setting, model, item_id, metrics FROM model_metrics "
                                     "ORDER BY dataset, setting, model, item_id")
            return {ModelItem(*r[:4]): json.loads(r[4]) for r in cur.fetchall()}

    def models(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {s: json.loads(i) for s, i in self._conn.execute("SELECT spec, info FROM models")}

    def meta(self) -> dict[str, Any]:
        with self._lock:
            return {k: json.loads(v) for k, v in self._conn.execute("SELECT key, value FROM meta")}

    def close(self) -> None:
        with self._lock:
            self._conn.close()
