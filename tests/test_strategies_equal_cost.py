"""Equal-cost comparison (eval/equal_cost.py) and `reasonlab show DIR ITEM` on a results store."""

from __future__ import annotations

from click.testing import CliRunner

from reasonlab.cli import cli
from reasonlab.eval.equal_cost import Point, claims, equal_cost_section, truncated_curve
from reasonlab.eval.results import load
from reasonlab.eval.store import Row, Store, TaskKey


def row(strategy, item, correct, tokens, paths=None, gold="30", details=None):
    key = TaskKey("jsonl:x.jsonl", "open", "m", strategy, 0, str(item))
    d = {"reasoning": "r", "note": None, "strategy": details or ({"paths": paths} if paths else {})}
    return Row(key, 0, "ok", question=f"q{item}", gold=gold, prediction="30" if correct else "1",
               metrics={"flexible": float(correct), "strict": float(correct)}, completion_tokens=tokens, details=d)


def path(i, key, tokens=100, finish="stop"):
    return {"index": i, "answer": key, "key": key, "tokens": tokens, "finish": finish, "confidence": -0.5,
            "weight": 0.6, "kept": True}


def test_claims_only_at_matched_tokens():
    cheap = Point("pal", 6, 10, 150)
    dear = Point("self-consistency", 8, 10, 1200)
    curve = [Point("self-consistency@1", 5, 10, 150), Point("self-consistency@2", 5, 10, 300)]
    out = claims([cheap, dear], {"self-consistency": curve})
    assert len(out) == 1 and "only by spending more" in out[0] and "self-consistency@1" in out[0]
    out = claims([cheap, dear], {})
    assert "not comparable at equal cost" in out[0] and "8.0×" in out[0]
    better_and_cheaper = Point("pal", 9, 10, 150)
    out = claims([better_and_cheaper, dear], {})
    assert out[0].startswith("- **pal beats self-consistency** at no more tokens")


def test_truncated_curve_revotes_stored_paths_and_the_report_section(tmp_path):
    store = Store(tmp_path)
    # item 0: samples 30, 11, 11 → k=1 right, k=3 wrong; item 1: 11, 30, 30 → k=1 wrong, k=3 right
    store.put(row("self-consistency", 0, False, 300, [path(0, "30"), path(1, "11"), path(2, "11")]))
    store.put(row("self-consistency", 1, True, 300, [path(0, "11"), path(1, "30"), path(2, "30")]))
    store.put(row("pal", 0, True, 100))
    store.put(row("pal", 1, False, 100))
    store.set_meta("dataset:jsonl:x.jsonl", {"primary": "flexible"})
    data = load(store)
    curve = truncated_curve(data.cells[("jsonl:x.jsonl", "open", "self-consistency", "m")])
    assert [(p.correct, p.tokens) for p in curve] == [(1, 100), (1, 200), (1, 300)]  # k=2 ties go to the earlier sample
    text = "\n".join(equal_cost_section(data))
    assert "| pal | 50.0" in text and "self-consistency cut to its first k samples" in text
    store.close()


def test_show_prints_one_item_in_full(tmp_path):
    store = Store(tmp_path)
    store.put(row("self-consistency", 7, True, 300, [path(0, "30"), path(1, "30", finish="repetition")]))
    tree = {"mode": "code", "scoring": "execute", "levels": 1, "budget": {}, "best": [0, 1],
            "nodes": [{"id": 0, "parent": None, "depth": 0, "step": "", "score": 0, "status": "kept", "answer": None,
                       "error": None},
                      {"id": 1, "parent": 0, "depth": 1, "step": "return 30", "score": 0.9, "status": "complete",
                       "answer": "30", "error": None}]}
    store.put(row("tree", 7, True, 80, details={"tree": tree}))
    program = {"round": 0, "code": "def solution():\n    return 6 * 5", "answer": "30", "value": "30.0",
               "exit_code": 0, "finish": "stop", "error": None}
    store.put(row("pal", 7, True, 40, details={"program": program["code"], "rounds": [program], "exemplars": {"ids": []}}))
    store.close()
    res = CliRunner().invoke(cli, ["show", str(tmp_path), "7"])
    assert res.exit_code == 0, res.output
    assert "=== self-consistency" in res.output and "finish=repetition" in res.output and "confidence=-0.500" in res.output
    assert "=== tree" in res.output and "return 30" in res.output and "→ 30" in res.output
    assert "program 0 round 0: answer=30 value=30.0 exit=0" in res.output and "return 6 * 5" in res.output
    assert '"exemplars"' in res.output  # the rest of the details
    res = CliRunner().invoke(cli, ["show", str(tmp_path), "7", "-s", "pal"])
    assert "=== pal" in res.output and "=== tree" not in res.output
    res = CliRunner().invoke(cli, ["show", str(tmp_path), "99"])
    assert res.exit_code != 0 and "no results for item" in str(res.exception or res.output)


def test_eval_stores_strategy_details_and_the_report_compares_at_equal_cost(tmp_path):
    import json

    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is {i} plus {i}?", "answer": str(2 * i)}) + "\n"
                            for i in range(1, 4)))
    script = tmp_path / "m.json"
    script.write_text(json.dumps({"default": "Adding them. The answer is 2."}))
    out = tmp_path / "run"
    res = CliRunner().invoke(cli, ["eval", "-d", f"jsonl:{data}", "-s", "direct,self-consistency",
                                   "-o", "self-consistency.samples=3", "-m", f"scripted:{script}",
                                   "--out", str(out), "--no-progress", "--no-plots", "--no-smooth"])
    assert res.exit_code in (0, 1), res.output
    store = Store(out)
    sc = [r for r in store.rows() if r.key.strategy == "self-consistency"]
    store.close()
    assert sc and sc[0].details["strategy"]["votes"] == {"2": 3}  # the vote table is kept per item
    report = (out / "report.md").read_text()
    assert "## Equal-cost comparison" in report and "| self-consistency |" in report
    shown = CliRunner().invoke(cli, ["show", str(out), sc[0].key.item_id, "-s", "self-consistency"])
    assert shown.exit_code == 0 and "votes:" in shown.output and "path  2: answer=2" in shown.output
