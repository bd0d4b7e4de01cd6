"""The results store: one SQLite file per evaluation folder, one row per finished task.

A *task* is (dataset, setting, model, strategy, run, item). A row is written (and committed) as
soon as its task finishes, so an interrupted evaluation loses at most the tasks in flight.
Rows with status "error" are retried on the next run; "ok" and "no_answer" rows are final.

Opening checks the file (SQLite `quick_check` and the table layout): a corrupt or foreign file
raises `StoreError`, one line naming it and what to do. Evaluations sharing a folder split the
work through claims (`eval.claims`): a task is claimed before it runs.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import InputError
from .claims import CLAIMS_SCHEMA, Claims

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
COLUMNS = ("dataset", "setting", "model", "strategy", "run", "item_id", "seed", "status", "question", "gold",
           "prediction", "strict_answer", "metrics", "prompt_tokens", "completion_tokens", "calls", "seconds",
           "error", "details", "finished_at", "attempts")


def _text(value: str | None) -> str | None:
    """Text SQLite can store: a lone surrogate (from a dataset or a model's reply) becomes U+FFFD."""
    return None if value is None else _SURROGATE.sub("\ufffd", value)


_SURROGATE = re.compile("[\ud800-\udfff]")


class StoreError(InputError):
    """The results store cannot be used (corrupt, foreign, unreadable): one line naming the file."""


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
    """Thread-safe SQLite results store at DIR/results.sqlite.

    create=False: the store must already exist (reading commands such as `report`).
    """

    FILENAME = "results.sqlite"

    def __init__(self, folder: str | Path, *, create: bool = True) -> None:
        self.folder = Path(folder)
        self.path = self.folder / self.FILENAME
        if not create and not self.path.is_file():
            raise StoreError(f"{self.folder}: no {self.FILENAME} here (run `reasonlab eval --out {self.folder}` "
                             "first)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        except sqlite3.Error as e:
            raise self._error(e) from None
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            if self._conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("integrity check failed")
            self._conn.executescript(SCHEMA + CLAIMS_SCHEMA)
            got = tuple(r[1] for r in self._conn.execute("PRAGMA table_info(results)"))
            if got != COLUMNS:
                raise sqlite3.DatabaseError("its results table has other columns (another program or version)")
        except sqlite3.Error as e:
            self._conn.close()
            raise self._error(e) from None
        self.claims = Claims(self._conn, self._lock, FINAL)

    def _error(self, e: Exception) -> StoreError:
        text = str(e) or type(e).__name__
        if "locked" in text or "busy" in text:
            return StoreError(f"{self.path}: the results store stayed locked by another process ({text}); "
                              "try again when it has finished")
        if "readonly" in text or "unable to open" in text:
            return StoreError(f"{self.path}: cannot open the results store for writing ({text}); "
                              "check the folder's permissions or use another --out folder")
        return StoreError(f"{self.path}: not a usable results store ({text}); move it aside "
                          f"(e.g. `mv {self.path} {self.path}.bad`) and re-run `reasonlab eval`, "
                          "or use another --out folder")

    # -- writing ----------------------------------------------------------------------------
    def put(self, row: Row) -> None:
        """Insert or replace one row, release its claim and commit; `attempts` counts how often the task ran."""
        k = row.key
        with self._guard(), self._lock, self._conn:
            self.claims.release(k)
            self._conn.execute(
                "INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1) "
                "ON CONFLICT (dataset, setting, model, strategy, run, item_id) DO UPDATE SET "
                "seed=excluded.seed, status=excluded.status, question=excluded.question, gold=excluded.gold, "
                "prediction=excluded.prediction, strict_answer=excluded.strict_answer, "
                "metrics=excluded.metrics, prompt_tokens=excluded.prompt_tokens, "
                "completion_tokens=excluded.completion_tokens, calls=excluded.calls, seconds=excluded.seconds, "
                "error=excluded.error, details=excluded.details, finished_at=excluded.finished_at, "
                "attempts=results.attempts + 1",
                (k.dataset, k.setting, k.model, k.strategy, k.run, _text(k.item_id), row.seed, row.status,
                 _text(row.question), _text(row.gold), _text(row.prediction), _text(row.strict_answer),
                 json.dumps(row.metrics), row.prompt_tokens, row.completion_tokens, row.calls,
                 row.seconds, _text(row.error), _text(json.dumps(row.details, ensure_ascii=False, default=str)),
                 time.time()),
            )

    def set_model(self, spec: str, info: dict[str, Any]) -> None:
        with self._guard(), self._lock, self._conn:
            self._conn.execute("INSERT OR REPLACE INTO models VALUES (?, ?)", (spec, json.dumps(info, default=str)))

    def set_meta(self, key: str, value: Any) -> None:
        with self._guard(), self._lock, self._conn:
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value, default=str)))

    def put_model_metrics(self, key: ModelItem, metrics: dict[str, float | None], prompt: str) -> None:
        """Metrics of the model itself on one item (not of a strategy), e.g. scored under the direct prompt."""
        with self._guard(), self._lock, self._conn:
            self._conn.execute("INSERT OR REPLACE INTO model_metrics VALUES (?, ?, ?, ?, ?, ?)",
                               (*key, json.dumps(metrics), _text(prompt)))

    # -- reading ----------------------------------------------------------------------------
    def finished(self) -> dict[TaskKey, int]:
        """Seed of every task that needs no more work (status ok or no_answer)."""
        with self._guard(), self._lock:
            cur = self._conn.execute(
                "SELECT dataset, setting, model, strategy, run, item_id, seed FROM results "
                "WHERE status IN (?, ?)", FINAL)
            return {TaskKey(*r[:6]): r[6] for r in cur.fetchall()}

    def rows(self) -> Iterator[Row]:
        with self._guard(), self._lock:
            data = self._conn.execute(
                "SELECT * FROM results ORDER BY dataset, setting, model, strategy, run, item_id").fetchall()
        for r in data:
            yield Row(key=TaskKey(*r[:6]), seed=r[6], status=r[7], question=r[8] or "", gold=r[9] or "",
                      prediction=r[10], strict_answer=r[11], metrics=self._loads(r[12]),
                      prompt_tokens=r[13], completion_tokens=r[14], calls=r[15], seconds=r[16],
                      error=r[17], details=self._loads(r[18] or "{}"), attempts=r[20])

    def model_metrics(self) -> dict[ModelItem, dict[str, float | None]]:
        """Model-level metrics per (dataset, setting, model, item id)."""
        with self._guard(), self._lock:
            cur = self._conn.execute("SELECT dataset, setting, model, item_id, metrics FROM model_metrics "
                                     "ORDER BY dataset, setting, model, item_id")
            return {ModelItem(*r[:4]): self._loads(r[4]) for r in cur.fetchall()}

    def models(self) -> dict[str, dict[str, Any]]:
        with self._guard(), self._lock:
            return {s: self._loads(i) for s, i in self._conn.execute("SELECT spec, info FROM models")}

    def meta(self) -> dict[str, Any]:
        with self._guard(), self._lock:
            return {k: self._loads(v) for k, v in self._conn.execute("SELECT key, value FROM meta")}

    def _loads(self, text: str) -> Any:
        try:
            return json.loads(text)
        except (TypeError, ValueError) as e:
            raise self._error(ValueError(f"a stored value is not JSON: {e}")) from None

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """A store that breaks while in use (disk full, corrupted underneath) → one line naming it."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            raise self._error(e) from None

    def close(self) -> None:
        self.claims.release_all()
        with self._lock:
            self._conn.close()
