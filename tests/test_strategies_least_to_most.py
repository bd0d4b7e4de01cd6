"""least-to-most: decomposition, ordered sub-questions with earlier Q/A in context, robust parsing."""

from __future__ import annotations

import pytest

from reasonlab.api import preview, run
from reasonlab.models.scripted import ScriptedModel
from reasonlab.strategies.least_to_most import DECOMPOSE, DECOMPOSE_EXAMPLES, parse_subquestions

Q = "Ria has 3 times as many stamps as Ken. Ken has 8 stamps. How many stamps do they have together?"


def test_message_flow():
    model = ScriptedModel(replies=[
        "1. How many stamps does Ria have?\n2. How many stamps do they have together?",
        "Ria has 3 × 8 = 24 stamps. The answer is 24.",
        "24 + 8 = 32. The answer is 32.",
        "Together they have 32 stamps. The answer is 32.",
    ])
    res = run(Q, "least-to-most", model, cache=False)
    assert res.answer == "32" and res.strict_answer == "32" and res.note is None
    assert [c.label for c in res.calls] == ["decompose", "subquestion 1", "subquestion 2", "final"]
    decompose = res.calls[0]
    assert decompose.params["max_tokens"] == 160 and decompose.params["temperature"] == 0.0
    assert len(decompose.messages) == 2 * len(DECOMPOSE_EXAMPLES) + 1
    assert decompose.messages[0]["content"] == DECOMPOSE.format(problem=DECOMPOSE_EXAMPLES[0][0])
    assert decompose.messages[1] == {"role": "assistant", "content": DECOMPOSE_EXAMPLES[0][1]}
    assert decompose.messages[-1]["content"] == DECOMPOSE.format(problem=Q)
    first = res.calls[1].messages
    assert len(first) == 1 and first[0]["content"].startswith(Q + "\n\nAnswer each question")
    assert first[0]["content"].endswith("Q: How many stamps does Ria have?")
    # each later call carries every earlier question/answer pair
    assert res.calls[2].messages == [*first, {"role": "assistant", "content": model.replies[1]},
                                     {"role": "user", "content": "Q: How many stamps do they have together?"}]
    assert res.calls[3].messages == [*res.calls[2].messages, {"role": "assistant", "content": model.replies[2]},
                                     {"role": "user", "content": f"Q: {Q}"}]
    assert res.details["subquestions"] == ["How many stamps does Ria have?",
                                           "How many stamps do they have together?"]
    assert [s["answer"] for s in res.details["steps"]] == ["24", "32", "32"]


def test_dry_run_shows_the_decomposition_call():
    assert preview(Q, "least-to-most").label == "decompose"


@pytest.mark.parametrize("text, expected", [
    ("1. How old is A?\n2) How old is B?", ["How old is A?", "How old is B?"]),
    ("Sub-questions:\n- How old is A?\n* How old is B?", ["How old is A?", "How old is B?"]),
    ("Q1: How old is A?\nQ2: How old is B?", ["How old is A?", "How old is B?"]),
    ("Step 1: find A's age.\nStep 2: find B's age.", ["find A's age.", "find B's age."]),
    ('Here: ["How old is A?", "How old is B?"]', ["How old is A?", "How old is B?"]),
    ("How old is A?\nThen we know it.\nHow old is B?", ["How old is A?", "How old is B?"]),
    ("1. **How old is A?** A is 4.\n2. How old is A?\n3. What is the sum?", ["How old is A?"]),
])
def test_parse_subquestions(text, expected):
    subs, reason = parse_subquestions(text, "What is the sum?", 6)
    assert reason is None and subs == expected


@pytest.mark.parametrize("text, reason", [
    ("", "returned nothing"),
    ("We should add the numbers and then divide.", "not a list of sub-questions"),
    ("1. What is the sum?", "no sub-question other than the question itself"),
    ("\n".join(f"{i}. Question {i}?" for i in range(1, 9)), "8 sub-questions (more than max_subquestions=6)"),
])
def test_malformed_decompositions(text, reason):
    subs, why = parse_subquestions(text, "What is the sum?", 6)
    assert subs == [] and reason in why


def test_malformed_output_falls_back_to_zero_shot_cot_with_the_reason_in_the_trace():
    model = ScriptedModel(replies=["Let me just solve it: 24 + 8.", "3 × 8 = 24 and 24 + 8 = 32.", "32"])
    res = run(Q, "least-to-most", model, cache=False)
    assert [c.label for c in res.calls] == ["decompose", "reasoning", "extract"]
    assert res.answer == "32"
    assert res.note == "fell back to zero-shot CoT: the decomposition was not a list of sub-questions"
    assert res.calls[0].meta["fallback"] == "the decomposition was not a list of sub-questions"
    assert res.details["decomposition"] == "Let me just solve it: 24 + 8."
    assert res.calls[1].messages == [{"role": "user", "content": f"{Q}\n\nLet's think step by step."}]


def test_no_final_answer_is_reported():
    model = ScriptedModel(replies=["1. How many stamps does Ria have?", "Ria has many stamps.",
                                   "They have a lot."])
    res = run("Ria has 3 times as many stamps as Ken. How many stamps do they have together?",
              "least-to-most", model, cache=False)
    assert res.status == "no_answer" and len(res.calls) == 3
