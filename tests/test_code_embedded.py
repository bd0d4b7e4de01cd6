"""pal and react on the real embedded model: structure only (the tiny model's words are not pinned)."""

from __future__ import annotations

import pytest

from reasonlab.api import run
from reasonlab.sandbox import detect

pytestmark = [pytest.mark.embedded, pytest.mark.sandbox]

Q = "Tom has 3 boxes with 4 apples each. How many apples does he have?"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "cache.sqlite"))
    if detect().backend == "none":
        pytest.skip("no sandbox on this machine")


def test_pal_on_embedded_model():
    r = run(Q, "pal", "smollm2", cache=False, rounds=1, max_tokens=128)
    assert r.status in ("ok", "no_answer")
    rounds = r.details["rounds"]
    assert 1 <= len(rounds) <= 2 and len(r.calls) == len(rounds)
    for a in rounds:
        assert a["error"] is not None or a["answer"] is not None
    if r.status == "ok":
        assert r.answer == rounds[-1]["answer"]


def test_react_on_embedded_model():
    r = run(Q, "react", "smollm2", cache=False, max_steps=2, max_tokens=64)
    assert r.details["protocol"] == "text"
    assert len(r.details["steps"]) <= 2
    # per step one call, plus one fresh retry when the guard stops a loop; then at most one "final"
    labels = [c.label for c in r.calls]
    allowed = {"step 0", "step 0 retry 1", "step 1", "step 1 retry 1", "final"}
    assert labels and set(labels) <= allowed and all(labels.count(x) == 1 for x in set(labels))
    assert r.calls[0].params["stop"] == ["Observation:"]
