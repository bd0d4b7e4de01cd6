"""`reasonlab graph run|show|check` end to end (scripted model, no network)."""

import json
from pathlib import Path

import pytest

from reasonlab.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"


def call(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


@pytest.fixture
def scripted(tmp_path, monkeypatch):
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "cache.sqlite"))
    p = tmp_path / "model.json"
    p.write_text(json.dumps({"default": "Yes. The answer is 4.",
                             "by_prompt": {"price of one lamp": "The answer is 40.",
                                           "How many lamps": "The answer is 3."}}))
    return f"scripted:{p}"


def test_run_flowchart_example_prints_answer(scripted, capsys):
    code, out, err = call(["graph", "run", str(EXAMPLES / "shopping_flow.yaml"), "--model", scripted], capsys)
    assert code == 0
    assert out.strip() == "108"  # 3 × 40 = 120 > 100, so 10% off
    assert "read_price" in err and "steps" in err


def test_run_with_inputs_and_json(scripted, capsys):
    code, out, _ = call(["graph", "run", str(EXAMPLES / "shopping_flow.yaml"), "--model", scripted,
                         "--input", "threshold=500", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "ok" and data["answer"] == 120 and data["inputs"]["threshold"] == 500
    assert data["path"][-2:] == ["big_order", "done"]
    assert {"from": "big_order", "to": "apply_discount", "label": "yes"} in data["edges"]
    assert data["usage"]["calls"] == 2 and len(data["calls"]) == 2


def test_run_graph_example(scripted, capsys):
    code, out, err = call(["graph", "run", str(EXAMPLES / "multi_hop.yaml"), "--model", scripted, "--trace"],
                          capsys)
    assert code == 0 and out.strip()
    assert "running notebooks" in err and "done    change" in err


def test_run_bad_input_and_missing_file(scripted, capsys, tmp_path):
    code, _, err = call(["graph", "run", str(EXAMPLES / "multi_hop.yaml"), "--model", scripted,
                         "--input", "nope=1"], capsys)
    assert code == 2 and "unknown input 'nope'" in err
    code, _, err = call(["graph", "run", str(tmp_path / "none.yaml")], capsys)
    assert code == 2 and "file not found" in err and "Traceback" not in err


def test_run_failure_exits_nonzero_naming_node(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "cache.sqlite"))
    f = tmp_path / "g.yaml"
    f.write_text("nodes:\n  - id: a\n    ask: hi\n  - id: b\n    compute: '1 / 0 + len(a)'\n")
    m = tmp_path / "m.json"
    m.write_text(json.dumps({"default": "ok"}))
    code, out, err = call(["graph", "run", str(f), "--model", f"scripted:{m}"], capsys)
    assert code == 1 and "reasonlab: error: node 'b' failed" in err and "division by zero" in err
    assert "a                done" in err  # the partial result is shown


def test_check_reports_line(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text("nodes:\n  - id: a\n    ask: '{ghost}'\n")
    code, _, err = call(["graph", "check", str(f)], capsys)
    assert code == 2 and f"{f}:2: node 'a': unknown reference 'ghost'" in err
    code, out, _ = call(["graph", "check", str(EXAMPLES / "refine_loop.yaml")], capsys)
    assert code == 0 and out.startswith("ok: graph")


def test_show_mermaid_and_json(capsys):
    code, out, _ = call(["graph", "show", str(EXAMPLES / "refine_loop.yaml")], capsys)
    assert code == 0 and "flowchart TD" in out
    assert "subgraph polish" in out and "draft --> polish" in out and "repeat until" in out
    code, out, _ = call(["graph", "show", str(EXAMPLES / "parallel_vote.yaml"), "--json"], capsys)
    data = json.loads(out)
    assert {n["id"] for n in data["nodes"]} >= {"judges", "geographer", "majority"}


def test_show_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "g.png"
    code, _, err = call(["graph", "show", str(EXAMPLES / "shopping_flow.yaml"), "--png", str(png)], capsys)
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ask_graph_strategy_json_includes_drawn_graph(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "cache.sqlite"))
    plan = {"nodes": [{"id": "anna", "ask": "How many apples does Anna have?"},
                      {"id": "total", "ask": "How many in all?", "after": ["anna"]}], "output": "total"}
    m = tmp_path / "m.json"
    m.write_text(json.dumps({"replies": [json.dumps(plan)], "by_prompt": {
        "sub-question: How many apples does Anna have?": "The answer is 7.",
        "sub-question: How many in all?": "The answer is 12."}}))
    code, out, _ = call(["ask", "Elsa has 5 apples, Anna 2 more. How many together?", "--strategy", "graph",
                         "--model", f"scripted:{m}", "--json", "--no-cache"], capsys)
    assert code == 0
    data = json.loads(out)
    g = data["details"]["graph"]
    assert data["answer"] == "12"
    assert [n["id"] for n in g["nodes"]] == ["anna", "total"]
    assert g["edges"] == [{"from": "anna", "to": "total", "label": ""}]
    assert [n["answer"] for n in g["nodes"]] == ["7", 12] and all(n["seconds"] is not None for n in g["nodes"])
