"""Node answers are read by the extraction chains (first real answer statement wins over a later
hedge), a drawn graph that fails validation is kept in `details` with its messages on its nodes,
and `graphs.run` mirrors `reasonlab.run`."""

import json

import pytest

from reasonlab import graphs
from reasonlab.api import run
from reasonlab.graphs.drawn import DrawnError, spec_from_reply
from reasonlab.graphs.node_answers import is_hedge, parse_answer, read_reply
from reasonlab.models.scripted import ScriptedModel

HEDGED = ("The answer is 3. To see why, note that Anna has two apples and one more. However, without more "
          "context the answer is not immediately apparent from the text.")


@pytest.mark.parametrize("text, kind, want", [
    (HEDGED, "number", 3),
    (HEDGED, "text", "3"),
    ("The answer is Paris. Some say the answer is unclear.", "text", "Paris"),
    ("The answer is not immediately apparent. Counting again, the answer is 12.", "number", 12),
    ("The answer is unknown. #### 7", "number", 7),
    ("First 4, then 5. The answer is 9.", "number", 9),
    ("Let me see. The answer is 12.", "number", 12),
    ("The answer is (C). Or maybe the answer is unclear.", "choice", "C"),
    ("No idea at all", "number", "No idea at all"),
    ("The answer is yes.", "yesno", True),
    ("No. The answer is yes, though.", "yesno", False),
])
def test_first_explicit_statement_beats_a_later_hedge(text, kind, want):
    assert parse_answer(text, kind)[0] == want


def test_reading_marks_strict_only_for_explicit_statements():
    assert read_reply(HEDGED, "number").strict == "3"
    r = read_reply("She has 4 apples and buys 5 more, 9 in all", "number")
    assert r.strict is None and r.flexible == "9"
    assert is_hedge("not immediately apparent from the text") and is_hedge("unclear") and not is_hedge("12")


def test_graph_strategy_answer_uses_first_statement():
    plan = {"nodes": [{"id": "a", "ask": "How many?"}], "output": "a"}
    model = ScriptedModel(replies=[json.dumps(plan)], by_prompt={"Answer this sub-question": HEDGED})
    r = run("Anna has 2 apples and gets 1 more. How many?", "graph", model, cache=False)
    assert r.answer == "3" and r.strict_answer == "3"
    assert r.details["graph"]["nodes"][0]["answer"] == 3


def test_invalid_drawing_keeps_nodes_edges_and_messages():
    cyclic = {"nodes": [{"id": "a", "ask": "x?", "after": ["b"]}, {"id": "b", "ask": "y?", "after": ["a"]},
                        {"id": "c", "ask": "z?", "after": ["ghost"]}]}
    with pytest.raises(DrawnError) as e:
        spec_from_reply(json.dumps(cyclic), "graph")
    d = e.value.drawing
    assert [n["id"] for n in d["nodes"]] == ["a", "b", "c"]
    assert {"from": "b", "to": "a", "label": ""} in d["edges"] and {"from": "a", "to": "b", "label": ""} in d["edges"]
    by_id = {n["id"]: n for n in d["nodes"]}
    assert by_id["c"]["status"] == "invalid" and "unknown reference 'ghost'" in by_id["c"]["error"]
    assert by_id["a"]["status"] == "invalid" and "cycle" in by_id["a"]["error"]
    assert by_id["b"]["status"] == "pending" and by_id["b"]["error"] is None
    assert {"node": "c", "message": "unknown reference 'ghost' (not an input or a node)"} in e.value.issues


def test_fallback_details_carry_the_invalid_drawing():
    bad = {"nodes": [{"id": "a", "ask": "x?", "after": ["zzz"]}, {"id": "b", "ask": "y?", "after": ["a"]}]}
    model = ScriptedModel(replies=[json.dumps(bad), json.dumps(bad)],
                          by_prompt={"step by step": "so 4", "arabic": "4"})
    events = []
    r = run("What is 2 + 2?", "graph", model, cache=False, listeners=[lambda e, p: events.append((e, p))])
    g = r.details["graph"]
    assert r.note.startswith("fell back to zero-shot CoT") and g["valid"] is False
    assert [n["id"] for n in g["nodes"]] == ["a", "b"] and g["edges"] == [{"from": "a", "to": "b", "label": ""}]
    assert g["nodes"][0]["status"] == "invalid" and "'zzz'" in g["nodes"][0]["error"]
    assert g["issues"][0]["node"] == "a" and g["attempt"] == "repair"
    assert all(a["drawing"] for a in g["attempts"])
    invalid = [p for e, p in events if e == "graph_invalid"]
    assert len(invalid) == 2 and invalid[0]["drawing"]["nodes"][0]["status"] == "invalid"
    assert json.loads(json.dumps(r.to_dict(), default=str))["details"]["graph"]["nodes"]


def test_unreadable_reply_gives_empty_drawing_with_the_reason():
    model = ScriptedModel(replies=["no plan here", "still none"], by_prompt={"step by step": "4", "arabic": "4"})
    g = run("What is 2 + 2?", "graph", model, cache=False).details["graph"]
    assert g["valid"] is False and g["nodes"] == [] and "no JSON object" in g["issues"][0]["message"]


def test_flow_schema_error_still_drawn_loosely():
    flow = {"steps": [{"id": "a", "ask": "x?", "set": "a", "colour": "red"}, {"id": "done", "output": "{a}"}]}
    with pytest.raises(DrawnError) as e:
        spec_from_reply(json.dumps(flow), "flow")
    d = e.value.drawing
    assert [n["id"] for n in d["nodes"]] == ["a", "done"] and d["edges"] == [{"from": "a", "to": "done", "label": ""}]
    assert d["nodes"][0]["status"] == "invalid" and "colour" in d["nodes"][0]["error"]


def test_graphs_run_mirrors_reasonlab_run(tmp_path):
    g = graphs.Graph(name="apples").input("question")
    g.ask("anna", "{question}\nHow many apples does Anna have?", answer="number")
    g.ask("total", "{question}\nAnna has {anna}. How many in all?", answer="number")
    model = ScriptedModel(by_prompt={"does Anna": "The answer is 7.", "in all": "The answer is 12."})
    events = []
    result = graphs.run(g, model, cache=False, listeners=[lambda e, p: events.append(e)],
                        question="Elsa has 5; Anna has 2 more.")
    assert result.status == "ok" and result.answer == 12 and result.answers["anna"] == 7
    assert "graph_done" in events
    f = tmp_path / "g.yaml"
    f.write_text("inputs: {n: 3}\nnodes:\n  - {id: double, compute: 'n * 2'}\n")
    assert graphs.run(str(f), model, cache=False, n=5).answer == 10
    assert graphs.run(str(f), model, cache=False, inputs={"n": 1}).answer == 2
    with pytest.raises(graphs.GraphError, match="unknown input 'm'"):
        graphs.run(str(f), model, cache=False, m=1)
