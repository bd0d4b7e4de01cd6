"""Planning datasets for the harness, their scores, and the planning report."""

import pytest

from reasonlab.api import run
from reasonlab.errors import InputError
from reasonlab.eval.datasets import load_dataset
from reasonlab.eval.plan_report import render
from reasonlab.models.scripted import ScriptedModel
from reasonlab.planning import blocksworld as bw


def test_blocksworld_and_mystery_hold_the_same_problems():
    plain = list(load_dataset("blocksworld:3:4").items())
    myst = list(load_dataset("mystery-blocksworld:3:4").items())
    rand = list(load_dataset("random-blocksworld:3:4:0").items())
    assert len(plain) == len(myst) == len(rand) == 4
    assert [i.meta["optimal_length"] for i in plain] == [i.meta["optimal_length"] for i in myst] \
        == [i.meta["optimal_length"] for i in rand]
    assert "the red block" in plain[0].question and "object a" in myst[0].question
    assert all(i.kind == "plan" for i in plain)
    # the parsed task rides on the problem: no PDDL strings to re-parse
    ds = load_dataset("blocksworld:3:4")
    p1, p2 = ds.problem(plain[0]), ds.problem(plain[0])
    assert p1.planning is p2.planning and p1.planning.task.strips.objects
    assert all(isinstance(v, (str, int, float, bool, type(None))) for v in p1.meta.values())
    assert load_dataset("blocksworld:3:4").primary == "valid_plan"


@pytest.mark.parametrize("spec", ["blocksworld:x", "blocksworld:", "mystery-blocksworld:4:a", "blocksworld:4:2:1:9",
                                  "blocksworld:1:2", "pddl:/no/such/dir"])
def test_bad_specs(spec):
    with pytest.raises(InputError):
        list(load_dataset(spec).items())


def _score(ds, item, strategy, replies, **opts):
    problem = ds.problem(item)
    result = run(problem, strategy, ScriptedModel(replies=replies, default="nothing"), cache=False, **opts)
    return ds.score(item, result)


def test_scores_for_modulo_autonomous_and_other_strategies():
    ds = load_dataset("blocksworld:3:2")
    item = next(iter(ds.items()))
    from reasonlab.planning.render import plan_lines
    from reasonlab.planning.task import planning_task

    vocab = planning_task(ds.problem(item)).vocab
    gold = [ln for ln in item.answer.splitlines()]
    gold_words = plan_lines([vocab.read_action(g) for g in gold], vocab)
    m = _score(ds, item, "plan-modulo", ["pick up the purple block", gold_words], rounds=3, plain=True)
    assert m["valid_plan"] == 1.0 and m["rounds_used"] == 2.0 and m["rounds_to_success"] == 2.0
    assert m["length_ratio"] == 1.0 and m["optimal_length"] == float(len(gold))
    m = _score(ds, item, "plan-autonomous", ["nonsense"])
    assert m["valid_plan"] == 0.0 and m["rounds_to_success"] is None and m["length_ratio"] is None
    # a non-planning strategy's answer is read and validated too
    m = _score(ds, item, "direct", [gold_words])
    assert m["valid_plan"] == 1.0 and m["rounds_used"] is None


def test_goal_reached_is_smoother_than_validity():
    ds = load_dataset("blocksworld:3:3")
    from reasonlab.planning.render import plan_lines
    from reasonlab.planning.task import planning_task

    for item in ds.items():
        vocab = planning_task(ds.problem(item)).vocab
        gold = [vocab.read_action(g) for g in item.answer.splitlines()]
        extra = [g for g in gold if g.name in ("pick-up", "unstack")][:1]  # an extra step that cannot follow
        m = _score(ds, item, "plan-autonomous", [plan_lines(gold + extra + extra, vocab)])
        assert m["valid_plan"] == 0.0 and m["goal_reached"] == 1.0 and 0 < m["executable_prefix"] < 1


def test_pddl_folder_with_example(tmp_path):
    (tmp_path / "domain.pddl").write_text(bw.DOMAIN)
    insts = bw.generate(3, 3, seed=4)
    for i, inst in enumerate(insts):
        (tmp_path / (f"example{i}.pddl" if i == 0 else f"p{i}.pddl")).write_text(inst.problem_pddl(f"p{i}"))
    ds = load_dataset(f"pddl:{tmp_path}")
    items = list(ds.items())
    assert [i.id for i in items] == ["p1", "p2"]
    assert items[0].meta["optimal_length"] >= 1
    example = ds.problem(items[0]).planning.example
    assert example is not None and example.plan and example.task.name == "example0"


def test_report_from_records():
    recs = []
    for strat, n_ok in (("plan-autonomous", 1), ("plan-modulo", 3)):
        for ds, bonus in (("blocksworld:4:4", 0), ("mystery-blocksworld:4:4", -1)):
            for i in range(4):
                ok = i < n_ok + bonus
                recs.append({"dataset": ds, "strategy": strat, "model": "m", "valid": float(ok),
                             "goal_reached": float(ok), "rounds_used": 1.0 if "auto" in strat else 5.0,
                             "rounds_to_success": (2.0 if ok else None) if "modulo" in strat else (1.0 if ok else None),
                             "tokens": 100, "seconds": 1.0, "length_ratio": 1.0 if ok else None})
    recs.append({"dataset": "blocksworld:4:4", "strategy": "planner", "model": "fast-downward", "valid": 1.0,
                 "tokens": 0, "seconds": 0.2})
    md = render(recs)
    assert "| blocksworld:4:4 | plan-modulo | m | 3/4 = 75%" in md
    assert "| 4:4 | plan-modulo | m | mystery | 75% | 50% | 25 points |" in md
    assert "round 2: 3" in md and "tokens per solved" in md
    assert "| blocksworld:4:4 | planner | fast-downward | 1/1 = 100%" in md


def test_harness_run_and_plan_report(tmp_path):
    import json

    from reasonlab.eval.harness import EvalConfig, Harness
    from reasonlab.eval.plan_report import records_from_store

    model = tmp_path / "m.json"
    model.write_text(json.dumps({"default": "pick up the red block\nstack the red block on top of the blue block"}))
    cfg = EvalConfig(datasets=["blocksworld:3:2", "mystery-blocksworld:3:2"],
                     strategies=["plan-autonomous", "plan-modulo"], models=[f"scripted:{model}"],
                     out=tmp_path / "run", options={"rounds": "2"}, smooth=False)
    h = Harness(cfg, progress=False)
    try:
        h.run()
    finally:
        h.close()
    recs = records_from_store(tmp_path / "run")
    # the harness may label a strategy with its options, e.g. "plan-modulo(rounds=2)"
    assert len(recs) == 8 and {r["strategy"].split("(")[0] for r in recs} == {"plan-autonomous", "plan-modulo"}
    assert all(r["rounds_used"] == (2.0 if "modulo" in r["strategy"] else 1.0) for r in recs if not r["valid"])
    md = render(recs)
    assert "## Autonomous vs LLM-Modulo vs guided search vs planner" in md and "mystery-blocksworld:3:2" in md
    assert "## Rounds to success (LLM-Modulo)" in md
