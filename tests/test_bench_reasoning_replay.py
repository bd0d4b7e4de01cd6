"""The offline replay of vote stop rules in benchmarks/bench_reasoning.py (no model)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_reasoning.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_reasoning", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def record(keys, tokens=100):
    paths = [{"index": i, "answer": k, "strict": k, "key": k, "confidence": -0.1, "finish": "stop", "tokens": tokens}
             for i, k in enumerate(keys)]
    return {"gold": "7", "details": {"paths": paths}}


def test_warm_up_replay_stops_when_the_first_wave_agrees(bench):
    assert bench.revote(record(["7", "7", "3", "3", "3"]), "stop", 0.9, rule="share", warmup=2) == ("7", 200)
    # majority of all five would be 3: the replay reports what the online stop would have answered
    assert bench.revote(record(["7", "7", "3", "3", "3"]), "majority") == ("3", 500)


def test_warm_up_replay_draws_on_until_the_share_passes(bench):
    key, used = bench.revote(record(["7", "3", "7", "7", "3"]), "stop", 0.75, rule="share", warmup=2)
    assert (key, used) == ("7", 400)  # 1/2, 2/3, then 3/4 ≥ 0.75
    key, used = bench.revote(record(["7", "3", "5", "4", "3"]), "stop", 0.9, rule="share", warmup=2)
    assert used == 500  # never settled: every sample drawn
    assert bench.revote(record(["7", "3", "7", "7", "3"]), "majority@2") == ("7", 200)
