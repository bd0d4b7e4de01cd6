"""`eval --log-samples`: one JSON line per task with its prompt, output, extracted answers and metrics.

Written after the run from the results store, so tasks finished by an earlier (resumed) run are
included too. `prompt` is the messages of the strategy's first model call, rebuilt exactly as
`reasonlab ask --dry-run` shows them (no model is called); `output` is the strategy's reasoning
text as stored (the model's reply for direct and CoT strategies; at most 4000 characters).
This is the per-sample file lm-evaluation-harness users share with `--log_samples`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..api import preview
from .store import Row

FILENAME = "samples.jsonl"


def sample_line(task: Any, row: Row) -> dict[str, Any]:
    """One task's line: what was asked, what came back, how it was read, how it scored."""
    k = row.key
    problem = task.dataset.problem(task.item, task.prompt_format)
    try:
        prompt: Any = preview(problem, task.strategy).messages
    except Exception as e:  # noqa: BLE001 - a strategy that cannot be previewed still gets its line
        prompt = f"(not available: {type(e).__name__}: {e})"
    return {
        "dataset": k.dataset, "setting": k.setting, "model": k.model, "strategy": k.strategy, "run": k.run,
        "item_id": k.item_id, "seed": row.seed, "status": row.status,
        "question": row.question, "choices": task.item.choices, "target": row.gold,
        "prompt": prompt, "output": row.details.get("reasoning"),
        "answer": row.prediction, "strict_answer": row.strict_answer, "metrics": row.metrics,
        "prompt_tokens": row.prompt_tokens, "completion_tokens": row.completion_tokens, "calls": row.calls,
        "seconds": round(row.seconds, 4), "error": row.error,
    }


def write_samples(harness: Any, folder: Path | str) -> Path:
    """Write FOLDER/samples.jsonl for every task of `harness`'s evaluation that has a row (after `run`).

    Rebuilds the task list with the models already loaded (none is loaded twice)."""
    load = harness.model_factory
    harness.model_factory = lambda spec: harness.models[spec] if spec in harness.models else load(spec)
    try:
        tasks = harness.prepare()
    finally:
        harness.model_factory = load
    rows = {row.key: row for row in harness.store.rows()}
    path = Path(folder) / FILENAME
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for task in tasks:
            row = rows.get(task.key)
            if row is not None:
                fh.write(json.dumps(sample_line(task, row), ensure_ascii=False, default=str) + "\n")
    tmp.replace(path)
    return path
