"""The verifier-guided search and its random control, with scripted models: the model picks among
applicable actions, repeated states and dead ends backtrack, the budget holds, and only a plan
the validator accepted is returned."""

import re

from test_planning_modulo import _up_valid

from reasonlab.api import run
from reasonlab.models.scripted import ScriptedModel
from reasonlab.planning import blocksworld as bw
from reasonlab.planning.builtin import blocksworld_example
from reasonlab.planning.guided import GuidedOptions, guided_search
from reasonlab.planning.mystery import obfuscate
from reasonlab.planning.pddl import GroundAction
from reasonlab.planning.planner import solve
from reasonlab.planning.simulate import initial_state, step
from reasonlab.planning.task import make_problem


def _setup(n=4, seed=0, mystery=False):
    insts = bw.generate(n, 2, seed)
    task = insts[0].task("t")
    if mystery:
        task = obfuscate(task)[0]
    example = blocksworld_example(n, seed, {i.key for i in insts}, "mystery" if mystery else "plain")
    problem = make_problem(task, example=example)
    return problem.planning, problem, solve(task, "pyperplan").plan


def _options(prompt: str) -> list[str]:
    block = prompt.split("The actions I can perform now are:\n", 1)[1].split("\n\n", 1)[0]
    return [ln[2:] for ln in block.splitlines()]


def test_an_oracle_model_solves_in_the_optimal_number_of_moves():
    for mystery in (False, True):
        planning, problem, gold = _setup(mystery=mystery)
        vocab = planning.vocab

        def oracle(messages, _params, _i, vocab=vocab, gold=gold):
            prompt = messages[-1]["content"]
            done = prompt.split("[PLAN]")[-1].split("After these steps")[0].strip().splitlines()
            done = [] if done == ["(no steps yet)"] else done
            want = vocab.action(gold[len(done)])
            assert want in _options(prompt)  # the simulator offers the next optimal step
            return want

        model = ScriptedModel(fn=oracle)
        events = []
        r = run(problem, "plan-guided", model, cache=False, listeners=[lambda e, p, ev=events: ev.append((e, p))])
        d = r.details
        assert r.answer == "\n".join(a.pddl() for a in gold) and d["valid"] and d["mode"] == "guided"
        assert d["moves"] == len(gold) and d["backtracks"] == 0
        forced = sum(1 for s in d["steps"] if s["kind"] == "forced")
        assert len(r.calls) == len(gold) - forced  # forced moves need no model call
        assert all("root ::=" in c.params["grammar"] for c in r.calls)
        steps = [p for e, p in events if e == "plan_step"]
        assert steps == d["steps"] and steps[-1]["kind"] == "goal" and "valid" in steps[-1]["critique"]


def test_every_offered_action_is_applicable_and_leads_to_a_new_state():
    planning, problem, _ = _setup()
    view = planning.task.strips
    seen_prompts = []

    def first_option(messages, _params, _i):
        seen_prompts.append(messages[-1]["content"])
        return _options(messages[-1]["content"])[0]

    r = run(problem, "plan-guided", ScriptedModel(fn=first_option), cache=False, budget=25)
    d = r.details
    assert d["moves"] <= 25
    # replay the search: every choice was applicable where it was made
    state, path = initial_state(view), []
    for s in d["steps"]:
        if s["kind"] in ("choose", "forced"):
            act = GroundAction.read(s["action"])
            assert s["choice"] in s["options"]
            nxt = step(view, state, act)
            assert nxt is not None
            path.append((state, act))
            state = nxt
        elif s["kind"] == "backtrack" and path:
            state, _ = path.pop()
    if r.answer is not None:
        assert _up_valid(planning.task, [GroundAction.read(a) for a in r.answer.splitlines()])


def test_dead_ends_backtrack_and_the_budget_holds():
    planning, problem, gold = _setup()
    r = run(problem, "plan-guided", ScriptedModel(fn=lambda m, p, i: _options(m[-1]["content"])[0]), cache=False,
            budget=200, max_depth=2)
    d = r.details
    # with paths of at most 2 steps the goal is out of reach: the search backtracks until exhausted
    assert len(gold) > 2 and not d["valid"] and r.answer is None
    assert d["status"] == "exhausted" and d["backtracks"] > 0
    assert any("depth limit" in s["critique"] for s in d["steps"] if s["kind"] == "backtrack")
    r = run(problem, "plan-guided", ScriptedModel(fn=lambda m, p, i: _options(m[-1]["content"])[0]), cache=False,
            budget=3)
    assert r.details["moves"] == 3 and r.details["status"] == "budget" and r.answer is None


def test_unreadable_choice_is_asked_again_then_the_first_option_is_taken():
    planning, problem, _ = _setup()
    model = ScriptedModel(default="I would rather not say.")
    r = run(problem, "plan-guided", model, cache=False, budget=2, grammar=False)
    choices = [s for s in r.details["steps"] if s["kind"] == "choose"]
    assert choices and all("not one of the listed actions" in s["critique"] for s in choices)
    assert all(s["choice"] == s["options"][0] for s in choices)
    assert "That is not one of the actions" in model.received[1][-1]["content"]
    assert "grammar" not in r.calls[0].params


def test_random_control_uses_no_model_and_the_same_budget():
    planning, problem, _ = _setup()
    r = run(problem, "plan-random-guided", ScriptedModel(default="unused"), cache=False, budget=40, seed=1)
    d = r.details
    assert len(r.calls) == 0 and d["mode"] == "random-guided" and d["moves"] <= 40
    again = run(problem, "plan-random-guided", ScriptedModel(default="unused"), cache=False, budget=40, seed=1)
    assert again.details["steps"] == d["steps"]  # the run's seed seeds the choices …
    others = [run(problem, "plan-random-guided", ScriptedModel(default="unused"), cache=False, budget=40,
                  seed=s).details["steps"] for s in (2, 3, 4)]
    assert any(o != d["steps"] for o in others)  # … and another seed gives other choices
    if r.answer is not None:
        assert _up_valid(planning.task, [GroundAction.read(a) for a in r.answer.splitlines()])


def test_random_control_finds_plans_with_a_large_budget_and_they_are_valid():
    found = 0
    for seed in range(4):
        planning, problem, _ = _setup(3, seed)
        out = guided_search(None, planning, GuidedOptions(chooser="random", budget=500, seed=seed))
        if out.valid:
            found += 1
            assert _up_valid(planning.task, out.plan) and out.verdict.valid
    assert found == 4  # 3 blocks: the whole state space fits in the budget


def test_guided_items_are_scored_by_the_validator():
    from reasonlab.eval.datasets import load_dataset

    ds = load_dataset("blocksworld:3:2")
    item = next(iter(ds.items()))
    gold = item.answer.splitlines()

    def oracle(messages, _params, _i):
        prompt = messages[-1]["content"]
        n = len(re.findall(r"^(pick up|put down|stack|unstack) ", prompt.split("[PLAN]")[-1].split("After these")[0],
                           flags=re.M))
        vocab = ds.problem(item).planning.vocab
        return vocab.action(GroundAction.read(gold[n]))

    result = run(ds.problem(item), "plan-guided", ScriptedModel(fn=oracle), cache=False)
    m = ds.score(item, result)
    assert m["valid_plan"] == 1.0 and m["moves"] == float(len(gold)) and m["length_ratio"] == 1.0
