"""Run strategies × models × settings × runs over dataset items, resumably, with a thread pool.

Each task calls `reasonlab.runner.run(problem, strategy, model, cache=…, seed=…)` with a model
loaded once per spec and shared by all threads, scores the result with its dataset's `score`
hook (plus smooth log-probability metrics where the backend can score them), and writes one
row to the results store as soon as it finishes. Re-running the same evaluation skips every
finished task and retries the ones that errored.
"""

from __future__ import annotations

import dataclasses
import json
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..context import Cancelled
from ..errors import InputError
from ..models import Model, load_model, parse_spec
from ..predict import Strategy, get_strategy, list_strategies
from ..prompts import cue
from ..runner import run as run_one
from .datasets import LETTERS, PROMPT_FORMATS, Dataset, Item, load_dataset, score_of
from .metrics import smooth_metrics
from .store import Row, Store, TaskKey

EMERGENCE_TEMPERATURE = 0.01  # Lu et al. 2023: near-greedy decoding for the emergence settings


@dataclass
class EvalConfig:
    """Everything that defines an evaluation (the CLI flags)."""

    datasets: list[str]
    strategies: list[str]
    models: list[str]
    out: Path
    limit: int | None = None
    runs: int = 1
    seed: int = 0
    shots: list[int | None] = field(default_factory=lambda: [None])
    prompt_formats: list[str] = field(default_factory=lambda: ["closed"])
    temperature: float | None = None
    concurrency: int = 1
    options: dict[str, str] = field(default_factory=dict)  # "key" or "strategy.key" → value
    tolerance: float = 0.0
    smooth: bool = True
    cache: bool = False
    timeout: float | None = None
    exemplars: str | None = None  # None: each strategy's own; "dataset": drawn from the dataset; else a set/path

    def validate(self) -> None:
        if not self.datasets:
            raise InputError("give at least one --dataset")
        if not self.strategies or not self.models:
            raise InputError("give at least one strategy and one model")
        if self.runs < 1 or self.concurrency < 1:
            raise InputError("--runs and --concurrency must be at least 1")
        if self.limit is not None and self.limit < 1:
            raise InputError("--limit must be at least 1")
        for f in self.prompt_formats:
            if f not in PROMPT_FORMATS:
                raise InputError(f"unknown prompt format {f!r} (use {', '.join(PROMPT_FORMATS)})")
        if len(set(self.models)) != len(self.models) or len(set(self.strategies)) != len(self.strategies):
            raise InputError("a model or strategy is listed twice")


def setting_name(prompt_format: str, shots: int | None, temperature: float | None,
                 exemplars: str | None = None) -> str:
    """The label of one emergence setting, e.g. 'closed, 0-shot, T=0.01' (defaults left out)."""
    parts = [prompt_format]
    if shots is not None:
        parts.append(f"{shots}-shot")
    if exemplars is not None:
        parts.append(f"exemplars={Path(exemplars).name if '/' in exemplars else exemplars}")
    if temperature is not None:
        parts.append(f"T={temperature:g}")
    return ", ".join(parts)


def strategy_options(name: str, cfg: EvalConfig, shots: int | None, exemplars: str | None = None) -> dict[str, Any]:
    """Options for one strategy: shots only where it has that option; the temperature rule; -o values.

    Without --temperature, strategies that decode greedily by default run at 0.01 (the
    emergence setting) and sampling strategies keep their own temperature.
    """
    cls = list_strategies().get(name)
    if cls is None:
        get_strategy(name)  # raises the user-facing error
    assert cls is not None
    fields = {f.name: f for f in dataclasses.fields(cls.Options)}
    opts: dict[str, Any] = {}
    if shots is not None and "shots" in fields:
        opts["shots"] = shots
    if exemplars is not None and "exemplars" in fields:
        opts["exemplars"] = exemplars
    if "temperature" in fields:
        if cfg.temperature is not None:
            opts["temperature"] = cfg.temperature
        elif float(fields["temperature"].default or 0.0) <= EMERGENCE_TEMPERATURE:
            opts["temperature"] = EMERGENCE_TEMPERATURE
    for key, value in cfg.options.items():
        target, dot, k = key.rpartition(".")
        if dot and target != name:
            continue
        if k in fields:
            opts[k] = value
    return opts


def applied_options(name: str, cfg: EvalConfig) -> dict[str, str]:
    """The --option values that apply to strategy `name` (recorded with the results)."""
    cls = list_strategies()[name]
    fields = {f.name for f in dataclasses.fields(cls.Options)}
    applied = {}
    for key, value in cfg.options.items():
        target, dot, k = key.rpartition(".")
        if (not dot or target == name) and k in fields:
            applied[k] = value
    return dict(sorted(applied.items()))


def check_options(cfg: EvalConfig) -> None:
    """Every -o key must belong to at least one chosen strategy."""
    known = list_strategies()
    for key in cfg.options:
        target, dot, k = key.rpartition(".")
        names = [target] if dot else cfg.strategies
        if dot and target not in cfg.strategies:
            raise InputError(f"option {key!r} names strategy {target!r}, which is not being evaluated")
        if not any(n in known and k in {f.name for f in dataclasses.fields(known[n].Options)} for n in names):
            raise InputError(f"no chosen strategy has an option {k!r}")


@dataclass
class Task:
    key: TaskKey
    dataset: Dataset
    item: Item
    prompt_format: str
    strategy: Strategy
    model: Model
    seed: int


@dataclass
class Progress:
    """Counts for the progress bar: tasks done, correct (primary metric), errors."""

    done: int = 0
    scored: int = 0
    correct: float = 0.0
    errors: int = 0

    def add(self, row: Row, primary: str) -> None:
        self.done += 1
        if row.status == "error":
            self.errors += 1
            return
        v = row.metrics.get(primary)
        if v is not None:
            self.scored += 1
            self.correct += float(v)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None


class Harness:
    """Builds the task list, runs what is not finished, and writes rows to the store."""

    def __init__(self, cfg: EvalConfig, *, progress: bool = True,
                 model_factory: Callable[[str], Model] | None = None) -> None:
        cfg.validate()
        self.cfg = cfg
        self.progress = progress
        self.model_factory = model_factory or self._load_model
        self.store = Store(cfg.out)
        self.cancel = threading.Event()
        self._lock = threading.Lock()
        self._can_score: dict[str, bool] = {}  # model spec → backend scores log-probabilities
        self._cache_obj = None
        if cfg.cache:
            from ..cache import Cache

            self._cache_obj = Cache()
        # smooth metrics depend on (model, item, prompt format) only: scored once, shared by strategies and runs
        self._smooth_memo: dict[tuple[str, str, str, str], dict[str, float | None]] = {}
        self.models: dict[str, Model] = {}
        self.datasets: dict[str, Dataset] = {}
        self.items: dict[str, list[Item]] = {}

    # -- setup ------------------------------------------------------------------------------
    def _load_model(self, spec: str) -> Model:
        """Load a model once; an HTTP backend gets enough connection slots for the concurrency."""
        if parse_spec(spec).backend == "openai":
            return load_model(spec, concurrency=max(4, self.cfg.concurrency))
        return load_model(spec)

    def prepare(self) -> list[Task]:
        """Load datasets, strategies and models (each once) and list every task."""
        cfg = self.cfg
        check_options(cfg)
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
        from .report import slug

        shots = [k for k in self.cfg.shots if k is not None]
        want = max(8, 4 * max(shots, default=2))  # enough for strategies that draw disjoint sets
        records = ds.exemplar_records(want, {it.id for it in self.items[spec]}, fmt)
        if len(records) < max(shots, default=1):
            raise InputError(f"{spec}: only {len(records)} items are left for exemplars once the evaluated "
                             f"ones are excluded; lower --limit or --shots")
        folder = self.cfg.out / "exemplars"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{slug(spec)}-{fmt}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        return str(path)

    # -- one task ---------------------------------------------------------------------------
    def execute(self, task: Task) -> Row:
        """Run and score one task; any failure becomes an error row (never counted correct)."""
        item, fmt = task.item, task.prompt_format
        problem = task.dataset.problem(item, fmt)
        gold, _ = item.gold_for(fmt)
        base = {"key": task.key, "seed": task.seed, "question": item.question, "gold": gold}
        cancel = _Either(self.cancel)
        timer = None
        if self.cfg.timeout:
            timer = threading.Timer(self.cfg.timeout, cancel.set)
            timer.daemon = True
            timer.start()
        t0 = time.perf_counter()
        try:
            result = run_one(problem, task.strategy, task.model, cache=self._cache_obj, seed=task.seed,
                             cancel=cancel)
        except Cancelled:
            if self.cancel.is_set():
                raise
            return Row(**base, status="error", seconds=time.perf_counter() - t0,
                       error=f"timeout after {self.cfg.timeout:g}s")
        except Exception as e:  # noqa: BLE001 - any failure of one item is recorded, not fatal
            return Row(**base, status="error", seconds=time.perf_counter() - t0,
                       error=f"{type(e).__name__}: {e}".strip()[:500],
                       details={"traceback": traceback.format_exc(limit=6)[-2000:]})
        finally:
            if timer is not None:
                timer.cancel()
        try:
            metrics = score_of(task.dataset, item, result, fmt)
            if self.cfg.smooth:
                metrics.update(self._smooth(task, problem))
        except Exception as e:  # noqa: BLE001
            return Row(**base, status="error", seconds=result.usage.seconds,
                       error=f"scoring failed: {type(e).__name__}: {e}"[:500])
        u = result.usage
        prompt_tokens = sum(c.prompt_tokens for c in result.calls if c.kind == "generate")
        completion_tokens = sum(c.completion_tokens for c in result.calls if c.kind == "generate")
        details = {"reasoning": result.reasoning[:4000], "note": result.note,
                   "cached_calls": u.cached_calls}
        return Row(**base, status=result.status, prediction=result.answer, strict_answer=result.strict_answer,
                   metrics=metrics, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                   calls=len(result.calls), seconds=u.seconds, details=details)

    def _smooth(self, task: Task, problem) -> dict[str, float | None]:
        """Log-probability metrics under the direct prompt; None values where the backend has none."""
        item, fmt = task.item, task.prompt_format
        gold, _ = item.gold_for(fmt)
        options = None
        if item.is_choice and item.choices:
            options = list(LETTERS[: len(item.choices)]) if fmt == "closed-adversarial" else item.choices
        if not self._can_score.get(task.key.model, False):
            keys = ["gold_logprob"] + (["brier", "mc_grade", "gold_prob"] if options else [])
            return dict.fromkeys(keys)
        memo_key = (task.key.model, task.key.dataset, item.id, fmt)
        with self._lock:
            if memo_key in self._smooth_memo:
                return dict(self._smooth_memo[memo_key])
        prompt = f"{problem.render()}\n\n{cue(problem, 'direct')}"
        got = smooth_metrics(task.model, prompt, gold, options, item.gold_index)
        with self._lock:
            self._smooth_memo[memo_key] = dict(got)
        return got

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> Progress:
        """Run every unfinished task with `concurrency` threads; returns counts of this run."""
        tasks = self.prepare()
        finished = self.store.finished()
        pending = [t for t in tasks if finished.get(t.key) != t.seed]
        prior = Progress()
        primaries = {spec: ds.primary for spec, ds in self.datasets.items()}
        wanted = {t.key for t in tasks}
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

        try:
            if self.cfg.concurrency == 1:
                for task in pending:
                    record(task, self.execute(task))
            else:
                self._parallel(pending, record)
        except BaseException:
            self.cancel.set()
            raise
        finally:
            if bar is not None:
                bar.close()
        return now

    def _parallel(self, pending: list[Task], record: Callable[[Task, Row], None]) -> None:
        """C worker threads take tasks from a queue; this thread writes each row as it arrives."""
        todo: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
        results: queue.SimpleQueue[tuple[Task, Row | BaseException]] = queue.SimpleQueue()
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
                    results.put((task, self.execute(task)))
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
            record(task, got)
        for t in threads:
            t.join()

    def close(self) -> None:
        for m in self.models.values():
            m.close()
        self.store.close()


class _Either(threading.Event):
    """A run's cancel flag: set by its own timeout or by the evaluation-wide cancel."""

    def __init__(self, parent: threading.Event) -> None:
        super().__init__()
        self.parent = parent

    def is_set(self) -> bool:
        return super().is_set() or self.parent.is_set()


def _bar(total: int, initial: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="item", dynamic_ncols=True, mininterval=0.2)
