"""Conversations into problems, ChatGLM history, and request validation helpers."""

from __future__ import annotations

import pytest

from reasonlab.conversation import (
    ConversationError,
    messages_from_history,
    normalise_messages,
    problem_from_messages,
)
from reasonlab.server.service import model_id


def test_single_question_is_the_problem():
    p = problem_from_messages(normalise_messages([{"role": "user", "content": "What is 2+2?"}]))
    assert p.text == "What is 2+2?" and p.language == "en"


def test_history_and_system_become_context():
    msgs = normalise_messages([
        {"role": "system", "content": "Answer in numbers."},
        {"role": "user", "content": "I have 3 apples."},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": [{"type": "text", "text": "I buy 2 more."}, {"type": "text", "text": "How many?"}]},
    ])
    p = problem_from_messages(msgs)
    assert p.text.startswith("Conversation so far:\nInstructions: Answer in numbers.\nUser: I have 3 apples.")
    assert p.text.endswith("Question: I buy 2 more.\nHow many?")
    assert p.meta["messages"] == msgs


def test_chinese_context_uses_chinese_framing():
    p = problem_from_messages([{"role": "user", "content": "我有三个苹果。"}, {"role": "assistant", "content": "好的。"},
                               {"role": "user", "content": "再买两个，一共几个？"}])
    assert p.language == "zh" and "问题：再买两个" in p.text


@pytest.mark.parametrize("raw, fragment", [
    ([], "non-empty"),
    ("hi", "non-empty"),
    ([{"role": "wizard", "content": "x"}], "role"),
    ([{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}], "last message"),
    ([{"role": "user", "content": "   "}], "empty"),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}], "text"),
    ([{"role": "user", "content": 5}], "string"),
])
def test_bad_messages(raw, fragment):
    with pytest.raises(ConversationError, match=fragment):
        normalise_messages(raw)


def test_chatglm_history():
    msgs = messages_from_history("and then?", [["hi", "hello"]])
    assert msgs == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                    {"role": "user", "content": "and then?"}]
    assert messages_from_history("q", None) == [{"role": "user", "content": "q"}]
    for bad in ([["only one"]], "nope", [[1, 2]]):
        with pytest.raises(ConversationError):
            messages_from_history("q", bad)
    with pytest.raises(ConversationError):
        messages_from_history("", [])


def test_model_ids():
    assert model_id("smollm2") == "smollm2"
    assert model_id("llama:/models/Qwen2.5-0.5B.Q4.gguf") == "Qwen2.5-0.5B.Q4"
    assert model_id("scripted:/tmp/x/qa.json") == "qa"
    assert model_id("openai:gpt-4o-mini@http://localhost:8080/v1") == "gpt-4o-mini"
    assert model_id("fast=scripted:/tmp/qa.json") == "fast"
