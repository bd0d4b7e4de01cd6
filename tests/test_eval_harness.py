"""The harness with scripted models: scoring, aggregation, errors and retries, options, reports."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from reasonlab.cli import cli
from reasonlab.errors import InputError
from reasonlab.eval.harness import EvalConfig, Harness, setting_name
from reasonlab.eval.report import load, write_report
from reasonlab.eval.store import Store
from reasonlab.models.base import ModelError, ModelInfo
from reasonlab.models.scripted import ScriptedModel
from reasonlab.problem import Prediction
from reasonlab.strategies import REGISTRY, Strategy

QUESTIONS = [
    {"id": "a", "question": "What is 2 + 3?", "answer": "5"},
    {"id": "b", "question": "What is 10 - 4?", "answer": "6"},
    {"id": "c", "question": "What is 7 * 3?", "answer": "21"},
    {"id": "d", "question": "What is 9 + 9? boom", "answer": "18"},
]


def _data(tmp_path: Path) -> Path:
    p = tmp_path / "arith.jsonl"
    p.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n", encoding="utf-8")
    return p


def solver(wrong: set[str] = frozenset(), boom: bool = False):
    """A scripted `fn`: computes 'a op b' from the question; answers wrong for listed values."""

    def fn(messages, params, index):
        text = next(m["content"] for m in messages if m["role"] == "user")
        if boom and "boom" in text:
            raise ModelError("server exploded")
        m = re.search(r"(\d+) ([-+*]) (\d+)", text)
        a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
        value = {"+": a + b, "-": a - b, "*": a * b}[op]
        if str(value) in wrong:
            value += 1
        return f"The answer is {value}."

    return fn


def _cfg(tmp_path, **kw) -> EvalConfig:
    base = dict(datasets=[f"jsonl:{_data(tmp_path)}"], strategies=["direct", "zero-shot-cot"],
                models=["fake"], out=tmp_path / "out", smooth=False)
    base.update(kw)
    return EvalConfig(**base)


def _run(cfg, model) -> Harness:
    h = Harness(cfg, progress=False, model_factory=lambda spec: model)
    h.run()
    h.close()
    return h


def _rows(folder):
    s = Store(folder)
    try:
        return list(s.rows())
    finally:
        s.close()


def test_scores_every_task_and_writes_report(tmp_path):
    model = ScriptedModel(fn=solver(wrong={"21"}))
    cfg = _cfg(tmp_path, runs=2, concurrency=3)
    _run(cfg, model)
    rows = _rows(cfg.out)
    assert len(rows) == 4 * 2 * 2  # items × strategies × runs
    by = {(r.key.strategy, r.key.run, r.key.item_id): r for r in rows}
    assert by[("direct", 0, "a")].metrics["flexible"] == 1.0
    assert by[("direct", 1, "c")].metrics["flexible"] == 0.0  # answered 22
    assert by[("zero-shot-cot", 0, "b")].metrics["strict"] == 1.0
    assert {r.seed for r in rows if r.key.run == 1} == {1}
    assert all(r.calls == (1 if r.key.strategy == "direct" else 2) for r in rows)
    assert all(r.prompt_tokens > 0 and r.completion_tokens > 0 for r in rows)

    report = write_report(cfg.out, plots=False).read_text()
    assert "| direct | fake | 75.0 [" in report and "(n=" not in report.split("###")[0]
    assert "| zero-shot-cot | fake | 75.0 [" in report and "+0.0 [" in report
    with (cfg.out / "results.csv").open() as f:
        table = list(csv.DictReader(f))
    assert len(table) == 16 and {"strict", "flexible", "token_edit_distance", "prompt_tokens"} <= set(table[0])


def test_errors_are_recorded_never_correct_and_retried(tmp_path):
    cfg = _cfg(tmp_path, strategies=["direct"])
    _run(cfg, ScriptedModel(fn=solver(boom=True)))
    rows = {r.key.item_id: r for r in _rows(cfg.out)}
    assert rows["d"].status == "error" and "server exploded" in rows["d"].error
    assert rows["d"].metrics == {}
    data = load(Store(cfg.out))
    cell = next(iter(data.cells.values()))
    assert cell.errors == 1 and cell.summary("flexible", "flexible").mean == pytest.approx(0.75)
    report = write_report(cfg.out, plots=False).read_text()
    assert "**1 errored**" in report and "server exploded" in report

    fixed = ScriptedModel(fn=solver())
    _run(cfg, fixed)
    assert len(fixed.received) == 1 and "boom" in fixed.received[0][0]["content"]  # only the errored item
    rows = {r.key.item_id: r for r in _rows(cfg.out)}
    assert rows["d"].status == "ok" and rows["d"].attempts == 2 and rows["d"].metrics["flexible"] == 1.0
    again = ScriptedModel(fn=solver())
    _run(cfg, again)
    assert again.received == []  # everything finished: nothing redone


def test_a_new_seed_redoes_the_runs(tmp_path):
    cfg = _cfg(tmp_path, strategies=["direct"])
    _run(cfg, ScriptedModel(fn=solver()))
    m = ScriptedModel(fn=solver())
    cfg.seed = 7
    _run(cfg, m)
    assert len(m.received) == 4 and {r.seed for r in _rows(cfg.out)} == {7}


def test_timeout_is_an_error(tmp_path):
    cfg = _cfg(tmp_path, strategies=["zero-shot-cot"], limit=1, timeout=0.05)
    _run(cfg, ScriptedModel(fn=solver(), delay_s=1.0))
    (row,) = _rows(cfg.out)
    assert row.status == "error" and "timeout" in row.error


def test_shots_temperature_and_options(tmp_path):
    cfg = _cfg(tmp_path, strategies=["direct", "few-shot-cot", "self-consistency"], shots=[0, 2],
               options={"self-consistency.samples": "3"})
    h = Harness(cfg, progress=False, model_factory=lambda s: ScriptedModel(fn=solver()))
    tasks = h.prepare()
    h.close()
    strat = {(t.key.strategy, t.key.setting): t.strategy for t in tasks}
    fs = strat[("few-shot-cot", setting_name("open", 2, None))]
    assert fs.options.shots == 2 and fs.options.temperature == 0.01
    assert strat[("few-shot-cot", setting_name("open", 0, None))].options.shots == 0
    d = strat[("direct", setting_name("open", 2, None))]
    assert not hasattr(d.options, "shots") and d.options.temperature == 0.01
    sc = strat[("self-consistency", setting_name("open", 2, None))]
    assert sc.options.temperature == 0.7 and sc.options.samples == 3  # sampling keeps its temperature
    cfg2 = _cfg(tmp_path, strategies=["direct", "self-consistency"], temperature=0.3, out=tmp_path / "out2")
    h = Harness(cfg2, progress=False, model_factory=lambda s: ScriptedModel(fn=solver()))
    assert {t.strategy.options.temperature for t in h.prepare()} == {0.3}
    h.close()
    with pytest.raises(InputError, match="no chosen strategy has an option 'bogus'"):
        h = Harness(_cfg(tmp_path, options={"bogus": "1"}, out=tmp_path / "out3"), progress=False,
                    model_factory=lambda s: ScriptedModel(fn=solver()))
        h.prepare()


MC = [{"id": "f", "question": "Which is a fish?", "choices": ["cat", "salmon", "owl"], "answer": "salmon"}]


def test_multiple_choice_formats_and_smooth_metrics(tmp_path):
    p = tmp_path / "mc.jsonl"
    p.write_text(json.dumps(MC[0]) + "\n", encoding="utf-8")

    def fn(messages, params, index):
        text = messages[-1]["content"]
        return "The answer is (B)." if "(B)" in text else "The answer is salmon."

    def lp(messages, continuation):
        return {"salmon": [-0.5, -0.5], "B": [-0.2]}.get(continuation, [-3.0])

    model = ScriptedModel(fn=fn, logprobs=lp)
    cfg = EvalConfig(datasets=[f"jsonl:{p}"], strategies=["direct"], models=["fake"], out=tmp_path / "o",
                     prompt_formats=["closed", "closed-adversarial", "open"], shots=[0])
    _run(cfg, model)
    rows = {r.key.setting.split(",")[0]: r for r in _rows(cfg.out)}
    assert rows["closed"].metrics["flexible"] == 1.0 and rows["closed"].gold == "salmon"
    assert rows["closed-adversarial"].metrics["flexible"] == 1.0 and rows["closed-adversarial"].gold == "B"
    assert rows["closed"].metrics["gold_logprob"] == pytest.approx(-0.5)
    # options salmon -1.0 total vs cat/owl -3.0 each: p = e^-1 / (e^-1 + 2 e^-3)
    import math
    p_gold = math.exp(-1) / (math.exp(-1) + 2 * math.exp(-3))
    assert rows["closed"].metrics["brier"] == pytest.approx((1 - p_gold) ** 2 + 2 * ((1 - p_gold) / 2) ** 2)
    assert rows["closed"].metrics["mc_grade"] == 1.0
    assert rows["closed-adversarial"].metrics["gold_logprob"] == pytest.approx(-0.2)
    report = write_report(cfg.out, plots=False).read_text()
    assert "Emergence settings side by side" in report and "`closed-adversarial, 0-shot`" in report


class SizedModel(ScriptedModel):
    def __init__(self, n_params: int, **kw):
        super().__init__(**kw)
        self.n_params = n_params

    def info(self) -> ModelInfo:
        return ModelInfo(spec=self.spec, backend="scripted", n_params=self.n_params, supports_logprobs=True)


def test_plots_are_written(tmp_path):
    models = {"small": SizedModel(10**8, fn=solver(wrong={"5", "6"}), logprobs=lambda m, c: [-2.0]),
              "big": SizedModel(10**9, fn=solver(), logprobs=lambda m, c: [-0.5])}
    cfg = _cfg(tmp_path, models=["small", "big"], smooth=True)
    h = Harness(cfg, progress=False, model_factory=lambda spec: models[spec])
    h.run()
    h.close()
    report = write_report(cfg.out).read_text()
    pngs = sorted(p.name for p in cfg.out.glob("*.png"))
    assert len(pngs) == 2 and any("accuracy_vs_tokens" in n for n in pngs) and any("metric_vs_size" in n for n in pngs)
    for n in pngs:
        assert (cfg.out / n).read_bytes()[:4] == b"\x89PNG" and f"]({n})" in report
    assert "| big | scripted | 1B |" in report


def test_cli_eval_and_report(tmp_path, monkeypatch):
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "cache.sqlite"))
    model = tmp_path / "m.json"
    model.write_text(json.dumps({"default": "The answer is 5."}), encoding="utf-8")
    out = tmp_path / "run"
    args = ["eval", "-d", f"jsonl:{_data(tmp_path)}", "-s", "direct", "-m", f"scripted:{model}",
            "--out", str(out), "--no-progress", "--no-plots"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert "4 tasks run now (0 errored)" in r.output
    assert (out / "report.md").is_file() and (out / "results.csv").is_file()
    r = CliRunner().invoke(cli, args)
    assert "0 tasks run now" in r.output
    (out / "report.md").unlink()
    r = CliRunner().invoke(cli, ["report", str(out), "--no-plots"])
    assert r.exit_code == 0 and (out / "report.md").is_file()
    r = CliRunner().invoke(cli, ["report", str(tmp_path / "nothing")])
    assert r.exit_code != 0 and "no results.sqlite" in str(r.exception)


def test_exemplars_drawn_from_the_dataset(tmp_path):
    model = ScriptedModel(fn=lambda m, p, i: "The answer is 1.")
    cfg = EvalConfig(datasets=["procedural:two-step-arithmetic?n=50"], strategies=["few-shot-cot", "direct"],
                     models=["fake"], out=tmp_path / "o", limit=3, shots=[2], exemplars="dataset", smooth=False)
    _run(cfg, model)
    lines = (cfg.out / "exemplars" / "procedural-two-step-arithmetic-n-50-open.jsonl").read_text().splitlines()
    records = [json.loads(x) for x in lines]
    assert len(records) == 8 and all(r["solution"].endswith(f"The answer is {r['answer']}.") for r in records)
    fewshot = [m for m in model.received if len(m) > 1]
    assert len(fewshot) == 3  # the few-shot prompts; direct sends one message
    for msgs in fewshot:
        assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant", "user"]
        assert msgs[0]["content"] == records[0]["question"] and msgs[1]["content"].startswith("First, ")
    evaluated = {r.question for r in _rows(cfg.out)}
    assert not evaluated & {r["question"] for r in records}
    assert {r.key.setting for r in _rows(cfg.out)} == {"open, 2-shot, exemplars=dataset"}


def test_exemplars_need_items_left_over(tmp_path):
    cfg = _cfg(tmp_path, strategies=["few-shot-cot"], shots=[2], exemplars="dataset")
    h = Harness(cfg, progress=False, model_factory=lambda s: ScriptedModel(fn=solver()))
    with pytest.raises(InputError, match="items are left for exemplars"):
        h.prepare()
    h.close()


def test_other_options_in_the_same_folder_are_refused(tmp_path):
    cfg = _cfg(tmp_path, strategies=["direct"], options={"max_tokens": "16"})
    _run(cfg, ScriptedModel(fn=solver()))
    cfg.options = {"max_tokens": "32"}
    with pytest.raises(InputError, match="holds results of 'direct' with options"):
        _run(cfg, ScriptedModel(fn=solver()))
    cfg.options = {"max_tokens": "16"}
    _run(cfg, ScriptedModel(fn=solver()))  # the same options: resumes
    assert "Strategy options: direct: max_tokens=16" in write_report(cfg.out, plots=False).read_text()


class _OwnPrompt(Strategy):
    """A test strategy that answers right after a prompt of its own (unlike `direct`'s)."""

    name = "own-prompt-test"
    description = "test only"

    def prompt(self, problem):
        return [{"role": "user", "content": f"OWN PROMPT {problem.text}"}]

    def solve(self, ctx, problem):
        text = ctx.complete(self.prompt(problem), max_tokens=8)
        return Prediction(answer=text.rsplit(" ", 1)[-1].rstrip("."), strict=None, reasoning=text)


def test_smooth_metrics_per_strategy_prompt_or_once_per_model(tmp_path):
    """Issue 13 item 6: each strategy's own prompt, else one model-level figure — never repeated per row."""
    def lp(messages, continuation):
        return [-0.25] if messages[-1]["content"].startswith("OWN PROMPT") else [-1.5]

    REGISTRY[_OwnPrompt.name] = _OwnPrompt
    try:
        model = ScriptedModel(fn=solver(), logprobs=lp)
        cfg = _cfg(tmp_path, strategies=["direct", "zero-shot-cot", "own-prompt-test"], smooth=True, runs=2)
        _run(cfg, model)
    finally:
        REGISTRY.pop(_OwnPrompt.name)
    rows = _rows(cfg.out)
    by = {s: [r for r in rows if r.key.strategy == s] for s in cfg.strategies}
    assert all(r.metrics["gold_logprob"] == pytest.approx(-1.5) for r in by["direct"])  # direct's own prompt
    assert all(r.metrics["gold_logprob"] == pytest.approx(-0.25) for r in by["own-prompt-test"])
    assert all("gold_logprob" not in r.metrics for r in by["zero-shot-cot"])  # no prompt of its own
    # the model-level figure: scored once per item (not per run, not per strategy) under direct's prompt
    s = Store(cfg.out)
    try:
        level = s.model_metrics()
    finally:
        s.close()
    assert sorted(k.item_id for k in level) == ["a", "b", "c", "d"]
    assert all(m == {"gold_logprob": pytest.approx(-1.5)} for m in level.values())
    report = write_report(cfg.out, plots=False).read_text()
    assert "Model-level smooth metrics" in report
    table = report[report.index("All metrics"):report.index("Model-level")]
    zs_line = next(line for line in table.splitlines() if line.startswith("| zero-shot-cot"))
    assert "-1.5" not in zs_line  # not repeated on a strategy's row
    # a resumed run does not score the model-level figures again
    model2 = ScriptedModel(fn=solver(), logprobs=lambda m, c: pytest.fail("scored again"))
    h = Harness(_cfg(tmp_path, strategies=["zero-shot-cot"], smooth=True, runs=2), progress=False,
                model_factory=lambda spec: model2)
    assert h.run().done == 0
    h.close()


@pytest.mark.parametrize("options, match", [
    ({"temperature": "nan"}, "finite"),
    ({"temperature": "inf"}, "finite"),
    ({"max_tokens": "-3"}, "greater than or equal to 1"),
    ({"max_tokens": "ten"}, "valid integer"),
    ({"direct.max_tokens": "0"}, "greater than or equal to 1"),
    ({"nobody.max_tokens": "5"}, "not chosen"),
])
def test_bad_option_values_fail_before_any_model_loads(tmp_path, options, match):
    def factory(spec):
        raise AssertionError("a model was loaded")

    with pytest.raises(InputError, match=match):
        Harness(_cfg(tmp_path, strategies=["direct"], options=options), progress=False, model_factory=factory)
    assert not (tmp_path / "out").exists()  # refused before the results folder is made


def test_harness_modules_stay_small_and_acyclic():
    import ast

    folder = Path(__file__).parent.parent / "src" / "reasonlab" / "eval"
    for path in folder.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path.name
    plots = ast.parse((folder / "plots.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(plots) if isinstance(n, ast.ImportFrom)}
    assert "report" not in imported  # report → plots only: no cycle
    harness = (folder / "harness.py").read_text(encoding="utf-8")
    assert "cue(" not in harness and "render()" not in harness  # prompts come from the strategies
