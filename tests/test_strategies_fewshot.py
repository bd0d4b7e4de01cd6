"""few-shot-cot: exact messages, exemplar choice, custom files, and CLI errors."""

from __future__ import annotations

import json

import pytest

from reasonlab.api import preview, run
from reasonlab.exemplars import load
from reasonlab.models.scripted import ScriptedModel
from reasonlab.problem import Problem
from reasonlab.strategies import StrategyError, get_strategy

Q = "Tim has 3 bags with 4 marbles each. He loses 2. How many marbles are left?"


def test_message_flow_is_exemplar_turns_then_the_question():
    model = ScriptedModel(default="3 × 4 = 12, 12 - 2 = 10. The answer is 10.")
    res = run(Q, "few-shot-cot", model, cache=False, shots=2)
    assert res.answer == "10" and res.strict_answer == "10"
    (call,) = res.calls
    ex = load("arithmetic")
    assert call.label == "reasoning" and call.params["temperature"] == 0.0
    assert call.messages == [
        {"role": "user", "content": ex[0].question}, {"role": "assistant", "content": ex[0].solution},
        {"role": "user", "content": ex[1].question}, {"role": "assistant", "content": ex[1].solution},
        {"role": "user", "content": Q},
    ]
    assert res.details["exemplars"] == {"set": "arithmetic", "selection": "fixed", "pool_size": 8,
                                        "ids": ["arithmetic-1", "arithmetic-2"]}


def test_flexible_answer_when_the_marker_is_missing():
    res = run(Q, "few-shot-cot", ScriptedModel(default="12 minus 2 leaves 10"), cache=False)
    assert res.answer == "10" and res.strict_answer is None


def test_similar_selection_draws_from_the_pool_by_procedure():
    q = "A coat costs $90. It is 30% off, then 5% tax is added. What is the final price?"
    res = run(q, "few-shot-cot", ScriptedModel(default="The answer is 66.15."), cache=False,
              selection="similar", shots=3)
    info = res.details["exemplars"]
    assert info["set"] == "arithmetic-pool" and info["pool_size"] >= 30 and info["similarity"] == "tfidf"
    pool = {ex.id: ex for ex in load("arithmetic-pool")}
    msgs = res.calls[0].messages
    assert [m["content"] for m in msgs[:-1:2]] == [pool[i].question for i in info["ids"]]
    assert "discounted" in msgs[-3]["content"]  # the closest exemplar sits right before the question


def test_own_exemplar_file_and_choice_questions(tmp_path):
    p = tmp_path / "mine.jsonl"
    p.write_text(json.dumps({"question": "Pick the even number.\n\nOptions:\n(A) 3\n(B) 4",
                             "solution": "4 is divisible by 2. The answer is (B).", "answer": "B"}) + "\n")
    prob = Problem("Pick the odd number.", choices=["8", "5"])
    res = run(prob, "few-shot-cot", ScriptedModel(default="5 is odd. The answer is (B)."), cache=False,
              exemplars=str(p))
    assert res.answer == "B"
    assert res.calls[0].messages[0]["content"].startswith("Pick the even number.")
    assert res.calls[0].messages[-1]["content"] == prob.render()


def test_choice_problems_default_to_the_multiple_choice_set():
    call = preview(Problem("Which is a colour?", choices=["red", "seven"]), "few-shot-cot", shots=1)
    assert "Options:\n(A) 21" in call.messages[0]["content"]


def test_bad_options():
    with pytest.raises(StrategyError, match="selection must be one of"):
        run(Q, "few-shot-cot", ScriptedModel(default="x"), cache=False, selection="best")
    with pytest.raises(StrategyError, match="expects int"):
        get_strategy("few-shot-cot", shots="many")


def test_cli_reports_a_bad_exemplar_file_with_its_line(tmp_path, capsys):
    from reasonlab.cli import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "solution": "s", "answer": "1"}\n{"question": "q"}\n')
    with pytest.raises(SystemExit) as e:
        main(["ask", Q, "--strategy", "few-shot-cot", "--exemplars", str(bad), "--dry-run"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("reasonlab: error: ") and f"{bad}:2: field 'solution' is missing" in err
    assert "Traceback" not in err


def test_strategies_command_lists_the_new_strategies_and_options(capsys):
    from reasonlab.cli import main

    with pytest.raises(SystemExit):
        main(["strategies", "--json"])
    table = json.loads(capsys.readouterr().out)
    for name in ("few-shot-cot", "self-consistency", "diverse", "least-to-most"):
        assert table[name]["description"]
    names = {o["name"] for o in table["self-consistency"]["options"]}
    assert {"samples", "temperature", "exemplars", "shots", "early_stop"} <= names
    assert "verifier" in {o["name"] for o in table["diverse"]["options"]}
