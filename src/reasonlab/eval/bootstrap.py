"""Bootstrapped exemplar pools: the model's own *verified* solutions (after DSPy's BootstrapFewShot).

`bootstrap(cfg)` runs a strategy over a training file and keeps a solution only when it is
verified correct: its answer equals the gold answer, and — for program strategies (pal, pot,
tree in code mode) — the program ran to the end in the sandbox and returned that answer. Kept
solutions are appended to the pool (an exemplar file, see exemplars/loader.py) with
``"format": "cot"`` or ``"program"`` and their source (dataset, position, id, strategy, model).

Resumable like `eval`: every processed item — kept or not — is appended at once to
``POOL.log.jsonl``; a re-run skips the items listed there, so Ctrl-C loses nothing finished.

The report slice never enters a pool: items at the positions in `skip` (default ``0-199``,
GSM8K train items 0–199, on which docs/BENCHMARKS.md reports) are never run, and
`check_pool` verifies afterwards that no pool question equals a question at those positions.
Positions are 0-based places in the file, whatever the items' ids.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import run as run_one
from ..cache import Cache
from ..errors import InputError
from ..models import Model, load_model
from .datasets import Item, load_dataset, match_answer

DEFAULT_SKIP = "0-199"
PROGRAM_STRATEGIES = ("pal", "pot")


def parse_ranges(spec: str | None) -> list[tuple[int, int]]:
    """"0-199,500-599" → [(0, 199), (500, 599)] (inclusive, 0-based); "none" or "" → []."""
    if spec is None or spec.strip().lower() in ("", "none"):
        return []
    out = []
    for part in spec.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", part)
        if not m:
            raise InputError(f"--skip takes ranges such as 0-199 or 0-199,500-510 (got {spec!r})")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise InputError(f"--skip range {part.strip()!r} ends before it starts")
        out.append((lo, hi))
    return out


def in_ranges(index: int, ranges: list[tuple[int, int]]) -> bool:
    return any(lo <= index <= hi for lo, hi in ranges)


@dataclass
class BootstrapConfig:
    dataset: str
    strategy: str
    model: str
    out: Path
    options: dict[str, Any] = field(default_factory=dict)
    skip: str = DEFAULT_SKIP
    start: int = 0  # first position to consider
    limit: int | None = None  # most items to process (done before included)
    seed: int = 0
    cache: bool = False


@dataclass
class Outcome:
    """One processed item, as logged."""

    index: int
    id: str
    status: str  # kept | wrong | no_answer | unverified | error
    answer: str | None = None
    gold: str = ""
    tokens: int = 0
    seconds: float = 0.0
    error: str | None = None


def log_path(out: Path) -> Path:
    return out.with_name(out.name + ".log") if out.suffix != ".jsonl" else out.with_suffix(".log.jsonl")


def done_ids(out: Path) -> set[str]:
    """Ids of the items already processed (from the log)."""
    p = log_path(out)
    if not p.is_file():
        return set()
    ids = set()
    for line in p.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                ids.add(str(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by a crash: that item runs again
    return ids


def verified_solution(strategy: str, result: Any, item: Item) -> tuple[str | None, str, str]:
    """(solution text or None, format, why) — None when the result is not verified correct."""
    d = result.details or {}
    if result.answer is None:
        return None, "", "no_answer"
    if not match_answer(result.answer, item, "open"):
        return None, "", "wrong"
    program = d.get("program")
    tree = d.get("tree") or {}
    if strategy in PROGRAM_STRATEGIES or program is not None:
        final = (d.get("rounds") or [{}])[-1]
        if not program or final.get("exit_code") != 0 or final.get("answer") != result.answer:
            return None, "", "unverified"
        return program.strip(), "program", "kept"
    if tree.get("mode") == "code":
        return result.reasoning.strip(), "program", "kept"
    text = (result.reasoning or "").strip()
    if not text:
        return None, "", "unverified"
    tail = f"The answer is {result.answer}."
    if not re.search(r"answer is\s*\$?" + re.escape(str(result.answer)), text[-120:], re.IGNORECASE):
        text = f"{text}\n{tail}"
    return text, "cot", "kept"


def items_to_run(cfg: BootstrapConfig) -> Iterator[tuple[int, Item]]:
    ranges = parse_ranges(cfg.skip)
    for index, item in enumerate(load_dataset(cfg.dataset).items()):
        if index < cfg.start or in_ranges(index, ranges):
            continue
        yield index, item


def bootstrap(cfg: BootstrapConfig, model: Model | None = None,
              on_item: Callable[[Outcome], None] | None = None) -> dict[str, int]:
    """Run the strategy over the dataset, appending verified solutions to cfg.out; returns counts."""
    from ..strategies import get_strategy

    ds = load_dataset(cfg.dataset)
    strat = get_strategy(cfg.strategy, **cfg.options)
    m = model or load_model(cfg.model)
    cache = Cache() if cfg.cache else None
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    done = done_ids(cfg.out)
    counts = {"kept": 0, "wrong": 0, "no_answer": 0, "unverified": 0, "error": 0, "skipped_done": 0}
    ranges = parse_ranges(cfg.skip)
    processed = 0
    for index, item in items_to_run(cfg):
        if cfg.limit is not None and processed >= cfg.limit:
            break
        processed += 1
        if item.id in done:
            counts["skipped_done"] += 1
            continue
        assert not in_ranges(index, ranges), "a skipped position reached the pool"  # noqa: S101 - invariant
        t0 = time.perf_counter()
        try:
            result = run_one(ds.problem(item, "open"), strat, m, cache=cache, seed=cfg.seed)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:  # noqa: BLE001 - one item's failure is logged and the run goes on
            out = Outcome(index, item.id, "error", gold=item.answer, seconds=time.perf_counter() - t0,
                          error=f"{type(e).__name__}: {e}"[:300])
        else:
            solution, fmt, why = verified_solution(cfg.strategy, result, item)
            out = Outcome(index, item.id, why, result.answer, item.answer,
                          sum(c.completion_tokens for c in result.calls), result.usage.seconds)
            if solution is not None:
                line = {"question": item.question, "solution": solution, "answer": result.answer,
                        "id": f"bootstrap:{item.id}", "task": cfg.strategy, "format": fmt,
                        "source": {"dataset": cfg.dataset, "index": index, "id": item.id,
                                   "strategy": cfg.strategy, "model": m.spec, "seed": cfg.seed}}
                with cfg.out.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(line, ensure_ascii=False) + "\n")
        with log_path(cfg.out).open("a", encoding="utf-8") as f:
            f.write(json.dumps(out.__dict__, ensure_ascii=False) + "\n")
        counts[out.status] += 1
        if on_item is not None:
            on_item(out)
    counts["pool"] = sum(1 for ln in cfg.out.read_text(encoding="utf-8").splitlines() if ln.strip()) \
        if cfg.out.is_file() else 0
    return counts


def check_pool(pool: Path, dataset: str, skip: str = DEFAULT_SKIP) -> None:
    """InputError when a pool question equals a question at a reserved position of `dataset`."""
    ranges = parse_ranges(skip)
    reserved = {" ".join(it.question.split()) for i, it in enumerate(load_dataset(dataset).items())
                if in_ranges(i, ranges)}
    for n, line in enumerate(pool.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        q = " ".join(str(json.loads(line).get("question", "")).split())
        if q in reserved:
            raise InputError(f"{pool}:{n}: this exemplar is a question of the reserved slice {skip} of {dataset}")
