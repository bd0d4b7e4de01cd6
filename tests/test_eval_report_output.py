"""What `reasonlab eval` and `reasonlab report` give a person: the results table in the terminal, a
report.md that records its command and versions, explains every metric and keeps its header
consistent with its tables, and reports that always render (0 % and 100 % accuracy included)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reasonlab.eval.intervals import wilson


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "REASONLAB_CACHE": str(tmp_path / "cache.sqlite"), "MPLBACKEND": "Agg",
            "OMP_WAIT_POLICY": "PASSIVE"}


def _reasonlab(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reasonlab", *args], capture_output=True, text=True,
                          env=_env(tmp_path), timeout=300)


def _dataset(tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"four-{n}.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{i}", "question": f"What is 2 + 2? (#{i})", "answer": "4"}) + "\n"
                            for i in range(n)), encoding="utf-8")
    return path


def _model(tmp_path: Path, reply: str) -> str:
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"default": reply}), encoding="utf-8")
    return f"scripted:{path}"


@pytest.mark.parametrize("n", [3, 6, 7, 10, 12, 13, 25])
def test_wilson_interval_is_exact_at_zero_and_full(n):
    assert wilson(0, n)[0] == 0.0 and wilson(n, n)[1] == 1.0
    for k in range(n + 1):
        lo, hi = wilson(k, n)
        assert 0.0 <= lo <= k / n <= hi <= 1.0


@pytest.mark.parametrize("n", [3, 10, 13])
@pytest.mark.parametrize("reply,accuracy", [("The answer is 4.", "100.0"), ("The answer is 5.", "0.0")])
def test_eval_at_zero_and_full_accuracy_renders_everything(tmp_path, n, reply, accuracy):
    out = tmp_path / "run"
    p = _reasonlab(tmp_path, "eval", "-d", f"jsonl:{_dataset(tmp_path, n)}", "-s", "direct,zero-shot-cot",
                   "-m", _model(tmp_path, reply), "--out", str(out), "--no-progress")
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr and "warning" not in p.stderr.lower(), p.stderr
    assert (out / "report.md").is_file() and (out / "results.csv").is_file()
    assert list(out.glob("*.png")), "the accuracy-vs-cost plot"
    # the terminal table: one row per strategy, accuracy with its interval, within [0, 100]
    rows = [line for line in p.stdout.splitlines() if re.match(r"\s+(direct|zero-shot-cot)\s", line)]
    assert len(rows) == 2, p.stdout
    for line in rows:
        acc, lo, hi = re.search(r"(\d+\.\d) \[(\d+\.\d), (\d+\.\d)\]", line).groups()
        assert acc == accuracy and 0.0 <= float(lo) <= float(acc) <= float(hi) <= 100.0
    direct, cot = rows if rows[0].lstrip().startswith("direct") else rows[::-1]
    assert direct.rstrip().endswith("–") and "+0.0 [+0.0, +0.0]" in cot  # gain over direct, paired


def test_a_failing_plot_is_a_warning_and_the_report_is_still_written(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from reasonlab.cli import cli
    from reasonlab.eval import plots

    def broken(*_args, **_kw):
        raise ValueError("'yerr' must not contain negative values")

    monkeypatch.setattr(plots, "accuracy_vs_cost", broken)
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "cache.sqlite"))
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["eval", "-d", f"jsonl:{_dataset(tmp_path, 3)}", "-s", "direct", "-m",
                                      _model(tmp_path, "The answer is 4."), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "warning: plot 'accuracy vs tokens'" in result.stderr and "negative" in result.stderr
    assert (out / "report.md").is_file() and (out / "results.csv").is_file()
    assert "100.0 [" in result.stdout


def test_report_records_its_command_versions_and_explains_every_metric(tmp_path):
    out = tmp_path / "run"
    data = _dataset(tmp_path, 4)
    model = _model(tmp_path, "The answer is 4.")
    first = _reasonlab(tmp_path, "eval", "-d", f"jsonl:{data}", "-s", "direct,zero-shot-cot", "-m", model,
                       "--out", str(out), "--no-progress")
    assert first.returncode == 0, first.stderr
    again = _reasonlab(tmp_path, "eval", "-d", f"jsonl:{data}", "-s", "direct", "-m", model, "--out", str(out),
                       "--no-progress")  # a second command into the same folder, fewer strategies
    assert again.returncode == 0, again.stderr
    report = (out / "report.md").read_text(encoding="utf-8")
    # both commands, exactly as typed, and the versions
    assert "reasonlab eval -d jsonl:" in report and "-s direct,zero-shot-cot" in report and "-s direct -m" in report
    assert re.search(r"reasonlab \d+\.\d+", report) and "python" in report.lower()
    # the header names what the tables hold: both strategies (the table lists both), no empty settings
    header = report.split("\n## ", 1)[0]
    assert "direct" in header and "zero-shot-cot" in header
    assert "[None]" not in report and "None" not in header
    settings = set(re.findall(r"### Setting `([^`]+)`", report))
    for fmt in ("closed", "closed-adversarial"):
        if f"formats: {fmt}" in header:
            assert any(fmt in s for s in settings)
    # every metric in a table is explained in one line
    glossary = report.split("## What the numbers mean", 1)[1]
    for metric in re.findall(r"\| strategy \| model \| (.+) \|", report)[-1].split(" | "):
        assert f"**{metric}**" in glossary, metric
    # `report` prints the same table and re-renders
    p = _reasonlab(tmp_path, "report", str(out), "--no-plots")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^\s+zero-shot-cot\s", p.stdout, re.M) and "gain over direct" in p.stdout
    assert "report.md" in p.stdout


def test_no_size_plot_for_a_single_model(tmp_path):
    out = tmp_path / "run"
    p = _reasonlab(tmp_path, "eval", "-d", f"jsonl:{_dataset(tmp_path, 3)}", "-s", "direct",
                   "-m", _model(tmp_path, "The answer is 4."), "--out", str(out), "--no-progress")
    assert p.returncode == 0, p.stderr
    pngs = sorted(x.name for x in out.glob("*.png"))
    assert pngs and not any("size" in name for name in pngs), pngs


def test_top_level_help_does_not_cut_descriptions():
    from click.testing import CliRunner

    from reasonlab.cli import cli, summary

    result = CliRunner().invoke(cli, ["--help"], terminal_width=100)
    assert result.exit_code == 0
    flat = "".join(result.output.split())  # wrapped lines joined (a wrap may fall after a hyphen)
    assert "..." not in result.output.split("Commands:", 1)[1]
    for name in ("eval", "show", "serve", "plan-report"):
        text = summary(cli.commands[name])
        assert "".join(text.split()) in flat, name


def test_api_exports_its_errors_and_counts_cached_tokens(tmp_path):
    import reasonlab
    from reasonlab.cache import Cache
    from reasonlab.models.scripted import ScriptedModel

    for name in ("ReasonlabError", "InputError", "StrategyError", "ModelError", "BudgetExceeded", "Cancelled"):
        assert isinstance(getattr(reasonlab, name), type), name
    assert issubclass(reasonlab.StrategyError, reasonlab.InputError)
    assert issubclass(reasonlab.InputError, reasonlab.ReasonlabError)
    with pytest.raises(reasonlab.InputError):
        reasonlab.run("   ", "direct", ScriptedModel(default="4"))
    cache = Cache(tmp_path / "c.sqlite")
    model = ScriptedModel(default="The answer is 4.")
    first = reasonlab.run("2 + 2?", "direct", model, cache=cache)
    again = reasonlab.run("2 + 2?", "direct", model, cache=cache)
    assert first.usage.total_tokens > 0 and first.usage.cached_tokens == 0
    assert again.calls[0].cached and again.usage.calls == 0 and again.usage.cached_calls == 1
    assert again.usage.cached_tokens == first.usage.total_tokens  # reported as cached, not as zero work
    assert again.usage.to_dict()["cached_tokens"] == first.usage.total_tokens


def test_chat_shows_the_vote_of_sampling_strategies():
    from reasonlab.cli.chat import vote_lines

    lines = vote_lines({"votes": {"11": 1, "12": 3}, "winner": "12"})
    assert lines[0].strip() == "vote:" and "12" in lines[1] and "← winner" in lines[1] and "3" in lines[1]
    assert lines[1].count("█") == 15 and lines[2].count("█") == 5
    weighted = vote_lines({"votes": {"12": 2}, "weights": {"12": 1.57}, "winner": "12"})
    assert "weight 1.57" in weighted[1]
    assert vote_lines({"extraction_output": "4"}) == []
