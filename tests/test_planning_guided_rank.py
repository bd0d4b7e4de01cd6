"""The guided search's rankings, with scripted models: the log-probability chooser takes the
argmax, a backtrack takes the next-ranked action without a new model call, moves count the same
for the model and the controls, and the greedy control and the effect annotations behave."""

import math

import pytest
from test_planning_guided import _options, _setup
from test_planning_modulo import _up_valid

from reasonlab.api import run
from reasonlab.errors import InputError
from reasonlab.models.scripted import ScriptedModel
from reasonlab.planning.choosers import effects, option_score
from reasonlab.planning.pddl import GroundAction
from reasonlab.planning.simulate import initial_state, step


def _oracle_logprobs(planning, gold):
    """Scores the next step of the optimal plan highest (the plan so far read from the prompt)."""
    vocab = planning.vocab

    def score(messages, continuation):
        prompt = messages[-1]["content"]
        done = prompt.split("[PLAN]")[-1].split("After these steps")[0].strip().splitlines()
        done = [] if done == ["(no steps yet)"] else done
        return [-0.1] if continuation == vocab.action(gold[len(done)]) else [-3.0, -3.0]

    return score


def test_logprob_chooser_takes_the_argmax_and_solves_optimally():
    for mystery in (False, True):
        planning, problem, gold = _setup(mystery=mystery)
        model = ScriptedModel(fn=lambda *a: pytest.fail("no text is generated"),
                              logprobs=_oracle_logprobs(planning, gold))
        r = run(problem, "plan-guided", model, cache=False)
        d = r.details
        assert r.answer == "\n".join(a.pddl() for a in gold) and d["moves"] == len(gold) and d["backtracks"] == 0
        choices = [s for s in d["steps"] if s["kind"] == "choose"]
        assert d["rankings"] == len(choices) and all(c.kind == "logprobs" for c in r.calls)
        assert len(r.calls) == sum(len(s["options"]) for s in choices)  # one score per listed option
        for s in choices:
            best = max(range(len(s["options"])), key=lambda i: s["scores"][i])
            assert s["choice"] == s["options"][best] and not s["reused"]


def _preference(messages, continuation):
    """A fixed, state-independent preference: longer words first (sum norm), ties broken by text."""
    return [-1.0 / (1 + len(continuation))]


def test_a_backtrack_takes_the_next_ranked_action_without_a_new_call():
    planning, problem, gold = _setup(5)  # 5 blocks: states with 3+ options to come back to
    model = ScriptedModel(default="unused", logprobs=_preference)
    r = run(problem, "plan-guided", model, cache=False, budget=60, max_depth=3)  # dead ends force backtracks
    d = r.details
    assert d["backtracks"] > 0
    reused = [s for s in d["steps"] if s["reused"]]
    assert reused and all("no new model call" in s["critique"] for s in reused)
    fresh = [s for s in d["steps"] if s["kind"] == "choose" and not s["reused"]]
    assert d["rankings"] == len(fresh)
    assert len(r.calls) == sum(len(s["options"]) for s in fresh)  # reused choices cost no call
    # replay: a reused choice is the best-scored action left at its state, under the first ranking
    ranking: dict = {}
    view, state, path = planning.task.strips, initial_state(planning.task.strips), []
    for s in d["steps"]:
        if s["kind"] == "choose" and not s["reused"]:
            ranking[state] = [o for _, o in sorted(zip(s["scores"], s["options"], strict=True),
                                                   key=lambda p: -p[0])]
        if s["kind"] == "choose" and s["reused"]:
            left = [o for o in ranking[state] if o in s["options"]]
            assert s["choice"] == left[0]
        if s["kind"] in ("choose", "forced"):
            nxt = step(view, state, GroundAction.read(s["action"]))
            path.append(state)
            state = nxt
        elif s["kind"] == "backtrack" and path:
            state = path.pop()


def test_moves_count_the_same_for_model_and_controls():
    planning, problem, gold = _setup()
    lp = ScriptedModel(default="unused", logprobs=_preference)
    for strategy, model in (("plan-guided", lp), ("plan-random-guided", ScriptedModel(default="unused")),
                            ("plan-greedy-guided", ScriptedModel(default="unused"))):
        r = run(problem, strategy, model, cache=False, budget=7, max_depth=3)
        d = r.details
        moves = sum(1 for s in d["steps"] if s["kind"] in ("choose", "forced"))
        assert d["moves"] == moves == 7 and d["status"] == "budget" and r.answer is None, strategy


def test_option_scores_mean_and_sum():
    assert option_score([], "mean") == -math.inf and option_score([-1.0, float("nan")], "sum") == -math.inf
    assert option_score([-1.0, -3.0], "mean") == -2.0 and option_score([-1.0, -3.0], "sum") == -4.0
    _, problem, _ = _setup()
    probe = run(problem, "plan-guided", ScriptedModel(default="x", logprobs=_preference), cache=False, budget=1)
    first = probe.details["steps"][0]["options"]
    assert len(first) > 1
    # the first option: one token at -1.0; the others: three tokens at -0.6 -> sum prefers the first, mean another
    scores = {o: ([-1.0] if k == 0 else [-0.6] * 3) for k, o in enumerate(first)}
    picks = {}
    for norm in ("sum", "mean"):
        r = run(problem, "plan-guided", ScriptedModel(default="x", logprobs=scores), cache=False, budget=1, norm=norm)
        picks[norm] = r.details["steps"][0]["choice"]
    assert picks["sum"] == first[0] and picks["mean"] == first[1]  # ties keep the listed order


def test_without_logprobs_the_model_writes_its_choice():
    planning, problem, _ = _setup()
    model = ScriptedModel(fn=lambda m, p, i: _options(m[-1]["content"])[-1])  # no logprobs configured
    r = run(problem, "plan-guided", model, cache=False, budget=4)
    choices = [s for s in r.details["steps"] if s["kind"] == "choose"]
    assert choices and "no log-probabilities" in choices[0]["critique"]
    assert all(c.kind == "generate" for c in r.calls) and all(s["choice"] == s["options"][-1] for s in choices)


def test_bad_scorer_or_norm_is_a_one_line_input_error():
    _, problem, _ = _setup()
    for kw in ({"scorer": "vibes"}, {"norm": "median"}):
        with pytest.raises(InputError):
            run(problem, "plan-guided", ScriptedModel(default="x"), cache=False, **kw)


def test_effects_annotate_options_and_the_greedy_control_follows_them():
    planning, problem, gold = _setup()
    view, vocab = planning.task.strips, planning.vocab
    state = initial_state(view)
    for a in gold[:-1]:  # walk the optimal plan to its last step: that step achieves a goal
        state = step(view, state, a)
    achieved, undone = effects(view, vocab, state, gold[-1])
    assert achieved and not undone
    r = run(problem, "plan-guided", ScriptedModel(default="x", logprobs=_oracle_logprobs(planning, gold)),
            cache=False, effects=True)
    assert r.details["valid"] and r.details["moves"] == len(gold)
    prompts = [c.messages[-1]["content"] for c in r.calls]
    assert any(f"- {vocab.action(gold[-1])} (achieves the goal that {achieved[0]}" in p for p in prompts)
    assert all("(" not in c.output for c in r.calls)  # the scored reply is the action's words only
    plain = run(problem, "plan-guided", ScriptedModel(default="x", logprobs=_oracle_logprobs(planning, gold)),
                cache=False)
    assert not any("(achieves the goal" in c.messages[-1]["content"] for c in plain.calls)
    found = 0
    for seed in range(3):
        g = run(problem, "plan-greedy-guided", ScriptedModel(default="unused"), cache=False, seed=seed)
        assert not g.calls and g.details["mode"] == "greedy-guided"
        for s in g.details["steps"]:
            if s["kind"] == "choose" and not s["reused"]:
                assert s["scores"][s["options"].index(s["choice"])] == max(s["scores"])
        if g.answer:
            found += 1
            assert _up_valid(planning.task, [GroundAction.read(a) for a in g.answer.splitlines()])
    assert found >= 1


def test_goals_first_ranks_by_goal_count_and_asks_the_model_only_within_a_tie():
    planning, problem, gold = _setup()
    view = planning.task.strips
    model = ScriptedModel(default="unused", logprobs=_preference)
    r = run(problem, "plan-guided", model, cache=False, goals_first=True)
    d = r.details
    assert d["valid"] and r.answer
    state, asked, path = initial_state(view), 0, []
    for s in d["steps"]:
        if s["kind"] == "choose" and not s["reused"]:
            opts = [planning.vocab.read_action(o) for o in s["options"]]
            gains = []
            for a in opts:
                achieved, undone = effects(view, planning.vocab, state, a)
                gains.append(len(achieved) - len(undone))
            top = [o for o, g in zip(s["options"], gains, strict=True) if g == max(gains)]
            assert s["choice"] in top  # the goal count first
            if len(top) == 1:
                assert "no model call" in s["critique"] and s["scores"] is None
            else:  # the model ordered the tie; the others were not scored
                asked += len(top)
                scored = [o for o, x in zip(s["options"], s["scores"], strict=True) if x is not None]
                assert sorted(scored) == sorted(top)
                assert s["choice"] == max(top, key=lambda o: s["scores"][s["options"].index(o)])
        if s["kind"] in ("choose", "forced"):
            path.append(state)
            state = step(view, state, GroundAction.read(s["action"]))
        elif s["kind"] == "backtrack" and path:
            state = path.pop()
    assert asked == len(r.calls) > 0


def test_cli_guided_options_and_the_greedy_control(tmp_path):
    import json

    from test_planning_modulo import rl

    from reasonlab.planning import blocksworld as bw

    d, prob, f = tmp_path / "domain.pddl", tmp_path / "p.pddl", tmp_path / "m.json"
    d.write_text(bw.DOMAIN)
    prob.write_text(bw.generate(3, 1, seed=5)[0].problem_pddl("p"))
    f.write_text(json.dumps({"default": "unused", "logprobs": {"pick up the red block": [-0.1]}}))
    p = rl("--domain", str(d), "--problem", str(prob), "--mode", "guided", "--effects", "--norm", "sum",
           "--model", f"scripted:{f}", "--no-cache", "--json", "--budget", "60")
    out = json.loads(p.stdout)
    assert out["mode"] == "guided" and out["options"]["effects"] is True and out["options"]["norm"] == "sum"
    assert all(c["kind"] == "logprobs" for c in out["calls"]) and (p.returncode == 0) == out["valid"]
    p = rl("--domain", str(d), "--problem", str(prob), "--mode", "greedy-guided", "--model", f"scripted:{f}",
           "--no-cache", "--json")
    out = json.loads(p.stdout)
    assert out["mode"] == "greedy-guided" and out["calls"] == [] and (p.returncode == 0) == out["valid"]
    p = rl("--domain", str(d), "--problem", str(prob), "--mode", "guided", "--scorer", "vibes")
    assert p.returncode == 2
