"""The paper's LLM-Modulo loop (`plain=true`) with scripted models: repair over rounds, budgets,
no-plan output, soundness (no invalid plan is ever reported valid, checked by two independent
validators), and the command line."""

import json
import random
import subprocess
import sys
import warnings

import pytest

from reasonlab.api import run
from reasonlab.models.scripted import ScriptedModel
from reasonlab.planning import blocksworld as bw
from reasonlab.planning.builtin import blocksworld_example
from reasonlab.planning.pddl import GroundAction
from reasonlab.planning.planner import solve
from reasonlab.planning.render import PLAN_END, plan_lines, vocabulary
from reasonlab.planning.task import make_problem


def _setup(n=4, seed=0):
    insts = bw.generate(n, 2, seed)
    task = insts[0].task("t")
    example = blocksworld_example(n, seed, {i.key for i in insts})
    return task, vocabulary(task), make_problem(task, example=example)


def test_wrong_twice_then_right():
    task, vocab, problem = _setup()
    gold = solve(task, "pyperplan").plan
    wrong1 = "1. pick up the red block\n2. stack the red block on top of the blue block"
    wrong2 = plan_lines(gold[:-1], vocab)  # every step fine, last one missing
    model = ScriptedModel(replies=[wrong1, wrong2, plan_lines(gold, vocab) + "\n" + PLAN_END])
    r = run(problem, "plan-modulo", model, cache=False, plain=True)
    d = r.details
    assert r.status == "ok" and d["valid"] and d["rounds_used"] == 3
    assert r.answer == "\n".join(a.pddl() for a in gold)
    assert [rd["valid"] for rd in d["rounds"]] == [False, False, True]
    # the critiques went back to the model, in words
    second, third = model.received[1], model.received[2]
    assert second[1] == {"role": "assistant", "content": wrong1}
    assert second[2]["content"].startswith("The plan is not valid. Step 1 (pick up the red block) cannot be performed")
    assert "after the last step this goal is not met" in third[2]["content"]
    assert third[2]["content"].rstrip().endswith("[PLAN]")
    assert len(second) == 3 and len(third) == 3  # history "last": prompt, last attempt, critique
    assert [c.label for c in r.calls] == ["plan-round-1", "plan-round-2", "plan-round-3"]


def test_full_history_keeps_every_round():
    task, vocab, problem = _setup()
    model = ScriptedModel(default="pick up the red block")
    r = run(problem, "plan-modulo", model, cache=False, rounds=3, history="full", plain=True)
    assert not r.details["valid"] and [len(m) for m in model.received] == [1, 3, 5]
    assert "same plan in round 1" in model.received[2][-1]["content"]


def test_budget_exhausted_reports_no_valid_plan():
    task, vocab, problem = _setup()
    r = run(problem, "plan-modulo", ScriptedModel(default="pick up the red block"), cache=False, rounds=4)
    assert r.status == "no_answer" and r.answer is None
    assert r.details["status"] == "no_valid_plan" and r.details["rounds_used"] == 4
    assert r.note == "no valid plan in 4 round(s)"


def test_output_with_no_plan_becomes_a_critique():
    task, vocab, problem = _setup()
    model = ScriptedModel(replies=["I do not know.", "stack the blue block somewhere\nmaybe"])
    r = run(problem, "plan-modulo", model, cache=False, rounds=2, plain=True)
    first, second = r.details["rounds"]
    assert first["verdict"] is None and first["critique"].startswith("I could not find a plan")
    assert second["verdict"] is None and "could not read these lines" in second["critique"]
    assert "line 1 'stack the blue block somewhere'" in second["critique"]
    assert r.answer is None


def test_autonomous_is_one_attempt():
    task, vocab, problem = _setup()
    gold = solve(task, "pyperplan").plan
    model = ScriptedModel(replies=["pick up the red block", plan_lines(gold, vocab)])
    r = run(problem, "plan-autonomous", model, cache=False)
    assert r.details["rounds_used"] == 1 and r.answer is None and len(model.received) == 1
    r2 = run(problem, "plan-autonomous", ScriptedModel(replies=[plan_lines(gold, vocab)]), cache=False)
    assert r2.answer is not None and r2.details["valid"]


def test_strategy_needs_a_planning_problem():
    from reasonlab.errors import InputError

    with pytest.raises(InputError, match="planning problem"):
        run("What is 2+2?", "plan-modulo", ScriptedModel(default="4"), cache=False)


# -- soundness -----------------------------------------------------------------------------

def _up_valid(task, plan):
    """Second, independent validator: unified-planning's own PlanValidator."""
    from unified_planning.engines import ValidationResultStatus
    from unified_planning.plans import ActionInstance, SequentialPlan
    from unified_planning.shortcuts import PlanValidator, get_environment

    get_environment().credits_stream = None
    prob = task.up_problem
    up_plan = SequentialPlan([ActionInstance(prob.action(a.name), [prob.object(o) for o in a.args]) for a in plan])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with PlanValidator(problem_kind=prob.kind) as v:
            return v.validate(prob, up_plan).status == ValidationResultStatus.VALID


def _bw_valid(inst, plan):
    """Third check: Blocksworld semantics written out by hand."""
    on = {b: None for t in inst.init for b in t}
    for t in inst.init:
        for lower, upper in zip(t, t[1:], strict=False):
            on[upper] = lower
    held = None

    def clear(x):
        return held != x and all(v != x for v in on.values() if v is not None) and x in on

    for a in plan:
        x = a.args[0]
        if a.name == "pick-up":
            if held or x not in on or on[x] is not None or not clear(x):
                return False
            held = x
            del on[x]
        elif a.name == "unstack":
            if held or x not in on or on[x] != a.args[1] or not clear(x):
                return False
            held = x
            del on[x]
        elif a.name == "put-down":
            if held != x:
                return False
            on[x], held = None, None
        elif a.name == "stack":
            y = a.args[1]
            if held != x or y not in on or not clear(y):
                return False
            on[x], held = y, None
    return held is None and all(on.get(u) == lower for u, lower in inst.goal)


def test_soundness_no_invalid_plan_reported_valid():
    rng = random.Random(7)
    insts = bw.generate(3, 6, seed=2)
    reported = 0
    for k, inst in enumerate(insts):
        task = inst.task(f"s{k}")
        vocab = vocabulary(task)
        gold = solve(task, "pyperplan").plan
        names = bw.block_names(3)

        def random_plan(_messages, _params, _index, gold=gold, vocab=vocab, names=names):
            if rng.random() < 0.15:
                return plan_lines(gold, vocab)  # sometimes right, so "valid" does get reported
            plan = list(gold)
            for _ in range(rng.randint(1, 3)):  # mutate: drop, swap, or insert a random action
                op = rng.choice(["drop", "swap", "insert"])
                if op == "drop" and plan:
                    plan.pop(rng.randrange(len(plan)))
                elif op == "swap" and len(plan) > 1:
                    i = rng.randrange(len(plan) - 1)
                    plan[i], plan[i + 1] = plan[i + 1], plan[i]
                else:
                    name = rng.choice(["pick-up", "put-down", "stack", "unstack"])
                    args = tuple(rng.sample(names, 2 if name in ("stack", "unstack") else 1))
                    plan.insert(rng.randrange(len(plan) + 1), GroundAction(name, args))
            return plan_lines(plan, vocab)

        problem = make_problem(task)
        r = run(problem, "plan-modulo", ScriptedModel(fn=random_plan), cache=False, rounds=6, plain=True)
        for rd in r.details["rounds"]:
            attempt = [GroundAction(s.strip("()").split()[0], tuple(s.strip("()").split()[1:]))
                       for s in rd["parsed"]["actions"]]
            assert rd["valid"] == _up_valid(task, attempt) == _bw_valid(inst, attempt), rd
        if r.answer is not None:
            reported += 1
            plan = [GroundAction(s.strip("()").split()[0], tuple(s.strip("()").split()[1:]))
                    for s in r.answer.splitlines()]
            assert _up_valid(task, plan) and _bw_valid(inst, plan)
    assert reported >= 1  # the check above did run on reported plans


# -- command line --------------------------------------------------------------------------

def rl(*args):
    return subprocess.run([sys.executable, "-m", "reasonlab", "plan", *args], capture_output=True, text=True,
                          timeout=180)


def test_cli_planner_mode_json():
    p = rl("--blocksworld", "4", "--seed", "3", "--mode", "planner", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["status"] == "solved" and d["optimal"] and len(d["plan"]) == d["length"] == len(d["plan_words"])


def test_cli_modulo_with_scripted_model(tmp_path):
    insts = bw.generate(3, 1, seed=0)
    task = insts[0].task("bw-3-s0-0")
    gold = plan_lines(solve(task, "pyperplan").plan, vocabulary(task))
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"replies": ["pick up the red block", gold]}))
    p = rl("--blocksworld", "3", "--seed", "0", "--rounds", "3", "--plain", "--model", f"scripted:{f}", "--no-cache")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("# valid plan") and "found in round 2" in p.stdout
    assert "round 1: The plan is not valid" in p.stderr


def test_cli_bad_input(tmp_path):
    d = tmp_path / "d.pddl"
    d.write_text("(define (domain x)\n  (:predicates (p)\n")
    p = rl("--domain", str(d), "--problem", str(d), "--mode", "planner")
    assert p.returncode == 2 and p.stderr.startswith(f"reasonlab: error: {d}:") and "Traceback" not in p.stderr
    p = rl("--mode", "planner")
    assert p.returncode == 2 and "--blocksworld" in p.stderr


def test_cli_unsolvable_and_plan_validation(tmp_path):
    d, prob, plan = tmp_path / "domain.pddl", tmp_path / "p.pddl", tmp_path / "x.plan"
    d.write_text(bw.DOMAIN)
    prob.write_text("""(define (problem loop) (:domain blocksworld) (:objects a b)
      (:init (handempty) (ontable a) (ontable b) (clear a) (clear b)) (:goal (and (on a b) (on b a))))""")
    p = rl("--domain", str(d), "--problem", str(prob), "--mode", "planner")
    assert p.returncode == 1 and "no plan" in p.stdout
    plan.write_text("1. pick up the red block\n2. stack the red block on top of the blue block\n")
    p = rl("--domain", str(d), "--problem", str(prob), "--plan", str(plan))
    assert p.returncode == 1 and "this goal is not met: the blue block is on top of the red block" in p.stdout


def test_cli_guided_json_for_a_pddl_pair(tmp_path):
    """`reasonlab plan --domain D --problem P --mode guided --json` prints `plan` and `valid`."""
    d, prob = tmp_path / "domain.pddl", tmp_path / "p.pddl"
    d.write_text(bw.DOMAIN)
    inst = bw.generate(3, 1, seed=5)[0]
    prob.write_text(inst.problem_pddl("p"))
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"default": "no idea"}))  # never one of the options: the search still runs
    p = rl("--domain", str(d), "--problem", str(prob), "--mode", "guided", "--model", f"scripted:{f}",
           "--no-cache", "--json", "--budget", "60")
    out = json.loads(p.stdout)
    assert set(out) >= {"plan", "valid"} and out["mode"] == "guided"
    assert (p.returncode == 0) == out["valid"] and (out["plan"] is not None) == out["valid"]
    if out["valid"]:
        from reasonlab.planning.pddl import Task

        task = Task.from_files(d, prob)
        assert _up_valid(task, [GroundAction.read(a) for a in out["plan"]])
    p = rl("--domain", str(d), "--problem", str(prob), "--mode", "modulo", "--model", f"scripted:{f}",
           "--no-cache", "--json", "--rounds", "1")
    out = json.loads(p.stdout)
    assert p.returncode == 1 and out["valid"] is False and out["plan"] is None and out["mode"] == "modulo"
