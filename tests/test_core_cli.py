"""The `reasonlab` command: output forms and error paths (one line on stderr, non-zero exit)."""

import json
import subprocess
import sys

import pytest


def rl(*args, input=None, env=None):
    return subprocess.run([sys.executable, "-m", "reasonlab", *args], capture_output=True, text=True,
                          input=input, timeout=120, env=env)


@pytest.fixture
def script(tmp_path):
    def make(data):
        f = tmp_path / "model.json"
        f.write_text(json.dumps(data))
        return f"scripted:{f}"
    return make


def test_ask_plain_output(script):
    p = rl("ask", "What is 3 plus 4?", "--model", script(["3 plus 4 is 7.", "7"]))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "7"
    assert "2 calls" in p.stderr and "tokens" in p.stderr


def test_ask_json_has_trace(script):
    p = rl("ask", "What is 3 plus 4?", "--model", script(["3 plus 4 is 7.", "7"]), "--json")
    d = json.loads(p.stdout)
    assert d["answer"] == "7" and d["strategy"] == "zero-shot-cot"
    assert {"answer", "strategy", "model", "calls", "usage"} <= set(d)
    call = d["calls"][0]
    assert {"messages", "params", "sample_index", "output", "prompt_tokens", "completion_tokens",
            "seconds"} <= set(call)


def test_dry_run_calls_no_model():
    p = rl("ask", "What is 3 plus 4?", "--dry-run", "--model", "openai:x@http://127.0.0.1:9/v1")
    assert p.returncode == 0, p.stderr
    assert "Let's think step by step." in p.stdout and "--- user ---" in p.stdout


def test_show_prompts_prints_messages_before_output(script):
    p = rl("ask", "What is 3 plus 4?", "--model", script(["3 plus 4 is 7.", "7"]), "--show-prompts")
    err = p.stderr
    assert err.index("Let's think step by step.") < err.index("--- output, sample 0 ---")


def test_no_answer_found(script):
    p = rl("ask", "How many?", "--model", script(["hmm", "no idea"]), "--no-cache")
    assert p.returncode == 1 and p.stdout.strip() == "no answer found"  # a failure, like eval's exit 1


def test_question_from_stdin(script):
    p = rl("ask", "-", "--strategy", "direct", "--model", script(["5"]), input="What is 2 plus 3?")
    assert p.stdout.strip() == "5"


@pytest.mark.parametrize("args,msg", [
    (["ask", ""], "the question is empty"),
    (["ask", "q", "--strategy", "nope"], "unknown strategy 'nope'"),
    (["ask", "q", "--model", "gpt4"], "unknown model spec"),
    (["ask", "q", "--model", "scripted:/no/such.json"], "not found"),
    (["ask", "q", "--strategy", "direct", "--samples", "3", "--model", "scripted:/x"], "has no option"),
    (["ask", "q", "-o", "novalue"], "is not KEY=VALUE"),
])
def test_errors_are_one_line(args, msg):
    p = rl(*args)
    assert p.returncode != 0
    assert msg in p.stderr
    assert "Traceback" not in p.stderr


def test_strategies_lists_options():
    p = rl("strategies", "--json")
    d = json.loads(p.stdout)
    assert "zero-shot-cot" in d and any(o["name"] == "extract_tokens" for o in d["zero-shot-cot"]["options"])


def test_option_keys_normalise_names_but_not_strategy_prefixes():
    from reasonlab.cli._common import parse_kv

    assert parse_kv(("max-tokens=5", "self-consistency.early-stop=1")) == {
        "max_tokens": "5", "self-consistency.early_stop": "1"}
