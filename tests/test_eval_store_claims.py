"""The results store checks itself on open and hands out task claims, so evaluations sharing a folder
split the work: a unit test per claim rule and two real `reasonlab eval` processes into one folder."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import reasonlab
from reasonlab.eval import claims as claims_mod
from reasonlab.eval.store import Row, Store, StoreError, TaskKey

SRC = str(Path(reasonlab.__file__).resolve().parent.parent)
KEY = TaskKey("d", "open", "m", "direct", 0, "q1")


def _foreign_claim(store: Store, *, host: str, pid: int, started: str, heartbeat: float) -> None:
    with store._conn:
        store._conn.execute("INSERT OR REPLACE INTO claims VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                            (*vars(KEY).values(), f"{host}:{pid}:other", host, pid, started, heartbeat))


def test_claim_is_exclusive_and_released_by_the_row(tmp_path: Path):
    a, b = Store(tmp_path), Store(tmp_path)
    try:
        since = time.time()
        assert a.claims.take(KEY, 0, since) == "mine"
        assert b.claims.take(KEY, 0, since) == "busy"  # a live claim of another evaluation
        a.put(Row(key=KEY, seed=0, status="ok"))
        assert b.claims.take(KEY, 0, since) == "done"  # finished by the other one
        assert a._conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    finally:
        a.close()
        b.close()


def test_error_row_written_by_another_run_since_we_started_is_not_repeated(tmp_path: Path):
    a, b = Store(tmp_path), Store(tmp_path)
    try:
        since = time.time()
        assert a.claims.take(KEY, 0, since) == "mine"
        a.put(Row(key=KEY, seed=0, status="error", error="boom"))
        assert b.claims.take(KEY, 0, since) == "done"
        assert b.claims.take(KEY, 0, time.time() + 1) == "mine"  # a later run retries the error
    finally:
        a.close()
        b.close()


def test_claim_of_a_killed_process_is_taken_over_at_once(tmp_path: Path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store = Store(tmp_path)
    try:
        c = store.claims
        _foreign_claim(store, host=c.host, pid=dead.pid, started="1", heartbeat=time.time())
        assert c.take(KEY, 0, time.time()) == "mine"
    finally:
        store.close()


def test_claim_of_a_reused_pid_is_taken_over(tmp_path: Path):
    store = Store(tmp_path)
    try:
        c = store.claims  # our parent is alive, but it is not the process that made the claim
        _foreign_claim(store, host=c.host, pid=os.getppid(), started="12345678901", heartbeat=time.time())
        assert c.take(KEY, 0, time.time()) == "mine"
    finally:
        store.close()


def test_live_claim_of_another_process_holds(tmp_path: Path):
    store = Store(tmp_path)
    try:
        c = store.claims
        parent = os.getppid()
        _foreign_claim(store, host=c.host, pid=parent, started=claims_mod._started(parent), heartbeat=time.time())
        assert c.take(KEY, 0, time.time()) == "busy"
    finally:
        store.close()


def test_claim_from_another_host_expires_without_heartbeat(tmp_path: Path):
    store = Store(tmp_path)
    try:
        _foreign_claim(store, host="elsewhere/x", pid=1, started="", heartbeat=time.time())
        assert store.claims.take(KEY, 0, time.time()) == "busy"
        _foreign_claim(store, host="elsewhere/x", pid=1, started="", heartbeat=time.time() - claims_mod.TTL - 1)
        assert store.claims.take(KEY, 0, time.time()) == "mine"
    finally:
        store.close()


@pytest.mark.parametrize("content", [b"garbage" * 1000, b"SQLite format 3\x00" + b"\x00" * 2000])
def test_corrupt_store_names_the_file_and_what_to_do(tmp_path: Path, content: bytes):
    (tmp_path / Store.FILENAME).write_bytes(content)
    with pytest.raises(StoreError) as e:
        Store(tmp_path)
    text = str(e.value)
    assert str(tmp_path / Store.FILENAME) in text and "move it aside" in text and "\n" not in text
    assert e.value.exit_code == 2


def test_foreign_sqlite_file_is_refused(tmp_path: Path):
    con = sqlite3.connect(tmp_path / Store.FILENAME)
    con.execute("CREATE TABLE results (a TEXT)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="other columns"):
        Store(tmp_path)


def test_unparseable_stored_value_is_one_line(tmp_path: Path):
    store = Store(tmp_path)
    store.put(Row(key=KEY, seed=0, status="ok"))
    with store._conn:
        store._conn.execute("UPDATE results SET metrics='{not json'")
    try:
        with pytest.raises(StoreError, match="not JSON"):
            list(store.rows())
    finally:
        store.close()


def test_reading_commands_do_not_create_a_store(tmp_path: Path):
    with pytest.raises(StoreError, match="no results.sqlite"):
        Store(tmp_path / "empty", create=False)
    assert not (tmp_path / "empty").exists()


def test_two_concurrent_evals_into_one_folder_run_each_task_once(tmp_path: Path):
    n = 16
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"id": f"q{i}", "question": f"What is {i} + {i}?", "answer": str(2 * i)})
                            + "\n" for i in range(n)), encoding="utf-8")
    model = tmp_path / "slow.json"
    model.write_text(json.dumps({"default": "The answer is 4.", "delay_s": 0.4}), encoding="utf-8")
    out = tmp_path / "shared"
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "REASONLAB_CACHE": str(tmp_path / "cache.sqlite")}
    cmd = [sys.executable, "-m", "reasonlab", "eval", "-d", f"jsonl:{data}", "-s", "direct", "-m",
           f"scripted:{model}", "--out", str(out), "--no-plots", "--no-progress", "--no-smooth"]
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:  # start the second once the first is running
        try:
            con = sqlite3.connect(out / Store.FILENAME)
            if con.execute("SELECT COUNT(*) FROM results").fetchone()[0] >= 1:
                break
        except sqlite3.Error:
            pass
        finally:
            if "con" in locals():
                con.close()
        time.sleep(0.05)
    second = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    for p, (_, stderr) in zip((first, second), outs, strict=True):
        assert p.returncode == 0, stderr[-1500:]
        assert "Traceback" not in stderr
    ran = [int(re.search(r"(\d+) tasks run now", o).group(1)) for o, _ in outs]
    assert sum(ran) == n, (ran, [o for o, _ in outs])
    assert all(r > 0 for r in ran), ran  # the work was split, not queued behind one process
    con = sqlite3.connect(out / Store.FILENAME)
    try:
        attempts = con.execute("SELECT attempts, status FROM results").fetchall()
        assert len(attempts) == n and {a for a, _ in attempts} == {1} and {s for _, s in attempts} == {"ok"}
        assert con.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0  # every claim released
    finally:
        con.close()
    assert "by another evaluation" in outs[0][0] + outs[1][0]


def test_heartbeat_keeps_a_long_task_claimed(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(claims_mod, "HEARTBEAT", 0.05)
    store = Store(tmp_path)
    try:
        assert store.claims.take(KEY, 0, time.time()) == "mine"
        with store._conn:
            store._conn.execute("UPDATE claims SET heartbeat=0")  # as if the claim were long expired
        store.claims.start_heartbeat()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if store._conn.execute("SELECT heartbeat FROM claims").fetchone()[0] > 0:
                break
            time.sleep(0.05)
        assert store._conn.execute("SELECT heartbeat FROM claims").fetchone()[0] > time.time() - 5
    finally:
        store.close()
