"""Validator critiques in words, malformed PDDL (file and line), unsolvable problems, planners."""

import pytest

from reasonlab.planning import blocksworld as bw
from reasonlab.planning.builtin import variant_task
from reasonlab.planning.pddl import GroundAction, PDDLError, Task
from reasonlab.planning.planner import solve
from reasonlab.planning.render import vocabulary
from reasonlab.planning.validate import validate

G = GroundAction


def _task():  # b on a, c alone; goal: c on a
    return bw.Instance((("a", "b"), ("c",)), (("c", "a"),), 3).task("t")


def test_failing_step_and_unmet_precondition_in_words():
    task = _task()
    v = validate(task, [G("pick-up", ("a",))], vocabulary(task))
    assert not v.valid and v.status == "inapplicable" and v.failed_step == 1
    assert v.unmet_preconditions == ["clear(a)"]
    assert v.critique == ("The plan is not valid. Step 1 (pick up the red block) cannot be performed "
                          "because this condition does not hold: the red block is clear.")


def test_later_step_and_several_unmet_preconditions():
    task = _task()
    plan = [G("unstack", ("b", "a")), G("put-down", ("b",)), G("stack", ("c", "b"))]
    v = validate(task, plan, vocabulary(task))
    assert v.failed_step == 3 and v.steps_ok == 2
    assert v.unmet_preconditions == ["holding(c)"]
    assert "Step 3 (stack the orange block on top of the blue block)" in v.critique
    assert "I am holding the orange block" in v.critique and "Steps 1 to 2 can be performed" in v.critique
    v2 = validate(task, [G("stack", ("c", "a"))], vocabulary(task))
    assert set(v2.unmet_preconditions) == {"clear(a)", "holding(c)"}
    assert "these conditions do not hold" in v2.critique


def test_unmet_goals_in_words():
    task = _task()
    v = validate(task, [G("unstack", ("b", "a")), G("put-down", ("b",))], vocabulary(task))
    assert v.status == "goal_not_reached" and v.unmet_goals == ["on(c, a)"]
    assert v.critique.endswith("this goal is not met: the orange block is on top of the red block.")


def test_valid_plan():
    task = _task()
    plan = [G("unstack", ("b", "a")), G("put-down", ("b",)), G("pick-up", ("c",)), G("stack", ("c", "a"))]
    v = validate(task, plan, vocabulary(task))
    assert v.valid and v.status == "valid" and v.steps_ok == 4


def test_mystery_critique_uses_mystery_words():
    task = variant_task(_task(), "mystery")
    v = validate(task, [G("kindle", ("a",))], vocabulary(task))
    assert v.critique.endswith("this condition does not hold: lantern object a.")


def test_unknown_object_is_a_plan_error_not_a_crash():
    task = _task()
    v = validate(task, [G("pick-up", ("zz",))])
    assert not v.valid and v.status == "bad_plan" and "zz" in v.critique


DOMAIN_OK = bw.DOMAIN


@pytest.mark.parametrize("domain, problem, where", [
    (DOMAIN_OK.replace("(:action put-down", "(:action put-down ("), None, "domain.pddl:10:"),
    (DOMAIN_OK, "(define (problem p)\n (:domain blocksworld)\n (:objects a b)\n (:init (handempty)\n"
                " (ontable a) (clear a)\n (goal (and (on a b))))", "problem.pddl:"),
    (DOMAIN_OK, "(define (problem p)\n (:domain blocksworld)\n (:objects a b)\n"
                " (:init (handempty) (ontabel a))\n (:goal (on a b)))", "problem.pddl:4:"),
    ("", None, "domain.pddl: the domain file is empty"),
])
def test_malformed_pddl_names_file_and_line(tmp_path, domain, problem, where):
    d = tmp_path / "domain.pddl"
    p = tmp_path / "problem.pddl"
    d.write_text(domain)
    p.write_text(problem or bw.Instance((("a",), ("b",)), (("a", "b"),), 2).problem_pddl("p"))
    with pytest.raises(PDDLError) as e:
        Task.from_files(d, p)
    msg = str(e.value)
    assert msg.startswith(str(tmp_path / where.split(":")[0])) and where.split(":", 1)[1] in msg, msg


def test_missing_file(tmp_path):
    with pytest.raises(PDDLError, match="not found"):
        Task.from_files(tmp_path / "nope.pddl", tmp_path / "p.pddl")


UNSOLVABLE = """(define (problem loop) (:domain blocksworld) (:objects a b)
  (:init (handempty) (ontable a) (ontable b) (clear a) (clear b))
  (:goal (and (on a b) (on b a))))"""


@pytest.mark.parametrize("engine", ["fast-downward", "pyperplan", "auto"])
def test_unsolvable_problem_is_reported(engine):
    res = solve(Task(bw.DOMAIN, UNSOLVABLE), engine)
    assert res.status == "unsolvable" and res.plan is None and not res.solved
    assert "no plan" in res.message


@pytest.mark.parametrize("engine", ["fast-downward", "pyperplan"])
def test_planners_find_optimal_plans(engine):
    task = _task()
    res = solve(task, engine)
    assert res.solved and len(res.plan) == 4 and res.optimal
    assert validate(task, res.plan).valid


GRIPPER = """(define (domain gripper-typed)
  (:requirements :strips :typing :equality)
  (:types room ball gripper)
  (:predicates (at-robby ?r - room) (at ?b - ball ?r - room) (free ?g - gripper) (carry ?o - ball ?g - gripper))
  (:action move :parameters (?from ?to - room)
    :precondition (and (at-robby ?from) (not (= ?from ?to)))
    :effect (and (at-robby ?to) (not (at-robby ?from))))
  (:action pick :parameters (?obj - ball ?room - room ?gripper - gripper)
    :precondition (and (at ?obj ?room) (at-robby ?room) (free ?gripper))
    :effect (and (carry ?obj ?gripper) (not (at ?obj ?room)) (not (free ?gripper))))
  (:action drop :parameters (?obj - ball ?room - room ?gripper - gripper)
    :precondition (and (carry ?obj ?gripper) (at-robby ?room))
    :effect (and (at ?obj ?room) (free ?gripper) (not (carry ?obj ?gripper)))))
"""
GRIPPER_PROBLEM = """(define (problem two-balls) (:domain gripper-typed)
  (:objects room-a room-b - room ball1 ball2 - ball left right - gripper)
  (:init (at-robby room-a) (at ball1 room-a) (at ball2 room-a) (free left) (free right))
  (:goal (and (at ball1 room-b) (at ball2 room-b))))
"""


@pytest.mark.parametrize("variant", ["plain", "mystery"])
def test_any_typed_strips_domain_round_trips(variant):
    from reasonlab.planning.parse import parse_plan
    from reasonlab.planning.render import GenericVocabulary, plan_lines, prompt

    task = variant_task(Task(GRIPPER, GRIPPER_PROBLEM), variant)
    if variant == "mystery":
        for word in ("gripper", "ball ", "room ", "carry", "pick", "drop", "move", "at-robby"):
            assert word not in task.domain_text
    vocab = vocabulary(task)
    assert isinstance(vocab, GenericVocabulary) and vocab.prefix == ""
    text = prompt(task, vocab)
    assert "is not the same as" in text and "room-a" in text
    res = solve(task, "fast-downward")
    assert res.solved and len(res.plan) == 5
    parsed = parse_plan(plan_lines(res.plan, vocab), vocab)
    assert parsed.actions == res.plan and validate(task, parsed.actions, vocab).valid
    move = "move" if variant == "plain" else next(a for a in task.strips.actions if len(task.strips.actions[a].params) == 2)
    v = validate(task, [GroundAction(move, ("room-a", "room-a"))], vocab)
    assert v.status == "inapplicable" and v.failed_step == 1
    pick = next(a for a in task.strips.actions if len(task.strips.actions[a].params) == 3 and a != "drop"
                and "drop" not in a) if variant == "plain" else None
    if pick:
        wrong_type = validate(task, [GroundAction(pick, ("room-a", "ball1", "left"))], vocab)
        assert wrong_type.status == "bad_plan" and "room-a" in wrong_type.critique
