"""`graph show`: drawings that keep meaning (diamonds, labelled edges that avoid boxes, loop-backs,
inputs, word-boundary ellipses), several files per call, Mermaid without entity clutter."""

from pathlib import Path

import pytest

from reasonlab.cli import main
from reasonlab.graphs import load, loads
from reasonlab.graphs.drawing import diagram, layout
from reasonlab.graphs.mermaid import to_mermaid
from reasonlab.graphs.text_fit import shorten, wrap

EXAMPLES = Path(__file__).parent.parent / "examples"
ALL = sorted(EXAMPLES.glob("*.yaml"))
NESTED = """
kind: flowchart
inputs: {n: 3}
state: {x: int, y: int, log: {type: list, join: append}}
steps:
  - {id: init, compute: {x: "n"}}
  - id: outer
    loop:
      max: 3
      until: "x > 10"
      body:
        - id: inner
          loop: {max: 2, until: "y > 2", body: [{id: bump, compute: {y: "y + 1"}}]}
        - {id: grow, compute: {x: "x + y"}}
        - {id: check, branch: "x > 5", then: note, else: end}
        - {id: note, ask: "Say something about {x}", set: log}
  - {id: decide, branch: {ask: "Is {x} large?"}, then: big, else: small}
  - {id: big, output: "big {x}"}
  - {id: small, output: "small {x}"}
"""
WIDE = """
inputs: {question: "q", limit: 10}
nodes:
  - {id: a, ask: "first of {question}"}
  - {id: b, ask: "second of {question}"}
  - {id: c, ask: "third of {question}"}
  - {id: d, ask: "Add {a} and {b}"}
  - {id: e, ask: "Multiply {b} and {c}"}
  - {id: f, ask: "Compare {d} with {e} and with {a}"}
  - {id: g, compute: "limit - number(f)"}
  - {id: h, ask: "Is {g} bigger than {c}? Also consider {a}", answer: yesno}
  - {id: out, compute: "str(h) + str(d)"}
output: out
"""
SPECS = [*ALL, NESTED, WIDE]


def _spec(x):
    return load(x) if isinstance(x, Path) else loads(x, "inline.yaml")


def call(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def _inside(p, box, eps=0.02):
    x0, y0, x1, y1 = box
    return x0 + eps < p[0] < x1 - eps and y0 + eps < p[1] < y1 - eps


def _samples(pts, n=60):
    for (x1, y1), (x2, y2) in zip(pts, pts[1:], strict=False):
        for i in range(n + 1):
            yield x1 + (x2 - x1) * i / n, y1 + (y2 - y1) * i / n


@pytest.mark.parametrize("source", SPECS, ids=[p.stem for p in ALL] + ["nested_loops", "wide_graph"])
def test_edges_and_loop_backs_never_cross_a_box(source):
    lay = layout(_spec(source))
    boxes = {it.id: lay.box(it) for it in lay.items if not it.dummy}
    ids = list(boxes)
    for i, a in enumerate(ids):  # boxes do not overlap
        for b in ids[i + 1:]:
            (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = boxes[a], boxes[b]
            assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, (a, b)
    polylines = [(pts, e) for pts, e in lay.edges] + [(pts, e) for pts, e, _ in lay.loops]
    for pts, e in polylines:
        for nid, box in boxes.items():
            if nid in (e.src, e.dst):
                continue
            assert not any(_inside(p, box) for p in _samples(pts)), f"{e.src}→{e.dst} crosses {nid}"


def test_meaning_kept_in_drawings():
    items, fwd, back = diagram(load(EXAMPLES / "shopping_flow.yaml"))
    kinds = {it.id: it.kind for it in items}
    assert kinds["big_order"] == "branch"  # drawn as a diamond
    labels = {(e.src, e.dst): e.label for e in fwd}
    assert labels[("big_order", "apply_discount")] == "yes" and labels[("big_order", "done")] == "no"
    _, _, back = diagram(load(EXAMPLES / "refine_loop.yaml"))
    assert [(e.src, e.dst) for e in back] == [("revise", "critique")] and "repeat" in back[0].label
    items, fwd, back = diagram(load(EXAMPLES / "parallel_vote.yaml"))
    assert [(e.src, e.dst) for e in back] == [("count_try", "ask_reason")]
    joins = {(e.src, e.dst) for e in fwd if e.style == "dotted"}
    assert joins == {("count_geographer", "tally"), ("count_sailor", "tally"), ("count_student", "tally")}
    items, fwd, _ = diagram(load(EXAMPLES / "multi_hop.yaml"))
    assert {it.id for it in items if it.kind == "input"} == {"in_question", "in_budget"}
    assert {(e.src, e.dst) for e in fwd if e.src.startswith("in_")} == {
        ("in_question", "notebooks"), ("in_question", "pens"), ("in_budget", "change"), ("in_budget", "check")}


def test_jumps_to_end_and_one_step_loops_are_drawn():
    items, fwd, back = diagram(loads(NESTED, "n.yaml"))
    ends = [it for it in items if it.kind == "end"]
    assert [it.text for it in ends] == [["end of round"]]
    assert ("check", ends[0].id, "no") in {(e.src, e.dst, e.label) for e in fwd}
    assert {(e.src, e.dst) for e in back} == {("note", "inner"), ("bump", "bump")}
    lay = layout(loads(NESTED, "n.yaml"))
    bump = next(it for it in lay.items if it.id == "bump")
    small = next(pts for pts, e, _ in lay.loops if e.src == "bump")
    assert max(abs(x - bump.x) for x, _ in small) < bump.w / 2 + 0.5  # a small loop beside its box
    text = to_mermaid(loads(NESTED, "n.yaml"))
    assert 'check -->|"no"| end_0(["end of round"])' in text and "bump -.->" in text


def test_texts_cut_at_word_boundaries_with_ellipsis():
    assert shorten("Rewrite this explanation of the topic", 20) == "Rewrite this…"
    assert shorten("short", 20) == "short"
    lines = wrap("Here is an explanation of the topic for a ten-year-old reader who asks why", 20, 2)
    assert len(lines) == 2 and lines[-1].endswith("…") and all(len(x) <= 20 for x in lines)
    words = set("Here is an explanation of the topic for a ten-year-old reader who asks why".split())
    assert all(w.rstrip("…") in words for line in lines for w in line.split())
    items, _, _ = diagram(load(EXAMPLES / "refine_loop.yaml"))
    revise = next(it for it in items if it.id == "revise")
    assert revise.text[-1].endswith("…") and not revise.text[-1][-2].isspace()


def test_mermaid_keeps_braces_and_comparisons_readable():
    text = to_mermaid(load(EXAMPLES / "multi_hop.yaml"))
    assert "#123;" not in text and "#125;" not in text and "{question}" in text
    spec = loads('kind: flowchart\ninputs: [x]\nstate: {y: number}\nsteps:\n'
                 '  - {id: b, branch: "x > 2 and x < 9", then: o}\n'
                 '  - {id: o, output: "say \\"hi\\" <b>{x}</b>"}\n', "q.yaml")
    text = to_mermaid(spec)
    assert "x > 2 and x < 9" in text and "#quot;hi#quot;" in text and "#lt;b>" in text
    assert 'b{"b: x > 2 and x < 9"}' in text


def test_show_several_files_and_png_folder(tmp_path, capsys):
    code, out, err = call(["graph", "show", *map(str, ALL), "--png", str(tmp_path / "pics")], capsys)
    assert code == 0
    assert out.count("flowchart TD") == len(ALL) and f"%% {ALL[0]}" in out
    assert sorted(p.name for p in (tmp_path / "pics").iterdir()) == [f"{p.stem}.png" for p in ALL]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in (tmp_path / "pics").iterdir())
    code, out, _ = call(["graph", "show", str(ALL[0]), str(ALL[1]), "--json"], capsys)
    import json

    data = json.loads(out)
    assert [d["file"] for d in data] == [str(ALL[0]), str(ALL[1])]
    code, _, err = call(["graph", "show", str(ALL[0]), str(ALL[1]), "--png", str(tmp_path / "pics" /
                                                                            "multi_hop.png")], capsys)
    assert code == 2 and "names a folder" in err


def test_check_several_files_reports_each(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes:\n  - id: a\n    ask: '{ghost}'\n")
    code, out, err = call(["graph", "check", str(ALL[0]), str(bad)], capsys)
    assert code == 2 and out.startswith("ok: graph") and "unknown reference 'ghost'" in err
    assert "1 of 2 files are not valid" in err
