"""Resume after a kill: a real `reasonlab eval` subprocess is stopped mid-run and started again."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import reasonlab

SRC = str(Path(reasonlab.__file__).resolve().parent.parent)
N = 8


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps({"id": f"q{i}", "question": f"Item number {i}: what is {i} + {i}?",
                                          "answer": str(2 * i)}) for i in range(N)) + "\n", encoding="utf-8")
    # correct for even items, wrong for odd ones; every call sleeps so the run can be killed mid-way
    replies = {f"Item number {i}:": f"The answer is {2 * i if i % 2 == 0 else 2 * i + 1}." for i in range(N)}
    model = tmp_path / "slow.json"
    # zero-shot-cot's answer-extraction call (its last user turn is only the cue) gets the default
    model.write_text(json.dumps({"by_prompt": replies, "default": "The answer is 0.", "delay_s": 0.15}),
                     encoding="utf-8")
    return data, model


def _cmd(data: Path, model: Path, out: Path, concurrency: int = 2) -> list[str]:
    return [sys.executable, "-c", "from reasonlab.cli import main; main()", "eval", "-d", f"jsonl:{data}",
            "-s", "direct,zero-shot-cot", "-m", f"scripted:{model}", "--runs", "2", "-c", str(concurrency),
            "--out", str(out), "--no-plots", "--no-progress"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env["REASONLAB_CACHE"] = str(tmp_path / "cache.sqlite")
    return env


def _rows(out: Path) -> dict[tuple, tuple]:
    con = sqlite3.connect(out / "results.sqlite")
    try:
        got = con.execute("SELECT dataset, setting, model, strategy, run, item_id, status, prediction, "
                          "strict_answer, metrics, prompt_tokens, completion_tokens, calls, finished_at "
                          "FROM results").fetchall()
    finally:
        con.close()
    return {r[:6]: r[6:] for r in got}


def _count(out: Path) -> int:
    try:
        return len(_rows(out))
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("sig, concurrency", [(signal.SIGKILL, 2), (signal.SIGINT, 1)])
def test_resume_after_kill_redoes_nothing_and_matches_uninterrupted(tmp_path, sig, concurrency):
    data, model = _setup(tmp_path)
    env = _env(tmp_path)
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(_cmd(data, model, out, concurrency), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 120
    while _count(out) < 5 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "re-run the same command" in err
    before = _rows(out)
    total = N * 2 * 2
    assert 5 <= len(before) < total  # stopped mid-run

    done = subprocess.run(_cmd(data, model, out, concurrency), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{total - len(before)} tasks run now" in done.stdout
    after = _rows(out)
    assert len(after) == total
    assert {row[0] for row in after.values()} == {"ok"}
    for key, row in before.items():
        assert after[key] == row  # finished before the kill: untouched (same finished_at)

    clean = tmp_path / "clean"
    ref = subprocess.run(_cmd(data, model, clean), env=env, capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr
    reference = _rows(clean)
    strip = {k: v[:-1] for k, v in after.items()}  # everything but the finish time
    assert strip == {k: v[:-1] for k, v in reference.items()}
    acc = [line.split("|")[3] for line in (out / "report.md").read_text().splitlines()
           if line.startswith("| direct") or line.startswith("| zero-shot-cot")]
    ref_acc = [line.split("|")[3] for line in (clean / "report.md").read_text().splitlines()
               if line.startswith("| direct") or line.startswith("| zero-shot-cot")]
    assert acc and acc == ref_acc
