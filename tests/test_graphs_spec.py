"""Loading graph/flowchart files and validating them: errors name the node and the line."""

import json

import pytest

from reasonlab.graphs import (
    Cond,
    Flowchart,
    Graph,
    GraphError,
    Node,
    ValidationError,
    check,
    load,
    loads,
    validate,
)
from reasonlab.tools import tool, unregister_tool

GOOD_GRAPH = """\
name: g
inputs:
  question: "Q?"
nodes:
  - id: a
    ask: "first {question}"
  - id: b
    ask: "second {question}"
  - id: c
    ask: "combine {a} and {b}"
output: c
"""


def messages(spec):
    return [i.render() for i in validate(spec)]


def test_loads_graph_with_lines():
    g = loads(GOOD_GRAPH, "g.yaml")
    assert isinstance(g, Graph)
    assert [n.id for n in g.nodes] == ["a", "b", "c"]
    assert [n.line for n in g.nodes] == [5, 7, 9]
    assert g.inputs["question"].default == "Q?"
    assert validate(g) == []


def test_json_file(tmp_path):
    p = tmp_path / "g.json"
    p.write_text(json.dumps({"nodes": [{"id": "a", "ask": "hi"}]}))
    g = load(p)
    assert isinstance(g, Graph) and g.nodes[0].ask == "hi"


def test_unknown_field_points_at_its_line():
    text = GOOD_GRAPH.replace('    ask: "second {question}"\n', '    ask: "second {question}"\n    depends: [a]\n')
    with pytest.raises(GraphError) as e:
        loads(text, "g.yaml")
    assert str(e.value).startswith("g.yaml:9: node 'b': unknown field(s) 'depends'")


def test_wrong_type_points_at_its_line():
    text = GOOD_GRAPH.replace("output: c", "output: c\nmax_steps: many")
    with pytest.raises(GraphError, match=r"g.yaml:12: .*'many' is not of type 'integer'"):
        loads(text, "g.yaml")


def test_bad_yaml_reports_line():
    with pytest.raises(GraphError, match=r"bad.yaml:4: not valid YAML.*flow sequence that starts at line 3"):
        loads("nodes:\n  - id: a\n    ask: [unclosed\n", "bad.yaml")


def test_node_needs_exactly_one_kind():
    with pytest.raises(GraphError, match=r"x.yaml:2: node 'a': a node needs exactly one of .* \(found ask and compute\)"):
        loads("nodes:\n  - id: a\n    ask: hi\n    compute: '1'\n", "x.yaml")


def test_unknown_reference_with_line():
    g = loads(GOOD_GRAPH.replace("combine {a} and {b}", "combine {a} and {zz}"), "g.yaml")
    issues = validate(g)
    assert any(i.node == "c" and i.line == 9 and "unknown reference 'zz'" in i.message for i in issues)
    with pytest.raises(ValidationError) as e:
        check(g)
    assert str(e.value).startswith("g.yaml:9: node 'c': unknown reference 'zz'")


def test_cycle_outside_loop():
    text = """
nodes:
  - id: a
    ask: "use {b}"
  - id: b
    ask: "use {a}"
"""
    msgs = messages(loads(text, "c.yaml"))
    assert any("cycle outside a loop: a → b → a" in m for m in msgs)


def test_unreachable_node():
    text = GOOD_GRAPH + "  - id: stray\n    ask: nothing\n"
    text = text.replace("output: c\n", "") + "output: c\n"
    msgs = messages(loads(text, "u.yaml"))
    assert any("node 'stray'" in m and "unreachable" in m for m in msgs)


def test_several_sinks_need_output():
    text = "nodes:\n  - id: a\n    ask: x\n  - id: b\n    ask: y\n"
    assert any("several final nodes" in m for m in messages(loads(text)))


def test_loop_needs_exit_and_budget():
    no_exit = """
nodes:
  - id: l
    loop:
      max: 3
      body:
        - id: x
          ask: "improve {current}"
"""
    assert any("loop without an exit condition" in m for m in messages(loads(no_exit, "l.yaml")))
    no_max = no_exit.replace("      max: 3\n", "      until: 'iteration >= 1'\n")
    with pytest.raises(GraphError, match=r"'max' is a required property"):
        loads(no_max, "l.yaml")


def test_loop_body_reference_from_outside():
    text = """
nodes:
  - id: l
    loop:
      max: 2
      until: "iteration >= 1"
      body:
        - id: x
          ask: "improve {current}"
  - id: after
    ask: "use {x}"
"""
    assert any("inside a loop; refer to the loop node" in m for m in messages(loads(text)))


def test_bad_expression_is_reported_at_node():
    text = "nodes:\n  - id: a\n    compute: 'x.__class__'\n"
    issues = validate(loads(text, "e.yaml"))
    assert issues[0].node == "a" and "attribute access" in issues[0].message


FLOW = """\
kind: flowchart
state:
  x: int
  total: {type: int, join: sum}
steps:
  - id: start
    compute: {x: "1"}
  - id: check
    branch: "x > 0"
    then: fin
  - id: par
    parallel:
      - - id: p1
          compute: {total: "1"}
      - - id: p2
          compute: {total: "2"}
  - id: fin
    output: "{x}"
"""


def test_flowchart_loads_and_validates():
    f = loads(FLOW, "f.yaml")
    assert isinstance(f, Flowchart)
    assert f.state["total"].join == "sum" and f.state["total"].join_explicit
    assert validate(f) == []


def test_parallel_writes_need_join_rule():
    f = loads(FLOW.replace("  total: {type: int, join: sum}", "  total: int"), "f.yaml")
    issues = validate(f)
    assert any(i.node == "par" and "written by arms [1, 2]" in i.message and i.line == 11 for i in issues)


def test_flowchart_cycle_and_unknown_jump():
    text = FLOW.replace("    then: fin", "    then: start")
    assert any("cycle outside a loop" in m for m in messages(loads(text)))
    text = FLOW.replace("    then: fin", "    then: nowhere")
    assert any("jumps to unknown step 'nowhere'" in m for m in messages(loads(text)))


def test_flowchart_undeclared_state_and_no_output():
    text = """
kind: flowchart
steps:
  - id: a
    ask: "hi"
    set: y
"""
    msgs = messages(loads(text))
    assert any("writes 'y', which is not a declared state key" in m for m in msgs)
    assert any("no 'output' step" in m for m in msgs)


def test_unreachable_step():
    text = FLOW.replace("  - id: fin\n", "  - id: stop\n    output: '0'\n  - id: fin\n").replace("then: fin", "then: stop")
    msgs = messages(loads(text))
    assert any("node 'fin'" in m and "unreachable" in m for m in msgs)


def test_join_type_checks():
    with pytest.raises(GraphError, match="join 'append' needs type list"):
        loads("kind: flowchart\nstate:\n  x: {type: int, join: append}\nsteps:\n  - id: o\n    output: '1'\n")


def test_unknown_tool_and_known_tool():
    text = "nodes:\n  - id: t\n    tool: graphs_test_echo\n    args: {text: hi}\n"
    assert any("unknown tool 'graphs_test_echo'" in m for m in messages(loads(text)))

    @tool(name="graphs_test_echo")
    def echo(text: str) -> str:
        """Echo."""
        return text

    try:
        assert validate(loads(text)) == []
    finally:
        unregister_tool("graphs_test_echo")


def test_python_api_builds_same_thing():
    g = Graph(name="api").input("question")
    g.ask("a", "first {question}")
    g.ask("b", "then", after=["a"])
    assert validate(g) == []
    f = Flowchart().var("n", "int", 0)
    f.compute("inc", {"n": "n + 1"})
    f.branch("big", Cond(expr="n > 3"), then="done", else_="done")
    f.out("done", "{n}")
    assert validate(f) == []
    f.nodes.insert(0, Node("bad", "compute", compute={"m": "1"}))
    assert any("'m', which is not a declared state key" in m for m in messages(f))


def test_examples_are_valid():
    from pathlib import Path

    files = sorted(Path(__file__).parent.parent.glob("examples/*.yaml"))
    assert len(files) >= 3
    for p in files:
        assert validate(load(p)) == [], p
