"""Graph files are bounded inputs: alias bombs, deep nesting and huge files fail fast with one line."""

import json

import pytest

from reasonlab.cli import main
from reasonlab.graphs import GraphError, from_dict, loads

BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
nodes: [{id: x, ask: "*g"}]
"""


def call(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def test_billion_laughs_is_refused_before_expansion():
    assert len(BOMB) < 400
    with pytest.raises(GraphError, match=r"bomb.yaml:\d+: refused: more than 50000 values once aliases"):
        loads(BOMB, "bomb.yaml")


def test_many_aliases_and_recursive_alias_refused():
    many = "x: &x 1\nnodes: [" + ", ".join(["*x"] * 150) + "]\n"
    with pytest.raises(GraphError, match="more than 100 aliases"):
        loads(many, "many.yaml")
    with pytest.raises(GraphError, match="recursive document"):
        loads("a: &a [1, *a]\nnodes: []\n", "rec.yaml")


def test_a_few_aliases_still_load():
    text = ("defaults: &d {answer: number, max_tokens: 64}\n"
            "nodes:\n  - {id: a, ask: 'A?', answer: number}\n")
    # unknown top-level key 'defaults' is a schema error, not a bound: aliases themselves are fine
    with pytest.raises(GraphError, match="unknown field"):
        loads(text, "ok.yaml")
    spec = loads("nodes:\n  - &n {id: a, ask: 'A?'}\n", "ok.yaml")
    assert spec.nodes[0].ask == "A?"


@pytest.mark.parametrize("text", [
    "[" * 5000 + "]" * 5000,  # JSON
    "nodes:\n" + "".join("  " * i + "- \n" for i in range(1, 200)),  # YAML block nesting
    '{"nodes": ' + "[" * 100000 + "]" * 100000 + "}",
])
def test_deep_nesting_is_one_clear_error(text):
    with pytest.raises(GraphError, match=r"refused: nested deeper than 64 levels"):
        loads(text, "deep.json")


def test_deep_python_data_refused():
    data: dict = {"nodes": []}
    cur = data["nodes"]
    for _ in range(5000):
        cur.append([])
        cur = cur[0]
    with pytest.raises(GraphError, match="nested deeper"):
        from_dict(data)


def test_huge_file_refused(tmp_path):
    f = tmp_path / "big.yaml"
    f.write_text("# " + "x" * 5_000_000 + "\nnodes: []\n")
    from reasonlab.graphs import load

    with pytest.raises(GraphError, match="file too large"):
        load(f)


@pytest.mark.parametrize("command", ["run", "check", "show"])
@pytest.mark.parametrize("content", [BOMB, "[" * 20000 + "]" * 20000, json.dumps({"nodes": [[[[[[[[]]]]]]]]})
                                     .replace("[[", "[" * 3000).replace("]]", "]" * 3000)])
def test_cli_gives_one_line_for_bombs_and_nesting(command, content, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "c.sqlite"))
    f = tmp_path / "bad.yaml"
    f.write_text(content)
    code, out, err = call(["graph", command, str(f), *(["--model", "scripted:[]"] if command == "run" else [])],
                          capsys)
    assert code == 2, err
    assert "Traceback" not in err and "RecursionError" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"reasonlab: error: {f}:") and "refused" in lines[0]
