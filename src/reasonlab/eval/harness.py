"""Run strategies × models × settings × runs over dataset items, resumably, with a thread pool.

The harness loads each dataset, strategy and model once, lists every task (`eval.tasks.Task`),
skips the ones finished in an earlier run, runs the rest with `concurrency` threads through
`eval.execute.TaskRunner` (which calls `reasonlab.api.run` and scores the result with its dataset's
`score` hook and `eval.scoring`), and writes one row to the results store as soon as each
finishes. Re-running the same evaluation skips every finished task and retries the errored ones.
Each task is claimed in the store just before it runs (`eval.claims`): evaluations started at once
into one folder split the tasks, and each waits for the other's before it reports.
What an evaluation is (`EvalConfig`) and the options each strategy gets live in `eval.config`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError
from ..models import Model, load_model, parse_spec
from ..strategies import Strategy, get_strategy
from .config import (
    EMERGENCE_TEMPERATURE,
    MAX_TASKS,
    EvalConfig,
    applied_options,
    check_options,
    setting_name,
    strategy_options,
)
from .datasets import Dataset, Item, load_dataset
from .execute import TaskRunner
from .results import slug
from .scoring import SmoothScorer
from .store import Row, Store, TaskKey
from .tasks import Progress, Task

__all__ = ["EMERGENCE_TEMPERATURE", "EvalConfig", "Harness", "Progress", "Task", "setting_name",
           "strategy_options"]


class Harness:
    """Builds the task list, runs what is not finished, and writes rows to the store."""

    def __init__(self, cfg: EvalConfig, *, progress: bool = True,
                 model_factory: Callable[[str], Model] | None = None) -> None:
        cfg.validate()
        check_options(cfg)  # every -o key and value, before the results folder is touched
        self.cfg = cfg
        self.progress = progress
        self.model_factory = model_factory or self._load_model
        self.store = Store(cfg.out)
        self.cancel = threading.Event()
        self._can_score: dict[str, bool] = {}  # model spec → backend scores log-probabilities
        cache = None
        if cfg.cache:
            from ..cache import Cache

            cache = Cache()
        scorer = SmoothScorer(self.store, cache, self._can_score) if cfg.smooth else None
        self.runner = TaskRunner(self.cancel, timeout=cfg.timeout, cache=cache, scorer=scorer)
        self.models: dict[str, Model] = {}
        self.datasets: dict[str, Dataset] = {}
        self.items: dict[str, list[Item]] = {}
        self.by_others = 0  # tasks of this evaluation that another process finished during this run
        self._wanted: set[TaskKey] = set()

    # -- setup ------------------------------------------------------------------------------
    def _load_model(self, spec: str) -> Model:
        """Load a model once; an HTTP backend gets enough connection slots for the concurrency."""
        if parse_spec(spec).backend == "openai":
            return load_model(spec, concurrency=max(4, self.cfg.concurrency))
        return load_model(spec)

    def prepare(self) -> list[Task]:
        """Load datasets, strategies and models (each once) and list every task."""
        cfg = self.cfg
        for spec in cfg.datasets:
            ds = load_dataset(spec)
            if cfg.tolerance:
                ds.tolerance = cfg.tolerance
            items: list[Item] = []
            seen: set[str] = set()
            for it in ds.items():
                if it.id in seen:
                    raise InputError(f"{spec}: two items have the id {it.id!r}")
                seen.add(it.id)
                items.append(it)
                if cfg.limit is not None and len(items) >= cfg.limit:
                    break
            self.datasets[spec], self.items[spec] = ds, items
            self.store.set_meta(f"dataset:{spec}", {"primary": ds.primary, "n_items": len(items),
                                                    "description": ds.description})
        per_setting = sum(len(its) * (len(cfg.prompt_formats) if any(it.is_choice for it in its) else 1)
                          for its in self.items.values())
        total = per_setting * len(cfg.shots) * len(cfg.models) * len(cfg.strategies) * cfg.runs
        if total > MAX_TASKS:
            raise InputError(f"this evaluation has {total:,} tasks, more than {MAX_TASKS:,}: lower --limit, "
                             "--runs or the number of strategies, models and settings")
        strategies: dict[tuple[str, int | None, str | None], Strategy] = {}
        meta = self.store.meta()
        for name in cfg.strategies:
            # results are keyed by strategy name: other options in the same folder would mix up runs
            applied = applied_options(name, cfg)
            before = meta.get(f"strategy:{name}")
            if before is not None and before != applied:
                raise InputError(f"{cfg.out} holds results of {name!r} with options {before or 'none'}; "
                                 f"now {applied or 'none'} — use another --out folder")
            self.store.set_meta(f"strategy:{name}", applied)

        def strategy(name: str, k: int | None, exemplars: str | None) -> Strategy:
            if (name, k, exemplars) not in strategies:
                strategies[(name, k, exemplars)] = get_strategy(name, **strategy_options(name, cfg, k, exemplars))
            return strategies[(name, k, exemplars)]

        if cfg.exemplars not in (None, "", "auto", "dataset"):  # a bad --exemplars file: one line, exit 2
            from ..exemplars.loader import load as load_exemplars

            load_exemplars(cfg.exemplars)
        for name in cfg.strategies:  # build each once up front: bad options fail before any model loads
            for k in cfg.shots:
                strategy(name, k, None if cfg.exemplars == "dataset" else cfg.exemplars)
        for spec in cfg.models:
            model = self.model_factory(spec)
            self.models[spec] = model
            info = dataclasses.asdict(model.info())
            self._can_score[spec] = bool(info.get("supports_logprobs"))
            self.store.set_model(spec, info)
        self.store.set_meta("config", {k: (str(v) if isinstance(v, Path) else v)
                                       for k, v in dataclasses.asdict(cfg).items()})
        tasks = []
        for spec, ds in self.datasets.items():
            # prompt formats only differ for multiple-choice items; other datasets run once, "open"
            has_choices = any(it.is_choice for it in self.items[spec])
            for fmt in (cfg.prompt_formats if has_choices else ["open"]):
                ex_path = self._dataset_exemplars(spec, ds, fmt) if cfg.exemplars == "dataset" else cfg.exemplars
                for k in cfg.shots:
                    setting = setting_name(fmt, k, cfg.temperature, cfg.exemplars)
                    for mspec, model in self.models.items():
                        for sname in cfg.strategies:
                            strat = strategy(sname, k, ex_path)
                            for r in range(cfg.runs):
                                for it in self.items[spec]:
                                    key = TaskKey(spec, setting, mspec, sname, r, it.id)
                                    tasks.append(Task(key, ds, it, fmt, strat, model, cfg.seed + r))
        return tasks

    def _dataset_exemplars(self, spec: str, ds: Dataset, fmt: str) -> str:
        """Write few-shot exemplars drawn from the dataset (never an evaluated item) to a JSONL file."""
        shots = [k for k in self.cfg.shots if k is not None]
        want = max(8, 4 * max(shots, default=2))  # enough for strategies that draw disjoint sets
        records = ds.exemplar_records(want, {it.id for it in self.items[spec]}, fmt)
        if len(records) < max(shots, default=1):
            raise InputError(f"{spec}: only {len(records)} items are left for exemplars once the evaluated "
                             f"ones are excluded; lower --limit or --shots")
        folder = self.cfg.out / "exemplars"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{slug(spec)}-{fmt}.jsonl"
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # another eval into this folder may read it
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        os.replace(tmp, path)
        return str(path)

    def execute(self, task: Task) -> Row:
        """Run and score one task; any failure becomes an error row (never counted correct)."""
        return self.runner.execute(task)

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> Progress:
        """Run every unfinished task with `concurrency` threads; returns counts of this run."""
        tasks = self.prepare()
        finished = self.store.finished()
        pending = [t for t in tasks if finished.get(t.key) != t.seed]
        prior = Progress()
        primaries = {spec: ds.primary for spec, ds in self.datasets.items()}
        wanted = self._wanted = {t.key for t in tasks}
        for row in self.store.rows():
            if row.key in wanted and row.status != "error" and finished.get(row.key) == row.seed:
                prior.add(row, primaries.get(row.key.dataset, "flexible"))
        bar = _bar(len(tasks), prior.done, self.progress)
        now = Progress()

        def record(task: Task, row: Row) -> None:
            self.store.put(row)
            now.add(row, primaries[task.key.dataset])
            if bar is not None:
                total = Progress(prior.done + now.done, prior.scored + now.scored, prior.correct + now.correct)
                acc = total.accuracy
                bar.set_postfix_str(f"acc={'–' if acc is None else f'{100 * acc:.1f}%'} err={now.errors}",
                                    refresh=False)
                bar.update(1)

        since = time.time()
        busy: list[Task] = []  # claimed by another live evaluation: wait for it, or take over when it dies

        def claim(task: Task) -> bool:
            got = self.store.claims.take(task.key, task.seed, since)
            if got == "busy":
                busy.append(task)
            elif got == "done":
                self.by_others += 1
                if bar is not None:
                    bar.update(1)
            return got == "mine"

        self.store.claims.start_heartbeat()
        try:
            while pending and not self.cancel.is_set():
                if self.cfg.concurrency == 1:
                    for task in pending:
                        if claim(task):
                            record(task, self.execute(task))
                else:
                    self._parallel(pending, record, claim)
                pending, busy[:] = list(busy), []
                if pending:
                    self.cancel.wait(1.0)
        except BaseException:
            self.cancel.set()
            raise
        finally:
            if bar is not None:
                bar.close()
        return now

    def _parallel(self, pending: list[Task], record: Callable[[Task, Row], None],
                  claim: Callable[[Task], bool]) -> None:
        """C worker threads claim and run tasks from a queue; this thread writes each row as it arrives."""
        todo: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
        results: queue.SimpleQueue[tuple[Task, Row | BaseException | None]] = queue.SimpleQueue()
        for task in pending:
            todo.put(task)
        workers = min(self.cfg.concurrency, len(pending))
        for _ in range(workers):
            todo.put(None)

        def work() -> None:
            while not self.cancel.is_set():
                task = todo.get()
                if task is None:
                    return
                try:
                    results.put((task, self.execute(task) if claim(task) else None))
                except BaseException as e:  # noqa: BLE001 - handed to the main thread
                    results.put((task, e))
                    return

        threads = [threading.Thread(target=work, name=f"eval-{i}", daemon=True) for i in range(workers)]
        for t in threads:
            t.start()
        for _ in range(len(pending)):
            while True:
                try:
                    task, got = results.get(timeout=0.5)
                    break
                except queue.Empty:
                    if not any(t.is_alive() for t in threads):
                        raise RuntimeError("evaluation workers stopped unexpectedly") from None
            if isinstance(got, BaseException):
                raise got
            if got is not None:
                record(task, got)
        for t in threads:
            t.join()

    def failures(self) -> int:
        """Tasks of this evaluation whose stored result is an error (after `run`)."""
        return sum(r.status == "error" for r in self.store.rows() if r.key in self._wanted)

    def close(self) -> None:
        for m in self.models.values():
            m.close()
        self.store.close()


def _bar(total: int, initial: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="item", dynamic_ncols=True, mininterval=0.2)
