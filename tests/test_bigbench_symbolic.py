"""BIG-bench symbolic tasks: programmatic-task items, the pip fallback, symbolic PAL exemplars, dev items."""

from __future__ import annotations

import hashlib
import io
import json
import random
import sys
import tarfile
from pathlib import Path

import pytest

from reasonlab.api import run
from reasonlab.errors import InputError
from reasonlab.eval.datasets import bigbench, bigbench_programs, load_dataset
from reasonlab.eval.datasets.bigbench import pack_tasks, parse_task
from reasonlab.eval.datasets.bigbench_programs import arithmetic_items, boolean_items, evaluate
from reasonlab.exemplars import shape_text, symbolic_programs, task_of
from reasonlab.models.scripted import ScriptedModel
from reasonlab.sandbox import detect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import make_symbolic  # noqa: E402

needs_sandbox = pytest.mark.skipif(detect().backend == "none", reason="no sandbox on this machine")


# -- the expression evaluator and the programmatic tasks' items ---------------------------------
@pytest.mark.parametrize("expr", ["not ( True ) and ( True )", "True or False and not False", "not not False",
                                  "( False or ( not True ) ) or True", "((-1 + 2) * (3 - -4))",
                                  "(-9 * -9 - 8 + 7)", "((2 - 3 * 4) + (-5 * (6 - 7)))"])
def test_evaluate_agrees_with_python(expr):
    assert evaluate(expr) == eval(expr)  # noqa: S307 - fixed test strings


def test_evaluate_refuses_anything_else():
    for bad in ("__import__('os')", "2 ** 10", "x + 1", "1 / 2"):
        with pytest.raises(ValueError):
            evaluate(bad)


def test_boolean_items_follow_the_task_grammar_and_order():
    pairs = list(boolean_items())
    assert len(pairs) == 428  # what the task scores: ≤ 100 per length 1–8, fewer where fewer exist
    subs = list(dict.fromkeys(s for s, _ in pairs))
    assert subs == [f"length_{n}" for n in range(1, 9)]
    first = [it for s, it in pairs if s == "length_1"]
    assert sorted(it.question for it in first) == ["False is", "True is"]  # 2 expressions, no shots
    for s, it in pairs:
        expr = it.question[: -len(" is")]
        assert len(expr.split()) == int(s.split("_")[1])
        assert it.answer == str(eval(expr))  # noqa: S307 - generated from the fixed grammar
    long = [it for s, it in pairs if s == "length_8"]
    assert len(long) == 100 and all(it.meta["shots"].count(" is ") == 3 for it in long)
    assert [it.id for _, it in boolean_items()] == [it.id for _, it in pairs]  # seeded: the same every time


def test_arithmetic_items_follow_the_task_grammar():
    pairs = list(arithmetic_items())
    assert len(pairs) == 1200
    names = list(dict.fromkeys(s for s, _ in pairs))
    assert names[0] == "depth_0_length_2" and names[-1] == "depth_2x2x2_length_4" and len(names) == 12
    for _, it in pairs[::37]:
        assert it.question.endswith(" =") and it.answer == str(eval(it.question[:-2]))  # noqa: S307
    nested = [it for s, it in pairs if s == "depth_2x2_length_3"]
    assert all(it.question.startswith("(((") for it in nested)
    assert [it.question for _, it in arithmetic_items()][:5] == [it.question for _, it in pairs][:5]


def _archive(tmp_path: Path, files: dict[str, bytes]) -> None:
    (tmp_path / "archives").mkdir(exist_ok=True)
    with tarfile.open(tmp_path / "archives" / "bigbench-1.0.0.tar.gz", "w:gz") as tar:
        for name, blob in files.items():
            info = tarfile.TarInfo(f"bigbench-1.0.0/bigbench/benchmark_tasks/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


def test_programmatic_task_from_the_archive_checked_by_its_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("REASONLAB_DATA", str(tmp_path))
    fake = b"# a task.py\n"
    _archive(tmp_path, {"boolean_expressions/task.py": fake, "other_prog/task.py": b"x = 1\n",
                        "boolean_expressions/README.md": b"no"})
    with pytest.raises(InputError, match="not the BIG-bench 1.0.0 task.py"):
        list(load_dataset("bigbench:boolean_expressions").items())
    monkeypatch.setitem(bigbench_programs.TASK_SHA256, "boolean_expressions", hashlib.sha256(fake).hexdigest())
    items = list(load_dataset("bigbench:boolean_expressions").items())
    assert len(items) == 428 and items[0].kind == "text"
    sub = list(load_dataset("bigbench:boolean_expressions/length_7").items())
    assert len(sub) == 100 and all(len(it.question.split()) == 8 for it in sub)
    with pytest.raises(InputError, match="subtasks: length_1"):
        list(load_dataset("bigbench:boolean_expressions/length_99").items())
    with pytest.raises(InputError, match="programmatic .* not supported"):
        list(load_dataset("bigbench:other_prog").items())


def test_example_input_prefix_goes_between_task_prefix_and_input():
    task = {"task_prefix": "Sort the following words alphabetically:", "example_input_prefix": "\nList: ",
            "examples": [{"input": "stick gelatine", "target": "gelatine stick"}]}
    item = parse_task(task, "word_sorting/task.json")[0]
    assert item.question == "Sort the following words alphabetically:\nList: stick gelatine"
    assert item.answer == "gelatine stick"


def test_download_falls_back_to_the_tree_pip_left_behind(tmp_path, monkeypatch):
    """pip ≥ 26 unpacks the sdist, then refuses its metadata: the loader packs the unpacked tasks."""

    class Done:
        returncode, stdout = 1, ""
        stderr = "ERROR: Distributions from PyPI cannot declare direct URL dependencies.\n"

    def fake_pip(cmd, capture_output, text, env):
        assert "--no-clean" in cmd
        tree = Path(env["TMPDIR"]) / "pip-download-x" / "bigbench_abc" / "bigbench" / "benchmark_tasks"
        (tree / "toy").mkdir(parents=True)
        (tree / "toy" / "task.json").write_text(json.dumps({"examples": [{"input": "1 + 1 =", "target": "2"}]}))
        (tree / "toy" / "big.bin").write_bytes(b"0" * 100)
        return Done()

    monkeypatch.setenv("REASONLAB_DATA", str(tmp_path))
    monkeypatch.setattr(bigbench.subprocess, "run", fake_pip)
    items = list(load_dataset("bigbench:toy").items())
    assert [(it.question, it.answer) for it in items] == [("1 + 1 =", "2")]
    archives = tmp_path / "archives"
    assert [p.name for p in archives.iterdir()] == ["bigbench-1.0.0-tasks.tar.gz"]  # the temp tree is gone
    with tarfile.open(archives / "bigbench-1.0.0-tasks.tar.gz") as tar:
        assert tar.getnames() == ["bigbench-1.0.0/bigbench/benchmark_tasks/toy/task.json"]

    def failing_pip(cmd, capture_output, text, env):
        return Done()

    monkeypatch.setenv("REASONLAB_DATA", str(tmp_path / "fresh"))
    monkeypatch.setattr(bigbench.subprocess, "run", failing_pip)
    with pytest.raises(Exception, match="could not download bigbench==1.0.0 with pip: ERROR: Distributions"):
        list(load_dataset("bigbench:toy").items())


def test_pack_tasks_keeps_only_task_files(tmp_path):
    tree = tmp_path / "benchmark_tasks"
    (tree / "a" / "sub").mkdir(parents=True)
    for rel in ("a/task.py", "a/sub/task.json", "a/sub/data.csv"):
        (tree / rel).write_text("x")
    with tarfile.open(pack_tasks(tree, tmp_path / "t.tar.gz")) as tar:
        assert sorted(n.split("benchmark_tasks/")[1] for n in tar.getnames()) == ["a/sub/task.json", "a/task.py"]


# -- PAL's exemplars for symbolic questions --------------------------------------------------------
@pytest.mark.parametrize("question,task", [
    ("not ( True ) and ( True ) is", "boolean"),
    ("True or ( False ) is", "boolean"),
    ("((-1 + 2) * (3 - -4)) =", "arithmetic"),
    ("(5 - -3 * 2) =", "arithmetic"),
    ("Sort the following words alphabetically:\nList: syndrome therefrom", "sorting"),
    ("A baker makes 48 rolls and sells 3 bags of 8. How many are left?", None),
    ("What is 2 + 3?", None),
    ("Is it True that owls sleep by day?", None),
    ("False", None),
])
def test_task_of_reads_the_question_form(question, task):
    assert task_of(question) == task


def test_shape_text_keeps_operators_and_nesting_not_values():
    assert shape_text("((-1 + 2) * 3) =") == shape_text("((-7 + 9) * 4) =")
    assert shape_text("(1 + 2) =") != shape_text("(1 * 2) =")
    assert "truth" in shape_text("not True is") and "neg" in shape_text("(3 - -4)")


def test_symbolic_programs_pick_the_task_and_the_closest_shape_last():
    sel = symbolic_programs("((-1 + 2) * (3 - -4)) =", 3)
    assert sel is not None and len(sel.exemplars) == 3
    assert {ex.task for ex in sel.exemplars} == {"arithmetic"} and sel.scores == sorted(sel.scores)
    assert sel.exemplars[-1].question == "((6 - -3) * (-2 + 5)) ="  # same nesting and operators
    assert {ex.task for ex in symbolic_programs("not True and False is", 2).exemplars} == {"boolean"}
    assert symbolic_programs("How many apples are left?", 3) is None
    assert symbolic_programs("not True is", 0) is None


def test_pal_with_default_exemplars_shows_programs_of_the_question_form():
    reply = "```python\ndef solution():\n    return not ( True ) and ( True )\n```"
    m = ScriptedModel(replies=[reply])
    r = run("not ( True ) and ( True ) is", "pal", m, cache=False, rounds=0)
    assert r.details["exemplars"]["set"] == "symbolic-programs:boolean"
    shown = [msg["content"] for msg in m.received[0] if msg["role"] == "assistant"]
    assert len(shown) == 3 and all("return" in s and ("True" in s or "False" in s) for s in shown)
    gsm = ScriptedModel(replies=["```python\ndef solution():\n    return 29\n```"])
    r = run("A farmer has 17 sheep and buys 3 pens of 4 sheep each. How many sheep does he have?", "pal", gsm,
            cache=False, rounds=0)
    assert r.details["exemplars"]["set"] == "builtin"  # word problems keep the word-problem programs


@needs_sandbox
@pytest.mark.sandbox
@pytest.mark.parametrize("question,reply,gold", [
    ("not ( True ) and ( True ) is", "def solution():\n    return not ( True ) and ( True )", "False"),
    ("((-1 + 2) * (3 - -4)) =", "def solution():\n    return ((-1 + 2) * (3 - -4))", "7"),
    ("Sort the following words alphabetically:\nList: therefrom syndrome",
     "def solution():\n    return sorted(['therefrom', 'syndrome'])", "syndrome therefrom"),
    ("Sort the following words alphabetically:\nList: therefrom syndrome",
     "def solution():\n    return ' '.join(sorted('therefrom syndrome'.split()))", "syndrome therefrom"),
])
def test_pal_answers_symbolic_items_in_the_dataset_form(question, reply, gold):
    from reasonlab.eval.datasets import Item, match_answer

    r = run(question, "pal", ScriptedModel(replies=[f"```python\n{reply}\n```"]), cache=False, rounds=0)
    assert r.answer == gold
    kind = "number" if gold.lstrip("-").isdigit() else "text"
    assert match_answer(r.answer, Item(id="1", question=question, answer=gold, kind=kind), "open")


# -- the development items ------------------------------------------------------------------------
def test_dev_items_have_right_answers_in_the_dataset_form():
    rows = {t: make_symbolic.make(t, 40, 7) for t in ("boolean", "arithmetic", "sorting")}
    for r in rows["boolean"]:
        expr = r["question"][: -len(" is")]
        assert 5 <= len(expr.split()) <= 9 and r["answer"] == str(eval(expr))  # noqa: S307
    assert {r["answer"] for r in rows["boolean"]} == {"True", "False"}
    for r in rows["arithmetic"]:
        assert r["question"].endswith(" =") and r["answer"] == str(eval(r["question"][:-2]))  # noqa: S307
    for r in rows["sorting"]:
        words = r["question"].split("List: ")[1].split()
        assert r["question"].startswith(make_symbolic.SORT_PREFIX) and r["answer"] == " ".join(sorted(words))
        assert 3 <= len(words) <= 15 and len(set(words)) == len(words)
    assert make_symbolic.make("boolean", 5, 7) == rows["boolean"][:5]  # seeded
    assert make_symbolic.make("boolean", 5, 8) != rows["boolean"][:5]


def test_boolean_walk_always_gives_the_asked_length():
    rng = random.Random(1)
    for n in range(1, 12):
        expr = make_symbolic.boolean_expression(rng, n)
        assert len(expr.split()) == n and isinstance(evaluate(expr), bool)


# -- LaTeX-wrapped answers (zero-shot CoT writes them on these tasks) ----------------------------------
@pytest.mark.parametrize("text,kind,expected", [
    ("So the expression is true. The answer is \\(\\boxed{\\text{True}}\\).", "text", "True"),
    ("Therefore, the answer is: \\(\\text{False}\\)", "text", "False"),
    ("The final answer is $\\boxed{-38}$.", "number", "-38"),
    ("The answer is \\[\\boxed{\\dfrac{3}{4}}\\]", "number", "3/4"),
    ("The answer is \\(\\textbf{async fine grammar}\\).", "text", "async fine grammar"),
    ("The answer is $5.", "number", "5"),  # a dollar amount is no LaTeX
])
def test_latex_wrappers_are_removed_from_answers(text, kind, expected):
    from reasonlab.answers import extract

    assert extract(text, kind).strict == expected


def test_unlatex_leaves_plain_text_alone():
    from reasonlab.answers.filters import unlatex

    assert unlatex("syndrome therefrom") == "syndrome therefrom"
    assert unlatex("\\(\\boxed{\\text{True}}\\)") == "True"
    assert unlatex("\\frac{1}{2} and more") == "1/2 and more"
