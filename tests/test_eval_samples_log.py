"""`eval --log-samples`: one JSON line per task with prompt, output, extracted answers and metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _eval(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "model.json"
    script.write_text(json.dumps({"by_prompt": {"(": "Let me see. The answer is 7."}, "default": "7"}))
    return subprocess.run([sys.executable, "-m", "reasonlab", "eval", "-d", "procedural:two-step-arithmetic",
                           "-s", "direct,zero-shot-cot", "-m", f"scripted:{script}", "--out", str(tmp_path / "run"),
                           "--no-plots", "--no-progress", "--no-smooth", *args],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)


def test_log_samples_lines(tmp_path):
    out = _eval(tmp_path, "-n", "3", "--log-samples")
    assert out.returncode == 0, out.stderr
    path = tmp_path / "run" / "samples.jsonl"
    assert f"samples: {path}" in out.stdout
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 6 and {x["strategy"] for x in lines} == {"direct", "zero-shot-cot"}
    first = lines[0]
    for key in ("prompt", "output", "answer", "strict_answer", "metrics", "target", "question", "item_id"):
        assert key in first
    assert first["prompt"][-1]["role"] == "user" and first["question"] in first["prompt"][-1]["content"]
    assert first["output"] and first["metrics"]["flexible"] in (0.0, 1.0)
    # the prompt is exactly the one `ask --dry-run` shows for that strategy
    dry = subprocess.run([sys.executable, "-m", "reasonlab", "ask", first["question"], "--strategy",
                          first["strategy"], "--dry-run", "--json"], capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["messages"] == first["prompt"]


def test_log_samples_covers_resumed_tasks(tmp_path):
    assert _eval(tmp_path, "-n", "2").returncode == 0
    assert not (tmp_path / "run" / "samples.jsonl").exists()
    again = _eval(tmp_path, "-n", "2", "--log-samples")  # nothing left to run; the log still has every task
    assert again.returncode == 0, again.stderr
    assert "0 tasks run now" in again.stdout
    assert len((tmp_path / "run" / "samples.jsonl").read_text().splitlines()) == 4
