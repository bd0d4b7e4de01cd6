"""Worked choices (guided `demos`): drawn from other solved instances, each answer is the optimal
plan's step and one of the listed options, the chat shows them as earlier turns before the real
question, and the search with demonstrations still returns only validated plans."""


from test_planning_guided import _options, _setup
from test_planning_modulo import _up_valid

from reasonlab.api import run
from reasonlab.models.scripted import ScriptedModel
from reasonlab.planning import blocksworld as bw
from reasonlab.planning.builtin import solved_example
from reasonlab.planning.choosers import QUESTION, choice_messages
from reasonlab.planning.demos import example_decisions, pick_demos
from reasonlab.planning.mystery import obfuscate
from reasonlab.planning.pddl import GroundAction
from reasonlab.planning.render import BlocksworldVocabulary, GenericVocabulary
from reasonlab.planning.simulate import goal_distance, initial_state, step
from reasonlab.planning.task import PlanningTask


def _sources(n=4, count=4, mystery=False):
    tasks = [i.task(f"demo{k}") for k, i in enumerate(bw.generate(n, count, seed=77))]
    if mystery:
        tasks = [obfuscate(t)[0] for t in tasks]
    return [solved_example(t, engine="pyperplan") for t in tasks]


def _distance(planning, state):
    return goal_distance(planning.task.strips, planning.ground_actions(), state)


def test_each_demo_answer_is_listed_and_on_an_optimal_path():
    for mystery, vocab in ((False, BlocksworldVocabulary), (True, GenericVocabulary)):
        for ex in _sources(mystery=mystery):
            planning = PlanningTask.of(ex.task)
            decisions = example_decisions(ex, vocab)
            assert decisions, "a 4-block plan has states with a choice"
            words = [planning.vocab.action(a) for a in ex.plan]
            view, state, answers = ex.task.strips, initial_state(ex.task.strips), []
            for act in ex.plan:  # each step of the plan drops the optimal distance by one
                nxt = step(view, state, act)
                assert _distance(planning, nxt) == _distance(planning, state) - 1
                state = nxt
            for d in decisions:
                assert d.answer in d.options and len(d.options) > 1 and len(set(d.options)) == len(d.options)
                answers.append(d.answer)
            assert all(a in words for a in answers) and answers == [w for w in words if w in answers]


def test_pick_demos_cycles_sources_and_action_kinds():
    sources = _sources(count=4)
    demos = pick_demos(sources, 4, BlocksworldVocabulary)
    assert len(demos) == 4 and len(set(demos)) == 4
    kinds = {d.answer.split()[0] for d in demos}
    assert len(kinds) >= 3  # pick up / put down / stack / unstack, as far as the plans allow
    assert len({d.options.index(d.answer) for d in demos}) > 1  # not always listed first
    assert all(d.answer in d.options and len(d.options) > 1 for d in demos)
    assert pick_demos(sources, 0, BlocksworldVocabulary) == []
    assert len(pick_demos(sources[:1], 50, BlocksworldVocabulary)) == len(example_decisions(sources[0],
                                                                                           BlocksworldVocabulary))


def test_choice_messages_put_demos_first_as_turns():
    planning, problem, gold = _setup()
    planning.demos = _sources()
    demos = pick_demos(planning.demos, 3, BlocksworldVocabulary)
    state = initial_state(planning.task.strips)
    msgs = choice_messages(planning, [], state, ["x", "y"], True, demos)
    assert [m["role"] for m in msgs] == ["user", "assistant"] * 3 + ["user"]
    assert [m["content"] for m in msgs[1:-1:2]] == [d.answer for d in demos]
    assert msgs[0]["content"].startswith(planning.vocab.domain_description())
    assert all(QUESTION in m["content"] for m in msgs[0::2])
    assert planning.statement() in msgs[-1]["content"] and _options(msgs[-1]["content"]) == ["x", "y"]
    assert planning.vocab.domain_description() not in msgs[-1]["content"]  # shown once, in the first turn
    assert choice_messages(planning, [], state, ["x"], True, [])[0]["content"].startswith(
        planning.vocab.domain_description())


def test_guided_with_demos_scores_after_the_demos_and_returns_only_valid_plans():
    planning, problem, gold = _setup()
    planning.demos = _sources()
    seen = []

    def score(messages, continuation):
        seen.append(len(messages))
        return [-0.1] if continuation in _options(messages[-1]["content"])[:1] else [-2.0]

    r = run(problem, "plan-guided", ScriptedModel(default="unused", logprobs=score), cache=False, demos=2, budget=60)
    assert seen and set(seen) == {5}  # 2 demo question/answer pairs, then the question
    if r.answer:
        assert _up_valid(planning.task, [GroundAction.read(x) for x in r.answer.splitlines()])
    # without extra sources the demonstrations come from the one-shot example's plan
    planning.demos = []
    seen.clear()
    run(problem, "plan-guided", ScriptedModel(default="unused", logprobs=score), cache=False, demos=2, budget=5)
    assert set(seen) == {5}
