"""The parts of LLM-Modulo beyond "regenerate from the critique", with scripted models:
well-formed steps (the grammar from the PDDL), prefix-keeping back-prompts, k candidates per
round, and failed candidates (unreadable, stopped for repetition)."""

import re

from reasonlab.api import run
from reasonlab.models.base import Completion, Model
from reasonlab.models.scripted import ScriptedModel
from reasonlab.planning import blocksworld as bw
from reasonlab.planning.builtin import blocksworld_example
from reasonlab.planning.grammar import choice_grammar, plan_grammar
from reasonlab.planning.mystery import obfuscate
from reasonlab.planning.planner import solve
from reasonlab.planning.render import PLAN_END, plan_lines
from reasonlab.planning.task import make_problem


def _setup(n=4, seed=0, mystery=False):
    insts = bw.generate(n, 2, seed)
    task = insts[0].task("t")
    if mystery:
        task = obfuscate(task)[0]
    example = blocksworld_example(n, seed, {i.key for i in insts}, "mystery" if mystery else "plain")
    problem = make_problem(task, example=example)
    return problem.planning, problem, solve(task, "pyperplan").plan


def gbnf_regex(grammar: str) -> re.Pattern:
    """The (non-recursive) GBNF grammars built here, as one regular expression."""
    rules = {}
    for line in grammar.strip().splitlines():
        name, _, body = line.partition(" ::= ")
        rules[name.strip()] = body.strip()

    def expand(body: str) -> str:
        out, i = [], 0
        while i < len(body):
            c = body[i]
            if c == '"':
                j = i + 1
                lit = []
                while body[j] != '"':
                    if body[j] == "\\":
                        lit.append({"n": "\n", '"': '"', "\\": "\\"}[body[j + 1]])
                        j += 2
                    else:
                        lit.append(body[j])
                        j += 1
                out.append(re.escape("".join(lit)))
                i = j + 1
            elif c in "()|":
                out.append(c)
                i += 1
            elif c == "{":
                j = body.index("}", i)
                out.append(body[i:j + 1])
                i = j + 1
            elif c.isspace():
                i += 1
            else:
                m = re.match(r"[A-Za-z0-9_-]+", body[i:])
                out.append("(?:" + expand(rules[m.group(0)]) + ")")
                i += len(m.group(0))
        return "".join(out)

    return re.compile(expand(rules["root"]))


# -- well-formed steps -----------------------------------------------------------------------

def test_plan_grammar_accepts_exactly_the_domains_action_lines():
    for mystery in (False, True):
        planning, _, gold = _setup(mystery=mystery)
        rx = gbnf_regex(plan_grammar(planning.vocab, planning.arguments, max_steps=16))
        text = plan_lines(gold, planning.vocab) + "\n" + PLAN_END
        assert rx.fullmatch(text), text
        every = "\n".join(planning.vocab.action(a) for a in planning.ground_actions()[:16]) + "\n" + PLAN_END
        assert rx.fullmatch(every)
        assert not rx.fullmatch("1. " + text)  # numbering, commentary, unknown objects: not allowed
        assert not rx.fullmatch(text.replace(planning.vocab.obj(gold[0].args[0]), "the dragon", 1))
        assert not rx.fullmatch(PLAN_END)  # at least one step


def test_choice_grammar_is_one_of_the_options():
    rx = gbnf_regex(choice_grammar(['pick up the "red" block', "put down the blue block"]))
    assert rx.fullmatch('pick up the "red" block') and not rx.fullmatch("pick up the red block")


def test_grammar_is_sent_and_can_be_switched_off():
    planning, problem, gold = _setup()
    model = ScriptedModel(default=plan_lines(gold, planning.vocab))
    r = run(problem, "plan-modulo", model, cache=False)
    assert r.answer is not None and "root ::=" in r.calls[0].params["grammar"]
    r = run(problem, "plan-modulo", ScriptedModel(default=plan_lines(gold, planning.vocab)), cache=False, grammar=False)
    assert "grammar" not in r.calls[0].params
    r = run(problem, "plan-modulo", ScriptedModel(default="x"), cache=False, plain=True, rounds=1)
    assert "grammar" not in r.calls[0].params and len(r.calls) == 1


# -- prefix-keeping back-prompts -------------------------------------------------------------

def test_valid_prefix_is_kept_and_the_rest_is_asked_for():
    planning, problem, gold = _setup()
    assert len(gold) >= 4
    wrong = gold[2] if gold[2] != gold[3] else gold[1]
    first = plan_lines([*gold[:2], gold[3], wrong], planning.vocab)  # steps 1-2 fine, step 3 fails
    model = ScriptedModel(replies=[first, plan_lines(gold[2:], planning.vocab)])
    r = run(problem, "plan-modulo", model, cache=False, candidates=1)
    d = r.details
    assert d["valid"] and d["rounds_used"] == 2 and r.answer == "\n".join(a.pddl() for a in gold)
    assert d["rounds"][1]["prefix"] == [a.pddl() for a in gold[:2]]
    prompt = model.received[1][-1]["content"]
    assert len(model.received[1]) == 1  # a fresh, restated prompt (bounded context)
    assert "Step 3" in prompt and "I keep the 2 step(s)" in prompt
    assert planning.vocab.action(gold[0]) in prompt and prompt.rstrip().endswith("[PLAN]")
    # the restated initial conditions are the state after the kept steps, in the task's words
    from reasonlab.planning.simulate import simulate
    state = simulate(planning.task.strips, gold[:2]).state
    restated = prompt.split("[STATEMENT]")[-1]
    assert all(planning.vocab.fact(a) in restated for a in state)


def test_applicable_first_step_grammar_and_the_listed_options():
    from reasonlab.planning.simulate import applicable, initial_state, simulate

    planning, problem, gold = _setup()
    view, vocab = planning.task.strips, planning.vocab
    wrong = gold[2] if gold[2] != gold[3] else gold[1]
    first = plan_lines([*gold[:2], gold[3], wrong], vocab)  # steps 1-2 fine, step 3 fails
    model = ScriptedModel(replies=[first, plan_lines(gold[2:], vocab)])
    r = run(problem, "plan-modulo", model, cache=False, candidates=1, applicable=True)
    assert r.details["valid"] and r.details["options"]["applicable"] is True
    for call, state in ((r.calls[0], initial_state(view)), (r.calls[1], simulate(view, gold[:2]).state)):
        now = applicable(view, planning.ground_actions(), state)
        rx = gbnf_regex(call.params["grammar"])
        for a in planning.ground_actions():  # the first line: exactly the actions applicable there
            assert bool(rx.fullmatch(vocab.action(a) + "\n" + PLAN_END)) == (a in now), vocab.action(a)
        assert rx.fullmatch(plan_lines([now[0], *gold[:3]], vocab) + "\n" + PLAN_END)  # later lines: any action
    prompt = model.received[1][-1]["content"]
    listed = prompt.split("the actions I can perform first are: ")[1].split(".\n")[0]
    assert all(vocab.action(a) in listed for a in applicable(view, planning.ground_actions(),
                                                                       simulate(view, gold[:2]).state))
    plain = run(problem, "plan-modulo", ScriptedModel(replies=[first, plan_lines(gold[2:], vocab)]), cache=False,
                candidates=1)
    assert "first ::=" not in plain.calls[0].params["grammar"]


def test_plan_that_passes_the_goal_is_cut_where_the_goals_held():
    planning, problem, gold = _setup()
    extra = plan_lines(gold, planning.vocab) + "\n" + plan_lines(gold[:1], planning.vocab)
    r = run(problem, "plan-modulo", ScriptedModel(default=extra), cache=False, candidates=1, rounds=1)
    assert r.answer == "\n".join(a.pddl() for a in gold) and r.details["rounds"][0]["candidates"][0]["trimmed"]
    r = run(problem, "plan-modulo", ScriptedModel(default=extra), cache=False, plain=True, rounds=1)
    assert r.answer is None  # the paper's loop: the extra step makes the plan invalid


# -- k candidates per round ------------------------------------------------------------------

def test_k_candidates_come_from_one_batched_request_and_the_best_is_critiqued():
    planning, problem, gold = _setup()
    bad0 = plan_lines(gold[1:], planning.vocab)  # fails at step 1
    bad1 = plan_lines(gold[:-1], planning.vocab)  # every step fine, one goal short: the best
    good = plan_lines(gold, planning.vocab)
    replies = {0: bad0, 1: bad1, 2: bad0, 3: bad0, 4: good, 5: bad1}
    model = ScriptedModel(fn=lambda _m, _p, i: replies[i])
    r = run(problem, "plan-modulo", model, cache=False, candidates=3, prefix=False)
    d = r.details
    assert len(model.received) == 2  # one request per round
    assert [c.meta["batch"] for c in r.calls] == [3] * 6 and [c.sample_index for c in r.calls] == list(range(6))
    assert d["rounds"][0]["chosen"] == 1 and not d["rounds"][0]["valid"]
    assert "after the last step" in model.received[1][-1]["content"]  # bad1's critique went back
    assert d["rounds"][1]["chosen"] == 1 and d["valid"] and r.answer == "\n".join(a.pddl() for a in gold)


class _Repeating(Model):
    """Every completion is a valid plan, stopped by the degeneration guard."""

    spec = identity = "repeating"

    def __init__(self, text):
        self.text = text

    def generate(self, messages, params, n=1, sample_offset=0, tools=None):
        return [Completion(self.text, 10, 50, "repetition") for _ in range(n)]


def test_a_completion_stopped_for_repetition_is_a_failed_candidate():
    planning, problem, gold = _setup()
    r = run(problem, "plan-modulo", _Repeating(plan_lines(gold, planning.vocab)), cache=False, rounds=2)
    assert r.answer is None and not r.details["valid"]
    cands = [c for rd in r.details["rounds"] for c in rd["candidates"]]
    assert len(cands) == 6 and all(c["verdict"] is None and "repeating" in c["critique"] for c in cands)


def test_unreadable_lines_get_a_targeted_critique_without_a_grammar():
    planning, problem, gold = _setup()
    model = ScriptedModel(replies=["pick up the red block\nstack the blue block on the dragon", plan_lines(gold, planning.vocab)])
    r = run(problem, "plan-modulo", model, cache=False, candidates=1, grammar=False)
    first = r.details["rounds"][0]
    assert first["verdict"] is None and "line 2 'stack the blue block on the dragon'" in first["critique"]
    assert r.answer is not None and r.details["rounds_used"] == 2


def test_soundness_of_every_candidate_in_the_default_loop():
    """Every candidate's verdict agrees with unified-planning's validator; answers are valid plans."""
    import random

    from test_planning_modulo import _up_valid

    from reasonlab.planning.pddl import GroundAction

    rng = random.Random(3)
    for seed in range(3):
        planning, problem, gold = _setup(3, seed)
        names = bw.block_names(3)

        def sample(_m, _p, _i, gold=gold, planning=planning, names=names):
            plan = list(gold)
            for _ in range(rng.randint(0, 2)):
                name = rng.choice(["pick-up", "put-down", "stack", "unstack"])
                args = tuple(rng.sample(names, 2 if name in ("stack", "unstack") else 1))
                plan.insert(rng.randrange(len(plan) + 1), GroundAction(name, args))
            return plan_lines(plan[: rng.randint(1, len(plan))], planning.vocab)

        r = run(problem, "plan-modulo", ScriptedModel(fn=sample), cache=False, rounds=4)
        for rd in r.details["rounds"]:
            for c in rd["candidates"]:
                attempt = [GroundAction.read(s) for s in c["attempt"]]
                if c["verdict"] is not None:
                    assert c["valid"] == _up_valid(planning.task, attempt)
        if r.answer is not None:
            assert _up_valid(planning.task, [GroundAction.read(s) for s in r.answer.splitlines()])


def test_cli_applicable_and_goals_first_go_with_their_modes():
    from test_planning_modulo import rl

    for args, mode in ((["--applicable"], "guided"), (["--goals-first"], "modulo"), (["--goals-first"], "planner")):
        p = rl("--blocksworld", "3", "--mode", mode, *args)
        assert p.returncode == 2 and "goes with --mode" in p.stderr and "Traceback" not in p.stderr
