"""ReAct with a scripted model: text protocol parsing, native tool calls, step budget, user tools."""

from __future__ import annotations

import json

import pytest

from reasonlab.api import run
from reasonlab.context import BudgetExceeded
from reasonlab.models.scripted import ScriptedModel
from reasonlab.strategies.base import StrategyError
from reasonlab.strategies.react import bind_arguments, parse_action, parse_final
from reasonlab.tools import get_tool, tool, unregister_tool

Q = "A box holds 12 eggs. How many eggs are in 17 boxes?"


# -- parsing the text protocol -----------------------------------------------------------------
def test_parse_json_action():
    a = parse_action('Thought: multiply.\nAction: calculator[{"expression": "17 * 12"}]\nObservation: 5')
    assert a.tool == "calculator" and a.arguments == {"expression": "17 * 12"}
    assert a.text.endswith('"17 * 12"}]')


def test_parse_bare_argument_and_parentheses():
    assert parse_action("Action: calculator[17*(12+1)]").arguments == "17*(12+1)"
    assert parse_action("Action: weekday(2024-07-04)").arguments == "2024-07-04"


def test_parse_brackets_inside_json_strings():
    a = parse_action('Action: python[{"code": "print([1, 2][1])"}]')
    assert a.arguments == {"code": "print([1, 2][1])"}


def test_parse_langchain_style():
    a = parse_action('Action: convert_units\nAction Input: {"value": 3, "from_unit": "km", "to_unit": "m"}')
    assert a.tool == "convert_units" and a.arguments["value"] == 3


def test_parse_final_and_nothing():
    assert parse_final("Thought: done\nFinal Answer: 204 eggs") == "204 eggs"
    assert parse_action("I think it is 204.") is None and parse_final("no") is None


def test_bind_bare_argument_to_single_parameter():
    assert bind_arguments(get_tool("calculator"), "2+2") == {"expression": "2+2"}
    assert bind_arguments(get_tool("weekday"), {"_raw": "2024-01-01"}) == {"date": "2024-01-01"}


# -- the loop, text protocol (the scripted backend supports tools, so the tests turn native off) ---
def react(q, m, **kw):
    return run(q, "react", m, cache=False, **{"native": "off", **kw})


def test_text_protocol_calls_tool_and_reads_final():
    m = ScriptedModel(replies=['Thought: 17 times 12.\nAction: calculator[{"expression": "17 * 12"}]',
                               "Thought: that is it.\nFinal Answer: 204"])
    r = react(Q, m)
    assert r.answer == "204"
    steps = r.details["steps"]
    assert r.details["protocol"] == "text" and steps[0]["tool"] == "calculator"
    assert steps[0]["observation"] == "204"
    second = m.received[1]
    assert second[-1] == {"role": "user", "content": "Observation: 204"}
    assert second[-2]["role"] == "assistant" and second[-2]["content"].endswith("]")
    assert "calculator" in m.received[0][0]["content"]
    assert r.calls[0].params["stop"] == ["Observation:"]


def test_tool_error_goes_back_as_observation():
    m = ScriptedModel(replies=['Action: calculator[{"expression": "__import__(\'os\')"}]',
                               'Action: no_such_tool[{"x": 1}]', "Final Answer: 204"])
    r = react(Q, m)
    steps = r.details["steps"]
    assert "Error" in steps[0]["observation"] and "unknown function" in steps[0]["error"]
    assert "unknown tool" in steps[1]["error"]
    assert m.received[1][-1]["content"].startswith("Observation: Error")
    assert r.answer == "204"


def test_reply_without_action_is_nudged_then_answered():
    m = ScriptedModel(replies=["Hmm, let me think about eggs.", "So 17 boxes.\nFinal Answer: 204"])
    r = react(Q, m)
    assert r.answer == "204"
    assert "Action" in m.received[1][-1]["content"]


def test_step_budget_then_answer_is_demanded():
    m = ScriptedModel(by_prompt={"step budget": "Final Answer: 204"},
                      default='Action: calculator[{"expression": "1 + 1"}]')
    r = react(Q, m, max_steps=3)
    assert r.details["steps"] and len(r.details["steps"]) == 3
    assert r.details["budget_exhausted"] and r.answer == "204"
    assert [c.label for c in r.calls] == ["step 0", "step 1", "step 2", "final"]


def test_call_budget_of_the_run_is_respected():
    m = ScriptedModel(default='Action: calculator[{"expression": "1 + 1"}]')
    with pytest.raises(BudgetExceeded):
        react(Q, m, max_steps=10, max_calls=4)


def test_only_selected_tools_are_offered():
    m = ScriptedModel(replies=['Action: python[{"code": "print(1)"}]', "Final Answer: 1"])
    r = react(Q, m, tools="calculator")
    assert "python" not in m.received[0][0]["content"].split("Tools:")[1].split("To use")[0]
    assert "unknown tool" in r.details["steps"][0]["error"]
    with pytest.raises(StrategyError):
        react(Q, ScriptedModel(default="x"), tools="calculator,nope")


def test_user_defined_tool():
    @tool
    def eggs_per_box(brand: str) -> int:
        """How many eggs a box of this brand holds."""
        return 12 if brand == "farm" else 6

    try:
        m = ScriptedModel(replies=['Action: eggs_per_box[{"brand": "farm"}]', "Final Answer: 204"])
        r = react(Q, m, tools="eggs_per_box,calculator")
        assert r.details["steps"][0]["observation"] == "12"
        assert "eggs_per_box" in m.received[0][0]["content"]
    finally:
        unregister_tool("eggs_per_box")


# -- native function calling -------------------------------------------------------------------
def test_native_tool_calls():
    tools_seen = []
    replies = [
        {"text": "", "tool_calls": [{"id": "c1", "name": "calculator", "arguments": {"expression": "17*12"}}]},
        {"text": "", "tool_calls": [{"id": "c2", "type": "function",
                                     "function": {"name": "weekday", "arguments": json.dumps({"date": "2024-07-04"})}}]},
        "There are 204 eggs.\nFinal Answer: 204",
    ]

    def fn(messages, params, index):
        return replies[len(tools_seen) - 1]

    m = ScriptedModel(fn=fn)
    orig = m.generate

    def spy(messages, params, n=1, sample_offset=0, tools=None):
        tools_seen.append(tools)
        return orig(messages, params, n, sample_offset, tools)

    m.generate = spy
    r = run(Q, "react", m, cache=False)  # the scripted backend says it supports tools
    assert r.details["protocol"] == "native" and r.answer == "204"
    assert {t["function"]["name"] for t in tools_seen[0]} >= {"calculator", "python", "weekday"}
    second = m.received[1]
    assert second[-2]["role"] == "assistant" and second[-2]["tool_calls"][0]["id"] == "c1"
    assert second[-1] == {"role": "tool", "tool_call_id": "c1", "name": "calculator", "content": "204"}
    assert m.received[2][-1]["content"] == "Thursday"
    assert r.details["tool_calls"] == 2


def test_native_off_uses_text_protocol():
    m = ScriptedModel(replies=["Final Answer: 204"])
    r = run(Q, "react", m, cache=False, native="off")
    assert r.details["protocol"] == "text" and r.answer == "204"
