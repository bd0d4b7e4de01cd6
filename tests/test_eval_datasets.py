"""Dataset parsing (JSONL incl. malformed lines, BIG-bench task.json, procedural generators)."""

from __future__ import annotations

import json
import re
from fractions import Fraction

import pytest

from reasonlab.context import Usage
from reasonlab.errors import InputError
from reasonlab.eval.datasets import Item, list_datasets, load_dataset, match_answer, render_problem
from reasonlab.eval.datasets.bigbench import parse_task
from reasonlab.eval.datasets.jsonl import gsm8k_final
from reasonlab.problem import Result


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_registry_knows_the_builtin_prefixes():
    assert {"jsonl", "bigbench", "procedural"} <= set(list_datasets())


def test_unknown_prefix_and_missing_colon():
    with pytest.raises(InputError, match="unknown dataset"):
        load_dataset("nosuch:x")
    with pytest.raises(InputError, match="PREFIX:ARG"):
        load_dataset("gsm8k.jsonl")


def test_gsm8k_final_answer():
    assert gsm8k_final("She has 3+4=<<3+4=7>>7 apples.\n#### 1,234") == "1234"
    assert gsm8k_final("42") == "42"


def test_jsonl_gsm8k_and_choices(tmp_path):
    p = _write(tmp_path / "d.jsonl", [
        json.dumps({"question": "2+2?", "answer": "2+2=4\n#### 4"}),
        "",
        json.dumps({"id": "mc1", "question": "Colour of the sky?", "choices": ["red", "blue"], "answer": "B"}),
        json.dumps({"question": "Pick", "choices": ["x", "y", "z"], "answer": 2}),
        json.dumps({"question": "Pick text", "choices": ["x", "y"], "answer": "y"}),
        json.dumps({"question": "Capital of France?", "answer": "Paris"}),
    ])
    items = list(load_dataset(f"jsonl:{p}").items())
    assert [it.id for it in items] == ["1", "mc1", "4", "5", "6"]
    assert (items[0].answer, items[0].kind) == ("4", "number")
    assert items[0].meta["solution"] == "2+2=4"  # GSM8K worked solution, for few-shot exemplars
    assert (items[1].answer, items[1].gold_index, items[1].kind) == ("blue", 1, "choice")
    assert (items[2].answer, items[2].gold_index) == ("z", 2)
    assert items[3].gold_index == 1
    assert items[4].kind == "text"


@pytest.mark.parametrize("line, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"question": "q"}', "missing field 'answer'"),
    ('{"question": "", "answer": "1"}', "'question' must be non-empty"),
    ('{"question": "q", "answer": "c", "choices": ["a", "b"]}', "none of the choices"),
    ('{"question": "q", "answer": 5, "choices": ["a", "b"]}', "outside the 2 choices"),
    ('{"question": "q", "answer": "a", "choices": "ab"}', "'choices' must be a list"),
])
def test_jsonl_malformed_line_names_file_and_line(tmp_path, line, message):
    p = _write(tmp_path / "bad.jsonl", [json.dumps({"question": "ok", "answer": "1"}), "", line])
    with pytest.raises(InputError) as e:
        list(load_dataset(f"jsonl:{p}").items())
    assert f"{p}:3:" in str(e.value)
    assert message in str(e.value)


def test_jsonl_missing_file_and_duplicates(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_dataset(f"jsonl:{tmp_path / 'nope.jsonl'}")
    p = _write(tmp_path / "dup.jsonl", [json.dumps({"id": "a", "question": "q", "answer": "1"})] * 2)
    with pytest.raises(InputError, match=r"dup.jsonl:2: duplicate id"):
        list(load_dataset(f"jsonl:{p}").items())


@pytest.mark.parametrize("kind", ["two-step-arithmetic", "slope", "linear-equation"])
def test_procedural_is_seeded_and_exact(kind):
    a = list(load_dataset(f"procedural:{kind}?n=30&seed=5").items())
    b = list(load_dataset(f"procedural:{kind}?n=30&seed=5").items())
    c = list(load_dataset(f"procedural:{kind}?n=30&seed=6").items())
    assert a == b and a != c and len(a) == 30
    for it in a:
        nums = [int(x) for x in re.findall(r"-?\d+", it.question)]
        if kind == "two-step-arithmetic":
            x, y, z = nums[0], nums[1], nums[2]
            m = re.search(r"\((\d+) ([+-]) (\d+)\) ([*+-]) (\d+)", it.question)
            assert m
            first = x + y if m.group(2) == "+" else x - y
            final = {"*": first * z, "+": first + z, "-": first - z}[m.group(4)]
            assert it.steps == {"first": str(first)} and it.answer == str(final)
        elif kind == "slope":
            x1, y1, x2, y2 = nums
            assert Fraction(it.answer) == Fraction(y2 - y1, x2 - x1)
            assert it.steps == {"rise": str(y2 - y1), "run": str(x2 - x1)}
        else:
            m = re.match(r"Solve for x: (-?\d+)x ([+-]) (\d+) = (-?\d+)", it.question)
            assert m
            a_, b_, c_ = int(m.group(1)), int(m.group(3)) * (1 if m.group(2) == "+" else -1), int(m.group(4))
            assert a_ * int(it.answer) + b_ == c_ and it.steps == {"rhs": str(c_ - b_)}


def test_procedural_bad_specs_and_exemplars():
    with pytest.raises(InputError, match="unknown procedural task"):
        load_dataset("procedural:calculus")
    with pytest.raises(InputError, match="unknown option"):
        load_dataset("procedural:slope?k=3")
    ds = load_dataset("procedural:slope?n=10")
    ex = ds.exemplars(3, {it.id for it in ds.items()})
    assert len(ex) == 3 and not {e.question for e in ex} & {it.question for it in ds.items()}


BB_TASK = {
    "name": "toy", "task_prefix": "Answer briefly.\n",
    "examples": [
        {"input": "2 + 2 =", "target": "4"},
        {"input": "Name a primary colour.", "target": ["red", "blue", "yellow"]},
        {"input": "Which is a fish?", "target_scores": {"cat": 0, "salmon": 1, "owl": 0}},
    ],
}


def test_bigbench_parse_generative_and_multiple_choice():
    items = parse_task(BB_TASK, "toy/task.json")
    assert items[0].question == "Answer briefly.\n2 + 2 =" and items[0].answer == "4"
    assert items[1].answer == "red" and items[1].meta["aliases"] == ["blue", "yellow"]
    assert sorted(items[2].choices) == ["cat", "owl", "salmon"]
    assert items[2].choices[items[2].gold_index] == items[2].answer == "salmon"
    assert parse_task(BB_TASK, "toy/task.json")[2].choices == items[2].choices  # seeded shuffle


def test_bigbench_shuffle_moves_the_first_listed_answer():
    task = {"name": "t", "examples": [{"input": f"q{i}", "target_scores": {"right": 1, "w1": 0, "w2": 0, "w3": 0}}
                                      for i in range(40)]}
    positions = {it.gold_index for it in parse_task(task, "t/task.json")}
    assert len(positions) > 1
    with pytest.raises(InputError, match="no 'examples'"):
        parse_task({"name": "programmatic"}, "p/task.json")
    with pytest.raises(InputError, match="neither 'target' nor 'target_scores'"):
        parse_task({"examples": [{"input": "x"}]}, "p/task.json")


def test_bigbench_reads_from_the_data_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REASONLAB_DATA", str(tmp_path))
    root = tmp_path / "bigbench-1.0.0" / "benchmark_tasks"
    (root / "toy" / "sub").mkdir(parents=True)
    (root / "toy" / "sub" / "task.json").write_text(json.dumps(BB_TASK), encoding="utf-8")
    (root / "index.txt").write_text("toy\n", encoding="utf-8")
    items = list(load_dataset("bigbench:toy/sub").items())
    assert len(items) == 3
    with pytest.raises(InputError, match="subtasks: sub"):
        list(load_dataset("bigbench:toy").items())
    with pytest.raises(InputError, match="no BIG-bench JSON task 'other'"):
        list(load_dataset("bigbench:other").items())
    with pytest.raises(InputError, match="TASK or TASK/SUBTASK"):
        load_dataset("bigbench:a/b/c")


MC = Item(id="1", question="Which is a fish?", answer="salmon", kind="choice", choices=["cat", "salmon"], gold_index=1)


def test_prompt_formats_render_and_gold():
    closed = render_problem(MC, "closed")
    assert "- salmon" in closed.text and closed.kind == "text" and closed.choices is None
    adv = render_problem(MC, "closed-adversarial")
    assert adv.kind == "choice" and adv.choices == ["cat", "salmon"] and "(B) salmon" in adv.render()
    open_ = render_problem(MC, "open")
    assert "salmon" not in open_.text
    assert MC.gold_for("closed-adversarial") == ("B", "choice")
    assert MC.gold_for("closed") == ("salmon", "text")
    with pytest.raises(InputError):
        render_problem(MC, "weird")


def test_match_answer_per_format():
    assert match_answer("B", MC, "closed-adversarial")
    assert match_answer("Salmon", MC, "closed-adversarial")
    assert not match_answer("A", MC, "closed-adversarial")
    assert match_answer("salmon.", MC, "closed")
    assert not match_answer("B", MC, "closed")
    num = Item(id="2", question="q", answer="3.14159", kind="number")
    assert not match_answer("3.14", num, "closed")
    assert match_answer("3.14", num, "closed", tol=1e-3)
    alias = Item(id="3", question="q", answer="red", kind="auto", meta={"aliases": ["blue"]})
    assert match_answer("Blue", alias, "closed")


def _result(answer, strict, reasoning=""):
    return Result(question="q", strategy="s", model="m", answer=answer, strict_answer=strict,
                  reasoning=reasoning, calls=[], usage=Usage())


def test_default_score_strict_flexible_steps_and_distance():
    ds = load_dataset("procedural:two-step-arithmetic?n=1")
    item = Item(id="x", question="(2 + 3) * 4", answer="20", kind="number", steps={"first": "5"})
    s = ds.score(item, _result("20", None, "2 + 3 = 5, times 4 is 20"))
    assert s == {"strict": 0.0, "flexible": 1.0, "token_edit_distance": 0.0, "step:first": 1.0}
    s = ds.score(item, _result("21", "21", "2 + 3 = 6"))
    assert s == {"strict": 0.0, "flexible": 0.0, "token_edit_distance": 1.0, "step:first": 0.0}


def test_bigbench_unpacks_one_task_from_the_cached_archive(tmp_path, monkeypatch):
    import io
    import tarfile

    monkeypatch.setenv("REASONLAB_DATA", str(tmp_path))
    (tmp_path / "archives").mkdir()
    with tarfile.open(tmp_path / "archives" / "bigbench-1.0.0.tar.gz", "w:gz") as tar:
        for name in ("toy/task.json", "other/sub/task.json", "other/task.json"):
            blob = json.dumps(BB_TASK).encode()
            info = tarfile.TarInfo(f"bigbench-1.0.0/bigbench/benchmark_tasks/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    assert len(list(load_dataset("bigbench:toy").items())) == 3
    root = tmp_path / "bigbench-1.0.0" / "benchmark_tasks"
    assert (root / "toy" / "task.json").is_file() and not (root / "other").exists()  # only the task asked for
    assert (root / "index.txt").read_text().split() == ["other", "toy"]
    assert len(list(load_dataset("bigbench:other/sub").items())) == 3
    with pytest.raises(InputError, match="no BIG-bench JSON task 'toys'"):
        list(load_dataset("bigbench:toys").items())


def test_score_of_passes_the_format_only_to_overrides_that_take_it():
    from reasonlab.eval.datasets import Dataset, score_of

    class TwoArgs(Dataset):
        prefix = "two-args-test"

        def score(self, item, result):
            return {"called": 1.0}

    class ThreeArgs(Dataset):
        prefix = "three-args-test"

        def score(self, item, result, prompt_format="closed"):
            return {"fmt": float(prompt_format == "open")}

    r = _result("1", "1")
    assert score_of(TwoArgs("x"), MC, r, "open") == {"called": 1.0}
    assert score_of(ThreeArgs("x"), MC, r, "open") == {"fmt": 1.0}


def test_jsonl_non_utf8_file_is_a_clear_error(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_bytes(b'\xff\xfe{"question": "q", "answer": "1"}\n')
    with pytest.raises(InputError, match=r"bad\.jsonl:\d+: not UTF-8 text"):
        list(load_dataset(f"jsonl:{p}").items())


def test_jsonl_line_separator_inside_a_string_does_not_split_the_line(tmp_path):
    p = tmp_path / "ls.jsonl"
    p.write_text('{"question": "one\u2028two", "answer": "3"}\n', encoding="utf-8")
    items = list(load_dataset(f"jsonl:{p}").items())
    assert len(items) == 1 and items[0].question == "one\u2028two"


def test_jsonl_overlong_line_is_refused_without_reading_it(tmp_path, monkeypatch):
    import reasonlab.jsonl as rj

    monkeypatch.setattr(rj, "MAX_LINE_BYTES", 64)
    p = tmp_path / "long.jsonl"
    p.write_text('{"question": "q", "answer": "1"}\n{"question": "' + "x" * 200 + '", "answer": "2"}\n')
    with pytest.raises(InputError, match=r"long\.jsonl:2: a line longer than"):
        list(load_dataset(f"jsonl:{p}").items())


def test_csv_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"question,answer\nq,1\n\xff\xfe,2\n")
    with pytest.raises(InputError, match=r"bad\.csv:\d+: not UTF-8 text"):
        list(load_dataset(f"csv:{bad}").items())
    huge = tmp_path / "huge.csv"
    huge.write_text("question,answer\n\"" + "x" * 200_000 + "\",1\n")
    with pytest.raises(InputError, match=r"huge\.csv:\d+: not readable CSV"):
        list(load_dataset(f"csv:{huge}").items())
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="no header row"):
        list(load_dataset(f"csv:{empty}").items())
