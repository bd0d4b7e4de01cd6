"""Rendering in the PlanBench style and reading plans back: round trips and tolerance."""

import pytest

from reasonlab.planning import blocksworld as bw
from reasonlab.planning.builtin import blocksworld_example, variant_task
from reasonlab.planning.parse import parse_plan
from reasonlab.planning.pddl import GroundAction
from reasonlab.planning.planner import solve
from reasonlab.planning.render import (
    PLAN_END,
    BlocksworldVocabulary,
    GenericVocabulary,
    plan_lines,
    prompt,
    vocabulary,
)
from reasonlab.planning.validate import validate


@pytest.mark.parametrize("variant", ["plain", "mystery", "random"])
def test_render_parse_validate_round_trip(variant):
    for i, inst in enumerate(bw.generate(4, 3, seed=11)):
        task = variant_task(inst.task(f"p{i}"), variant, seed=11)
        vocab = vocabulary(task)
        assert isinstance(vocab, BlocksworldVocabulary if variant == "plain" else GenericVocabulary)
        gold = solve(task, "pyperplan").plan
        text = plan_lines(gold, vocab) + f"\n{PLAN_END}\n"
        parsed = parse_plan(text, vocab)
        assert parsed.actions == gold and parsed.ok and parsed.ended
        assert validate(task, parsed.actions, vocab).valid


def test_prompt_has_planbench_parts_and_a_different_example():
    insts = bw.generate(4, 2, seed=0)
    task = insts[0].task("q")
    ex = blocksworld_example(4, 0, {i.key for i in insts})
    assert ex.task.problem_text != task.problem_text
    text = prompt(task, vocabulary(task), ex)
    assert "These rules restrict my actions" in text
    assert text.count("[STATEMENT]") == 2 and text.count("As initial conditions I have that") == 2
    assert "My goal is to have that" in text and text.rstrip().endswith("My plan is as follows:\n\n[PLAN]")
    assert text.count(PLAN_END) >= 2  # the instruction and the example's plan
    assert "the red block" in text


def _bw():
    task = bw.Instance((("a", "b"), ("c",)), (("c", "a"),), 3).task("t")  # b on a; c alone
    return task, vocabulary(task)


@pytest.mark.parametrize("line", [
    "unstack the blue block from on top of the red block",
    "1. Unstack the blue block from on top of the red block.",
    "Step 1: unstack blue block off of red block",
    "- **unstack the blue block from the red block**",
    "(unstack b a)",
    "unstack(b, a)",
    "UNSTACK B A",
])
def test_tolerant_reading(line):
    _, vocab = _bw()
    parsed = parse_plan(line, vocab)
    assert parsed.actions == [GroundAction("unstack", ("b", "a"))], parsed.to_dict()
    assert not parsed.errors


def test_unreadable_lines_are_errors_and_commentary_is_recorded():
    _, vocab = _bw()
    text = ("Here is my plan:\n1. unstack the blue block from on top of the red block\n"
            "2. stack the blue block somewhere nice\n3. put down the purple block\n"
            f"{PLAN_END}\nI hope this helps, pick up everything.")
    parsed = parse_plan(text, vocab)
    assert parsed.actions == [GroundAction("unstack", ("b", "a"))]
    assert [e.line_no for e in parsed.errors] == [3, 4]
    assert parsed.ignored == ["Here is my plan:"]
    assert "pick up everything" in parsed.trailing  # after [PLAN END]: set aside, not read
    assert not parsed.ok


def test_no_plan_at_all():
    _, vocab = _bw()
    parsed = parse_plan("I am not sure what to do.", vocab)
    assert parsed.actions == [] and parsed.errors == [] and not parsed.ok


def test_repeated_plan_marker_reads_the_last_copy():
    _, vocab = _bw()
    text = "[PLAN]\npick up the red block\n[PLAN]\nunstack the blue block from on top of the red block\n[PLAN END]"
    parsed = parse_plan(text, vocab)
    assert parsed.actions == [GroundAction("unstack", ("b", "a"))]
    assert parsed.errors == []


def test_generic_vocabulary_describes_any_strips_domain():
    task = variant_task(bw.generate(3, 1, seed=0)[0].task("m"), "mystery")
    vocab = vocabulary(task)
    desc = vocab.domain_description()
    assert "To perform unravel object X object Y, the following facts need to be true" in desc
    assert "become false" in desc and "object a" in prompt(task, vocab)


def test_blocksworld_recognised_by_structure_not_text():
    from reasonlab.planning.pddl import Task

    inst = bw.generate(3, 1, seed=0)[0]
    reformatted = "; my own copy\n" + bw.DOMAIN.replace("(:action put-down", "\n\n  (:action   put-down")
    assert isinstance(vocabulary(Task(reformatted, inst.problem_pddl("p"))), BlocksworldVocabulary)
    changed = bw.DOMAIN.replace("(and (clear ?underob) (holding ?ob))", "(holding ?ob)")
    assert isinstance(vocabulary(Task(changed, inst.problem_pddl("p"))), GenericVocabulary)


def test_unfinished_last_line_at_the_token_limit_is_set_aside():
    _, vocab = _bw()
    text = "unstack the blue block from on top of the red block\nput down the bl"
    cut = parse_plan(text, vocab, truncated=True)
    assert cut.actions == [GroundAction("unstack", ("b", "a"))] and cut.cut_off == "put down the bl"
    assert cut.ok
    whole = parse_plan(text, vocab)  # not truncated: the broken line is an error
    assert whole.errors and not whole.cut_off
