"""What defines an evaluation (the `reasonlab eval` flags) and the options each strategy gets from it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..strategies.options import route, strategy_class, validate
from .datasets import PROMPT_FORMATS

EMERGENCE_TEMPERATURE = 0.01  # Lu et al. 2023: near-greedy decoding for the emergence settings

MAX_RUNS = 1000  # runs per setting
MAX_CONCURRENCY = 256  # worker threads
MAX_TASKS = 1_000_000  # tasks of one evaluation (each is held in memory while it runs)


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
        if self.runs > MAX_RUNS or self.concurrency > MAX_CONCURRENCY:
            raise InputError(f"--runs can be at most {MAX_RUNS} and --concurrency at most {MAX_CONCURRENCY}")
        if self.limit is not None and self.limit < 1:
            raise InputError("--limit must be at least 1")
        for name, value in (("--temperature", self.temperature), ("--timeout", self.timeout),
                            ("--tolerance", self.tolerance)):
            if value is not None and not (value == value and abs(value) != float("inf") and value >= 0):
                raise InputError(f"{name} must be a finite number ≥ 0 (got {value})")
        if self.timeout is not None and self.timeout <= 0:
            raise InputError(f"--timeout must be more than 0 (got {self.timeout:g})")
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
    emergence setting) and sampling strategies keep their own temperature. Every value is
    checked by `strategies.options.validate` (types, finite numbers, ranges).
    """
    cls = strategy_class(name)
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
    opts.update(applied_options(name, cfg))
    return validate(cls, opts)


def applied_options(name: str, cfg: EvalConfig) -> dict[str, str]:
    """The --option values that apply to strategy `name` (recorded with the results)."""
    return dict(sorted(route(cfg.options, [name], check=False)[name].items()))


def check_options(cfg: EvalConfig) -> None:
    """Every -o key must belong to at least one chosen strategy, and each value must be valid for it."""
    for name, values in route(cfg.options, cfg.strategies).items():
        validate(name, values)
