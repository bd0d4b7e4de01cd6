"""reasonlab bootstrap: verified solutions only, the report slice never pooled, resumable; pools used by strategies."""

from __future__ import annotations

import json

import pytest

from reasonlab.errors import InputError
from reasonlab.eval.bootstrap import BootstrapConfig, bootstrap, check_pool, log_path, parse_ranges
from reasonlab.models.scripted import ScriptedModel
from reasonlab.sandbox import detect

needs_sandbox = pytest.mark.skipif(detect().backend == "none", reason="no sandbox on this machine")


def dataset(tmp_path, n=8):
    """n GSM8K-style items; item i asks for i + 10 (answer i + 10)."""
    p = tmp_path / "train.jsonl"
    p.write_text("".join(json.dumps({"question": f"Tom has {i} apples and gets 10 more. How many apples now?",
                                     "answer": f"{i} + 10 = {i + 10}\n#### {i + 10}"}) + "\n" for i in range(n)))
    return f"jsonl:{p}"


def model(wrong_for=()):
    """Answers item i correctly, except for the i in `wrong_for`."""
    def fn(messages, params, index):
        q = messages[-1]["content"]
        i = int(q.split("Tom has ")[1].split()[0])
        return f"{i} plus 10 is {i + 10}. The answer is {i + 11 if i in wrong_for else i + 10}."
    return ScriptedModel(fn=fn)


def test_parse_ranges():
    assert parse_ranges("0-199") == [(0, 199)] and parse_ranges("3,5-6") == [(3, 3), (5, 6)]
    assert parse_ranges("none") == [] and parse_ranges("") == []
    with pytest.raises(InputError):
        parse_ranges("ten")
    with pytest.raises(InputError):
        parse_ranges("5-2")


def test_keeps_only_verified_solutions_and_never_the_reserved_slice(tmp_path):
    ds, out = dataset(tmp_path), tmp_path / "pool.jsonl"
    cfg = BootstrapConfig(dataset=ds, strategy="few-shot-cot", model="unused", out=out, skip="0-2")
    counts = bootstrap(cfg, model=model(wrong_for={4}))
    assert counts["kept"] == 4 and counts["wrong"] == 1 and counts["pool"] == 4
    pool = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert [p["source"]["index"] for p in pool] == [3, 5, 6, 7]  # 0-2 reserved, 4 wrong
    assert all(p["solution"].endswith(f"The answer is {p['answer']}.") and p["format"] == "cot" for p in pool)
    check_pool(out, ds, "0-2")  # passes
    log = [json.loads(ln) for ln in log_path(out).read_text().splitlines()]
    assert [e["index"] for e in log] == [3, 4, 5, 6, 7] and log[1]["status"] == "wrong"


def test_a_pool_holding_a_reserved_question_is_refused(tmp_path):
    ds, out = dataset(tmp_path), tmp_path / "pool.jsonl"
    bootstrap(BootstrapConfig(dataset=ds, strategy="few-shot-cot", model="x", out=out, skip="none", limit=3),
              model=model())
    with pytest.raises(InputError, match="reserved slice"):
        check_pool(out, ds, "0-199")


def test_resume_skips_processed_items(tmp_path):
    ds, out = dataset(tmp_path), tmp_path / "pool.jsonl"
    cfg = BootstrapConfig(dataset=ds, strategy="few-shot-cot", model="x", out=out, skip="0-1", limit=3)
    first = model()
    bootstrap(cfg, model=first)
    cfg.limit = 6
    second = model()
    counts = bootstrap(cfg, model=second)
    assert counts["skipped_done"] == 3 and counts["kept"] == 3 and counts["pool"] == 6
    assert len(second.received) == 3  # only the new items were run
    ids = [json.loads(ln)["source"]["index"] for ln in out.read_text().splitlines()]
    assert ids == [2, 3, 4, 5, 6, 7]


@needs_sandbox
@pytest.mark.sandbox
def test_programs_are_kept_only_when_they_ran_and_returned_the_answer(tmp_path):
    ds, out = dataset(tmp_path, 4), tmp_path / "pool.jsonl"

    def fn(messages, params, index):
        q = messages[-1]["content"]
        i = int(q.split("Tom has ")[1].split()[0])
        if i == 1:
            return "```python\ndef solution():\n    return 1 / 0\n```"  # crashes: never verified
        return f"```python\ndef solution():\n    apples = {i}\n    return apples + 10\n```"

    counts = bootstrap(BootstrapConfig(dataset=ds, strategy="pal", model="x", out=out, skip="0-0",
                                       options={"rounds": 0}), model=ScriptedModel(fn=fn))
    assert counts["kept"] == 2 and counts["no_answer"] == 1
    pool = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert [p["format"] for p in pool] == ["program", "program"]
    assert pool[0]["solution"].startswith("def solution():") and pool[0]["answer"] == "12"


def test_few_shot_cot_selects_similar_exemplars_from_a_bootstrapped_pool(tmp_path):
    from reasonlab.api import run

    ds, out = dataset(tmp_path), tmp_path / "pool.jsonl"
    bootstrap(BootstrapConfig(dataset=ds, strategy="few-shot-cot", model="x", out=out, skip="0-1"), model=model())
    m = ScriptedModel(default="The answer is 3.")
    r = run("Ann has 2 apples and gets 10 more. How many apples now?", "few-shot-cot", m, cache=False,
            exemplars=str(out), selection="similar", shots=2)
    assert r.details["exemplars"]["selection"] == "similar" and len(r.details["exemplars"]["ids"]) == 2
    assert all(i.startswith("bootstrap:") for i in r.details["exemplars"]["ids"])
    assert "Tom has" in m.received[0][0]["content"]


def test_cli_bootstrap(tmp_path):
    from click.testing import CliRunner

    from reasonlab.cli import cli

    ds = dataset(tmp_path, 4)
    script = tmp_path / "m.json"
    script.write_text(json.dumps({"default": "The answer is 13."}))
    out = tmp_path / "pool.jsonl"
    res = CliRunner().invoke(cli, ["bootstrap", "-d", ds, "-s", "few-shot-cot", "-m", f"scripted:{script}",
                                   "--out", str(out), "--skip", "0-1"])
    assert res.exit_code == 0, res.output
    assert "kept=1" in res.output and "wrong=1" in res.output
    assert [json.loads(ln)["answer"] for ln in out.read_text().splitlines()] == ["13"]


def test_loading_an_exemplar_from_the_gsm8k_report_slice_is_refused(tmp_path):
    from reasonlab.exemplars import ExemplarError, load_file

    p = tmp_path / "pool.jsonl"
    line = {"question": "q", "solution": "s. The answer is 1.", "answer": "1",
            "source": {"dataset": "jsonl:/data/gsm8k/train.jsonl", "index": 150}}
    p.write_text(json.dumps(line) + "\n")
    with pytest.raises(ExemplarError, match="reserved report slice"):
        load_file(p)
    line["source"]["index"] = 200
    p.write_text(json.dumps(line) + "\n")
    assert load_file(p)[0].answer == "1"
