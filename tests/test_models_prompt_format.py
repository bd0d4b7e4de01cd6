"""The plain Question/Answer format used for models without a chat template."""

from __future__ import annotations

from reasonlab.models.prompt_format import PLAIN_STOPS, plain_prompt


def test_single_question():
    assert plain_prompt([{"role": "user", "content": "What is 2+2?"}]) == "Question: What is 2+2?\nAnswer:"


def test_system_and_turns():
    msgs = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
            {"role": "user", "content": "Q2"}]
    assert plain_prompt(msgs) == "Be brief.\n\nQuestion: Q1\nAnswer: A1\n\nQuestion: Q2\nAnswer:"


def test_consecutive_user_messages_merge_and_trailing_assistant_stays_open():
    msgs = [{"role": "user", "content": "Q"}, {"role": "user", "content": "more"},
            {"role": "assistant", "content": "Let's think"}]
    assert plain_prompt(msgs) == "Question: Q\nmore\nAnswer: Let's think"


def test_stops_cut_the_next_turn():
    text = " 4\n\nQuestion: what next?"
    cut = min(i for i in (text.find(s) for s in PLAIN_STOPS) if i >= 0)
    assert text[:cut] == " 4"
