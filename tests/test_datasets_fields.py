"""Field mapping for file datasets (jsonl, csv, parquet) and `hf:` datasets read offline from local files."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasonlab.errors import InputError
from reasonlab.eval.datasets import load_dataset

BBH = [{"input": "not ( True ) and ( True ) is", "target": "False"},
       {"input": "True and not not ( not False ) is", "target": "True"}]
MMLU = [{"idx": 7, "q": "2 + 2 = ?", "options": ["3", "4", "5", "6"], "label": 1},
        {"idx": 9, "q": "Capital of France?", "options": ["Rome", "Paris", "Oslo", "Bern"], "label": "B"}]
MMLU_TYPED = [MMLU[0], {**MMLU[1], "label": 1}]  # one type per column, as Parquet and Arrow need


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_maps_bbh_fields(tmp_path):
    f = _jsonl(tmp_path / "bbh.jsonl", BBH)
    items = list(load_dataset(f"jsonl:{f}?question=input&answer=target").items())
    assert [(it.question, it.answer, it.kind, it.id) for it in items] == [
        (BBH[0]["input"], "False", "text", "1"), (BBH[1]["input"], "True", "text", "2")]


def test_jsonl_maps_choices_id_and_index_answers(tmp_path):
    f = _jsonl(tmp_path / "mmlu.jsonl", MMLU)
    items = list(load_dataset(f"jsonl:{f}?question=q&answer=label&choices=options&id=idx").items())
    assert [(it.id, it.answer, it.gold_index, it.is_choice) for it in items] == [("7", "4", 1, True),
                                                                                 ("9", "Paris", 1, True)]


def test_dotted_paths_reach_nested_fields(tmp_path):
    f = _jsonl(tmp_path / "squad.jsonl", [{"ctx": {"q": "Who?"}, "answers": {"text": ["Ada", "A. L."]}}])
    it = next(load_dataset(f"jsonl:{f}?question=ctx.q&answer=answers.text.0").items())
    assert (it.question, it.answer) == ("Who?", "Ada")


def test_wrong_field_name_is_one_line_naming_the_fields(tmp_path):
    f = _jsonl(tmp_path / "bbh.jsonl", BBH)
    with pytest.raises(InputError) as e:
        list(load_dataset(f"jsonl:{f}?question=inptu&answer=target").items())
    assert str(e.value) == f"{f}:1: no field 'inptu' for question (fields here: input, target)"
    with pytest.raises(InputError, match=r"missing field 'question' \(fields here: input, target\) — map yours"):
        list(load_dataset(f"jsonl:{f}").items())
    with pytest.raises(InputError, match="unknown option 'questoin'"):
        load_dataset(f"jsonl:{f}?questoin=input")


def test_csv_with_choice_columns_and_tsv(tmp_path):
    f = tmp_path / "mmlu.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["question", "A", "B", "C", "D", "answer"])
        w.writerow(["2 + 2 = ?", "3", "4", "5", "6", "B"])
        w.writerow(["Largest planet?\n(one word)", "Mars", "Venus", "Jupiter", "Earth", "2"])
    items = list(load_dataset(f"csv:{f}?choices=A,B,C,D").items())
    assert items[1].question == "Largest planet?\n(one word)"  # a quoted cell keeps its newline
    assert [(it.id, it.answer, it.choices) for it in items] == [
        ("0", "4", ["3", "4", "5", "6"]), ("1", "Jupiter", ["Mars", "Venus", "Jupiter", "Earth"])]
    t = tmp_path / "gsm.tsv"
    t.write_text("problem\tsolution\nA pen costs 3. Four pens?\tThey cost 4*3=12.\n#### 12\n".replace(
        "12.\n####", "12. ####"), encoding="utf-8")
    it = next(load_dataset(f"csv:{t}?question=problem&answer=solution").items())
    assert (it.answer, it.kind, it.meta["solution"]) == ("12", "number", "They cost 4*3=12.")
    with pytest.raises(InputError, match=r"no field 'E' for choices \(fields here: question, A, B, C, D, answer\)"):
        list(load_dataset(f"csv:{f}?choices=A,B,C,E").items())


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    f = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pylist(MMLU_TYPED), f)
    items = list(load_dataset(f"parquet:{f}?question=q&answer=label&choices=options&id=idx").items())
    assert [(it.id, it.answer) for it in items] == [("7", "4"), ("9", "Paris")]
    with pytest.raises(InputError, match=r"no field 'question' for question \(fields here: idx, q, options, label\)"):
        list(load_dataset(f"parquet:{f}?question=question&answer=label").items())


@pytest.fixture
def offline_hf(tmp_path, monkeypatch):
    pytest.importorskip("datasets")
    for var, value in (("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"), ("HF_HOME", str(tmp_path / "hf")),
                       ("HF_DATASETS_CACHE", str(tmp_path / "hf" / "datasets"))):
        monkeypatch.setenv(var, value)
    return tmp_path


def test_hf_local_folder_with_splits_and_mapping(offline_hf):
    folder = offline_hf / "bbh"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", [{"input": "x?", "target": "1"}])
    _jsonl(folder / "test.jsonl", BBH)
    ds = load_dataset(f"hf:{folder}?question=input&answer=target")  # no split: test comes first
    assert [it.answer for it in ds.items()] == ["False", "True"]
    ds = load_dataset(f"hf:{folder}?split=train&question=input&answer=target")
    assert [it.question for it in ds.items()] == ["x?"]
    with pytest.raises(InputError, match="no field 'question' for question"):
        list(load_dataset(f"hf:{folder}?split=test&question=question&answer=target").items())


def test_hf_saved_dataset_and_missing_hub_dataset_offline(offline_hf):
    import datasets

    saved = offline_hf / "saved"
    datasets.DatasetDict({"validation": datasets.Dataset.from_list(MMLU_TYPED)}).save_to_disk(str(saved))
    items = list(load_dataset(f"hf:{saved}?question=q&answer=label&choices=options&id=idx").items())
    assert [it.answer for it in items] == ["4", "Paris"]
    with pytest.raises(InputError) as e:
        list(load_dataset("hf:nobody/not-cached-dataset?split=test").items())
    assert "HF_HUB_OFFLINE is set" in str(e.value) and "\n" not in str(e.value)


def test_eval_cli_on_mapped_jsonl(tmp_path):
    f = _jsonl(tmp_path / "bbh.jsonl", BBH)
    script = tmp_path / "model.json"
    script.write_text(json.dumps({"default": "The answer is False."}), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "reasonlab", "eval", "-d", f"jsonl:{f}?question=input&answer=target",
                          "-s", "direct", "-m", f"scripted:{script}", "--out", str(tmp_path / "run"), "--no-plots",
                          "--no-progress", "--no-smooth"],
                         capture_output=True, text=True, env={**os.environ}, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "2 tasks run now" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "reasonlab", "eval", "-d", f"jsonl:{f}?question=prompt",
                          "-s", "direct", "-m", f"scripted:{script}", "--out", str(tmp_path / "run2")],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"reasonlab: error: {f}:1: no field 'prompt' for question (fields here: input, target)"]
