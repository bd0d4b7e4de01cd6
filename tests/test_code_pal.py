"""PAL / PoT with a scripted model: code extraction, the sandboxed run, self-repair, voting."""

from __future__ import annotations

import pytest

from reasonlab.api import run
from reasonlab.context import BudgetExceeded
from reasonlab.models.scripted import ScriptedModel
from reasonlab.sandbox import detect
from reasonlab.strategies.pal import Entry, build_program, extract_code, find_entry, read_output

needs_sandbox = pytest.mark.skipif(detect().backend == "none", reason="no sandbox on this machine")

Q = "A farmer has 17 sheep and buys 3 pens of 4 sheep each. How many sheep does he have?"
GOOD = "```python\ndef solution():\n    sheep = 17 + 3 * 4\n    return sheep\n```"


# -- reading code from replies (no sandbox needed) ---------------------------------------------
def test_extract_fenced_block_among_prose():
    reply = "Here is my solution:\n```python\ndef solution():\n    return 2 + 2\n```\nThis returns 4."
    assert extract_code(reply) == "def solution():\n    return 2 + 2"


def test_extract_prefers_block_with_solution():
    reply = "```\nprint('warm up')\n```\nNow:\n```py\nx = 1\ndef solution():\n    return x + 1\n```"
    assert "def solution" in extract_code(reply)


def test_extract_unfenced_code_in_prose():
    reply = ("Sure! We can compute it like this:\n\ndef total_apples():\n    a = 5\n    return a * 3\n\n"
             "print(total_apples())\nThe function returns 15 apples.")
    code = extract_code(reply)
    assert code.startswith("def total_apples") and "print(total_apples())" in code
    assert "The function returns" not in code


def test_extract_nothing_from_pure_prose():
    assert extract_code("I think the answer is 12 because three times four is twelve.") is None


def test_extract_truncated_fence_still_parses():
    reply = "```python\ndef solution():\n    return 7 * 6\n"
    assert extract_code(reply) == "def solution():\n    return 7 * 6"


def test_entry_renamed_function():
    e = find_entry("def compute():\n    return 3\n")
    assert e == Entry("function", "compute", renamed=True)


def test_entry_skips_functions_with_required_args():
    code = "def helper(x):\n    return x * 2\n\ndef get_total():\n    return helper(4)\n"
    assert find_entry(code).name == "get_total"


def test_entry_variable_and_stdout():
    assert find_entry("x = 2\nanswer = x * 3\n", prefer="variable") == Entry("variable", "answer")
    assert find_entry("print(2 + 3)\n").kind == "stdout"


def test_harness_and_output_reading():
    prog = build_program("def solution():\n    return 1.5 * 2", Entry("function", "solution"), "@@m@@")
    assert "solution()" in prog and "@@m@@" in prog
    answer, printed = read_output("hello\n@@m@@3\n", Entry("function", "solution"), "@@m@@")
    assert answer == "3" and printed == "hello"
    assert read_output("@@m@@None\n", Entry("function", "solution"), "@@m@@")[0] is None
    assert read_output("step 1\nTotal: 42\n", Entry("stdout"), "@@m@@")[0] == "Total: 42"


# -- the whole flow through the sandbox ----------------------------------------------------------
@needs_sandbox
@pytest.mark.sandbox
def test_pal_runs_program_in_sandbox():
    m = ScriptedModel(replies=[GOOD])
    r = run(Q, "pal", m, cache=False)
    assert r.answer == "29" and r.status == "ok"
    assert r.details["program"].startswith("def solution")
    assert len(r.details["rounds"]) == 1 and r.details["rounds"][0]["exit_code"] == 0
    first = m.received[0]
    assert first[0]["role"] == "system" and "solution()" in first[0]["content"]
    assert sum(1 for msg in first if msg["role"] == "assistant") == 3  # three worked programs by default
    assert first[-1]["content"] == Q


@needs_sandbox
@pytest.mark.sandbox
def test_pal_float_result_is_normalised():
    m = ScriptedModel(replies=["```python\ndef solution():\n    return 150 / 2.5 * 4\n```"])
    assert run(Q, "pal", m, cache=False).answer == "240"


@needs_sandbox
@pytest.mark.sandbox
def test_pal_renamed_function_in_prose():
    reply = "To solve this:\n\ndef count_sheep():\n    return 17 + 12\n\nThis gives the total."
    r = run(Q, "pal", ScriptedModel(replies=[reply]), cache=False)
    assert r.answer == "29"
    assert r.details["entry"] == "count_sheep()"


@needs_sandbox
@pytest.mark.sandbox
def test_repair_loop_feeds_error_back():
    broken = "```python\ndef solution():\n    sheep = 17 + 3 * pens\n    return sheep\n```"
    m = ScriptedModel(replies=[broken, GOOD])
    r = run(Q, "pal", m, cache=False)
    assert r.answer == "29"
    rounds = r.details["rounds"]
    assert len(rounds) == 2 and "NameError" in rounds[0]["error"] and rounds[1]["error"] is None
    repair_prompt = m.received[1]
    assert repair_prompt[-2] == {"role": "assistant", "content": broken}
    assert "NameError" in repair_prompt[-1]["content"] and "pens" in repair_prompt[-1]["content"]
    assert "boot.py" not in repair_prompt[-1]["content"]
    assert "@@answer" not in repair_prompt[-1]["content"] and "__rl_" not in repair_prompt[-1]["content"]
    assert 'line 2, in solution' in repair_prompt[-1]["content"]
    assert [c.label for c in r.calls] == ["program", "repair 1"]


@needs_sandbox
@pytest.mark.sandbox
def test_repair_after_timeout_and_none():
    loop = "```python\ndef solution():\n    while True:\n        pass\n```"
    returns_none = "```python\ndef solution():\n    x = 29\n```"
    m = ScriptedModel(replies=[loop, returns_none, GOOD])
    r = run(Q, "pal", m, cache=False, timeout_s=1.0, rounds=2)
    rounds = r.details["rounds"]
    assert rounds[0]["limit"] in ("cpu_time", "wall_time")
    assert "returned None" in rounds[1]["error"]
    assert r.answer == "29"
    assert "limit" in m.received[1][-1]["content"]


@needs_sandbox
@pytest.mark.sandbox
def test_repair_rounds_are_bounded():
    bad = "```python\ndef solution():\n    return undefined_name\n```"
    m = ScriptedModel(default=bad)
    r = run(Q, "pal", m, cache=False, rounds=1)
    assert r.status == "no_answer" and r.answer is None
    assert len(r.details["rounds"]) == 2 and len(r.calls) == 2
    assert "NameError" in r.note


@needs_sandbox
@pytest.mark.sandbox
def test_no_code_reply_asks_for_a_program():
    m = ScriptedModel(replies=["The answer is probably 29.", GOOD])
    r = run(Q, "pal", m, cache=False)
    assert r.answer == "29"
    assert "no Python program" in m.received[1][-1]["content"]


@needs_sandbox
@pytest.mark.sandbox
def test_unparseable_program_gets_its_syntax_error_back():
    unbalanced = "```python\nresult = ((3 + 4) * (2 - 5)\nprint(result)\n```"
    m = ScriptedModel(replies=[unbalanced, GOOD])
    r = run(Q, "pal", m, cache=False)
    assert r.answer == "29"
    assert "SyntaxError" in r.details["rounds"][0]["error"]
    repair = m.received[1][-1]["content"]
    assert "SyntaxError" in repair and "no Python program" not in repair and "line 1" in repair


@needs_sandbox
@pytest.mark.sandbox
def test_zero_rounds_means_no_repair():
    m = ScriptedModel(replies=["```python\ndef solution():\n    return 1/0\n```", GOOD])
    r = run(Q, "pal", m, cache=False, rounds=0)
    assert r.answer is None and len(r.calls) == 1


@needs_sandbox
@pytest.mark.sandbox
def test_samples_are_one_batched_request_and_voted():
    replies = {0: "```python\ndef solution():\n    return 29\n```",
               1: "```python\ndef solution():\n    return 20 + 9.0\n```",
               2: "```python\ndef solution():\n    return 31\n```"}
    batches = []

    def fn(messages, params, index):
        return replies[index]

    m = ScriptedModel(fn=fn)
    orig = m.generate

    def spy(messages, params, n=1, sample_offset=0, tools=None):
        batches.append(n)
        return orig(messages, params, n, sample_offset, tools)

    m.generate = spy
    r = run(Q, "pal", m, cache=False, samples=3)
    assert batches == [3]
    assert r.answer == "29" and r.details["votes"] == {"29": 2, "31": 1}
    assert len(r.details["samples"]) == 3
    assert r.calls[0].params["temperature"] > 0


@needs_sandbox
@pytest.mark.sandbox
def test_pot_reads_answer_variable():
    m = ScriptedModel(replies=["```python\nsheep = 17\nsheep += 3 * 4\nanswer = sheep\nprint('done')\n```"])
    r = run(Q, "pot", m, cache=False)
    assert r.answer == "29" and r.details["entry"] == "answer"
    assert "answer" in m.received[0][0]["content"]
    assert "answer = " in m.received[0][2]["content"] and "def solution" not in m.received[0][2]["content"]


@needs_sandbox
@pytest.mark.sandbox
def test_pot_falls_back_to_printed_value():
    r = run(Q, "pot", ScriptedModel(replies=["```python\nprint(17 + 3 * 4)\n```"]), cache=False)
    assert r.answer == "29" and r.details["entry"] == "stdout"


@needs_sandbox
@pytest.mark.sandbox
def test_hostile_program_is_contained_and_repaired():
    evil = "```python\ndef solution():\n    return open('/etc/passwd').read()\n```"
    m = ScriptedModel(replies=[evil, GOOD])
    r = run(Q, "pal", m, cache=False)
    assert "root:" not in str(r.details)
    assert r.answer == "29"


def test_call_budget_stops_repair(monkeypatch):
    import reasonlab.strategies.pal as pal
    from reasonlab.sandbox import SandboxResult

    monkeypatch.setattr(pal, "run_code", lambda code, limits, unsafe=False: SandboxResult(
        stdout="", stderr="Traceback...\nValueError: boom", exit_code=1))
    m = ScriptedModel(default="```python\ndef solution():\n    raise ValueError('boom')\n```")
    with pytest.raises(BudgetExceeded):
        run(Q, "pal", m, cache=False, max_calls=2, rounds=5)


def test_dry_run_shows_program_prompt():
    from reasonlab.api import preview

    call = preview(Q, "pal", shots=1)
    assert call.label == "program" and len(call.messages) == 4


# -- loops, sampled repair rounds, rendered values, confidence-weighted program votes (issue 13) --
from reasonlab.models.base import Completion, Model  # noqa: E402


class Fake(Model):
    """Replies from `table(messages, index)` → (text, token log-probabilities, finish reason)."""

    spec = identity = "fake"

    def __init__(self, table):
        self.table = table
        self.requests = []  # (n, sample_offset, temperature, last user message)

    def generate(self, messages, params, n=1, sample_offset=0, tools=None):
        self.requests.append((n, sample_offset, params.temperature, messages[-1]["content"]))
        return [Completion(*self.table(messages, i)[:1], 10, 20, self.table(messages, i)[2],
                           token_logprobs=self.table(messages, i)[1]) for i in range(sample_offset, sample_offset + n)]


LOOPING = ("```python\ndef solution():\n    total = 17\n    total = total * 2\n    total = total * 2\n", [-0.01] * 20,
           "repetition")


@needs_sandbox
@pytest.mark.sandbox
def test_a_looping_program_is_drawn_again_from_the_original_prompt_by_sampling():
    fake = Fake(lambda m, i: LOOPING if i == 0 else (GOOD, [-0.2] * 20, "stop"))
    r = run(Q, "pal", fake, cache=False)
    assert r.answer == "29"
    rounds = r.details["rounds"]
    assert rounds[0]["error"] == "loop" and rounds[0]["finish"] == "repetition" and rounds[0]["exit_code"] is None
    assert r.details["loops"] == 1
    (n0, off0, t0, q0), (n1, off1, t1, q1) = fake.requests
    assert (off0, t0) == (0, 0.0) and t1 == 0.7 and off1 == 1  # sampled, a seed of its own
    assert q1 == q0 == Q  # the original prompt: the loop is not fed back
    assert [c.label for c in r.calls] == ["program", "retry 1"]


@needs_sandbox
@pytest.mark.sandbox
def test_repair_rounds_sample_with_their_own_seeds():
    bad = ("```python\ndef solution():\n    return undefined_name\n```", [-0.1], "stop")
    fake = Fake(lambda m, i: bad)
    r = run(Q, "pal", fake, cache=False, rounds=2)
    assert r.answer is None and r.note and "NameError" in r.note
    temps = [t for _, _, t, _ in fake.requests]
    offsets = [off for _, off, _, _ in fake.requests]
    assert temps == [0.0, 0.7, 0.7] and offsets == [0, 1, 2]  # never the greedy path again
    assert "NameError" in fake.requests[1][3]  # a repair sees the error
    r = run(Q, "pal", Fake(lambda m, i: bad), cache=False, rounds=1, retry_temperature=0.0)
    assert r.calls[1].params["temperature"] == 0.0  # the old behaviour, on request


@needs_sandbox
@pytest.mark.sandbox
def test_program_values_are_rendered_in_the_answer_form():
    words = "```python\ndef solution():\n    return sorted(['therefrom', 'syndrome'])\n```"
    r = run("Sort the words: therefrom syndrome", "pal", ScriptedModel(replies=[words]), cache=False)
    assert r.answer == "syndrome therefrom" and r.details["rounds"][0]["value"] == "['syndrome', 'therefrom']"
    truth = "```python\ndef solution():\n    return 3 > 2\n```"
    r = run("Fidel lies. Jim says Fidel tells the truth. Does Jim tell the truth?", "pal",
            ScriptedModel(replies=[truth]), cache=False)
    assert r.answer == "Yes"
    noisy = "```python\ndef solution():\n    return 0.1 * 3 * 10\n```"
    r = run(Q, "pal", ScriptedModel(replies=[noisy]), cache=False)
    assert r.answer == "3"


@needs_sandbox
@pytest.mark.sandbox
def test_confidence_weighted_program_vote():
    def table(messages, i):
        if i < 3:
            return "```python\ndef solution():\n    return 31\n```", [-0.1] * 4 + [-3.0] * 16, "stop"
        return GOOD, [-0.05] * 20, "stop"

    plain = run(Q, "pal", Fake(table), cache=False, samples=5)
    assert plain.answer == "31" and plain.details["votes"] == {"31": 3, "29": 2}
    weighted = run(Q, "pal", Fake(table), cache=False, samples=5, confidence="lowest")
    assert weighted.answer == "29" and weighted.details["weights"]["29"] > weighted.details["weights"]["31"]
    assert [p["confidence"] is not None for p in weighted.details["paths"]] == [True] * 5


@needs_sandbox
@pytest.mark.sandbox
def test_program_vote_stops_early_when_settled():
    fake = Fake(lambda m, i: (GOOD, [-0.05] * 20, "stop"))
    r = run(Q, "pal", fake, cache=False, samples=8, confidence="lowest", settle=0.9)
    assert r.answer == "29" and r.details["early_stop"] == {"drawn": 5, "saved": 3}
    assert [n for n, *_ in fake.requests] == [2, 1, 1, 1]  # warm-up of 2, then one program at a time


@needs_sandbox
@pytest.mark.sandbox
def test_program_vote_share_rule_stops_after_an_agreeing_warm_up():
    other = "```python\ndef solution():\n    return 31\n```"
    agree = Fake(lambda m, i: (GOOD, [-0.05] * 20, "stop"))
    r = run(Q, "pal", agree, cache=False, samples=5, confidence="lowest", settle=0.75, settle_rule="share")
    assert r.answer == "29" and r.details["early_stop"] == {"drawn": 2, "saved": 3}
    split = Fake(lambda m, i: (other if i == 1 else GOOD, [-0.05] * 20, "stop"))
    r = run(Q, "pal", split, cache=False, samples=5, confidence="lowest", settle=0.75, settle_rule="share")
    assert r.answer == "29" and r.details["early_stop"]["drawn"] == 4  # 2/3 < 0.75, 3/4 passes
    assert [n for n, *_ in split.requests] == [2, 1, 1]


def test_gsm8k_program_exemplars_are_outside_the_report_slice_and_compute_their_answers():
    from reasonlab.api import preview
    from reasonlab.strategies.pal_exemplars import GSM8K, GSM8K_POSITIONS

    assert len(GSM8K) == len(GSM8K_POSITIONS) == 8 and min(GSM8K_POSITIONS) >= 200
    for _, program in GSM8K:
        ns: dict = {}
        exec(program, ns)  # our own exemplar code, not model output
        value = ns["solution"]()
        assert isinstance(value, (int, float)) and value > 0 and float(value).is_integer()
    call = preview(Q, "pal", exemplars="gsm8k", shots=8)
    assert len(call.messages) == 1 + 2 * 8 + 1
    assert call.messages[1]["content"] == GSM8K[0][0] and "def solution():" in call.messages[2]["content"]


@needs_sandbox
@pytest.mark.sandbox
def test_pal_uses_a_pool_of_verified_programs(tmp_path):
    import json

    pool = tmp_path / "pool.jsonl"
    rows = [{"question": "A farmer has 10 cows and buys 2 pens of 3 cows each. How many cows does he have?",
             "solution": "def solution():\n    return 10 + 2 * 3", "answer": "16", "format": "program"},
            {"question": "What is the capital of France?", "solution": "Paris is the capital. The answer is Paris.",
             "answer": "Paris"}]
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows))
    m = ScriptedModel(replies=[GOOD])
    r = run(Q, "pal", m, cache=False, exemplars=str(pool), selection="similar", shots=2)
    assert r.answer == "29" and r.details["exemplars"]["ids"] == ["pool:1"]  # prose solutions are skipped
    assert "return 10 + 2 * 3" in m.received[0][2]["content"]


@needs_sandbox
@pytest.mark.sandbox
def test_a_negative_answer_to_a_word_problem_goes_back_for_repair():
    backwards = "```python\ndef solution():\n    return 3 * 4 - 17 - 24\n```"
    fake = Fake(lambda m, i: (GOOD if "cannot be negative" in m[-1]["content"] else backwards, [-0.1] * 20, "stop"))
    r = run(Q, "pal", fake, cache=False)
    assert r.answer == "29" and [a["answer"] for a in r.details["rounds"]] == ["-29", "29"]
    assert "returned -29" in fake.requests[1][3]
    stubborn = Fake(lambda m, i: (backwards, [-0.1] * 20, "stop"))
    r = run(Q, "pal", stubborn, cache=False, rounds=1)
    assert r.answer == "-29" and len(r.details["rounds"]) == 2  # kept when no repair fixes it
    r = run(Q, "pal", Fake(lambda m, i: (backwards, [-0.1] * 20, "stop")), cache=False, sign_check=False)
    assert r.answer == "-29" and len(r.details["rounds"]) == 1


def test_which_questions_expect_a_non_negative_answer():
    from reasonlab.problem import Problem
    from reasonlab.strategies.pal import expects_non_negative, sign_error

    assert expects_non_negative(Problem(Q), "number")
    assert not expects_non_negative(Problem("The temperature was 5 degrees and fell by 8. What is it now?"), "number")
    assert not expects_non_negative(Problem("What is -3 plus 1?"), "number")
    assert not expects_non_negative(Problem(Q), "text")
    assert sign_error("-1,200") and sign_error("12") is None and sign_error("abc") is None


def test_syntax_error_names_the_line():
    from reasonlab.strategies.program import syntax_error

    assert syntax_error("```python\nx = 1\ny = ((x + 2)\n```").startswith("SyntaxError")
    assert "line 2: y = ((x + 2)" in syntax_error("```python\nx = 1\ny = ((x + 2)\n```")
    assert syntax_error("```python\nx = 1\n```") is None and syntax_error("no code here") is None
