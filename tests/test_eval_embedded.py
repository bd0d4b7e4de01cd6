"""One small evaluation on the real embedded model (structure only: its answers are not pinned)."""

from __future__ import annotations

import csv

import pytest

from reasonlab.eval.harness import EvalConfig, Harness
from reasonlab.eval.report import write_report
from reasonlab.eval.store import Store


@pytest.mark.embedded
def test_embedded_eval_runs_scores_and_reports(tmp_path, monkeypatch):
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "cache.sqlite"))
    cfg = EvalConfig(datasets=["procedural:two-step-arithmetic?n=2"], strategies=["direct"], models=["smollm2"],
                     out=tmp_path / "run", concurrency=2)
    h = Harness(cfg, progress=False)
    done = h.run()
    h.close()
    assert done.done == 2
    store = Store(cfg.out)
    rows = list(store.rows())
    models = store.models()
    store.close()
    assert len(rows) == 2 and all(r.status in ("ok", "no_answer") for r in rows)
    for r in rows:
        assert r.metrics["flexible"] in (0.0, 1.0) and r.metrics["strict"] in (0.0, 1.0)
        assert isinstance(r.metrics["gold_logprob"], float) and r.metrics["gold_logprob"] < 0
        assert r.metrics["token_edit_distance"] >= 0 and "step:first" in r.metrics
        assert r.prompt_tokens > 0 and r.calls == 1
    assert models["smollm2"]["n_params"] > 100_000_000
    report = write_report(cfg.out).read_text()
    assert "| direct | smollm2 |" in report
    # one model, one size: no metric-vs-size plot (it would be lone dots)
    assert sorted(p.name.split("_")[0] for p in cfg.out.glob("*.png")) == ["accuracy"]
    with (cfg.out / "results.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 2
