"""Context, cache, runner and the first strategies, with the scripted model."""

import json
import threading

import pytest

from reasonlab import Cache, Problem, RunContext, get_strategy, list_strategies, preview, run
from reasonlab.cache import cache_key
from reasonlab.context import BudgetExceeded, Cancelled
from reasonlab.errors import InputError
from reasonlab.models import GenParams, ModelError, ModelSpecError, parse_spec
from reasonlab.models.scripted import ScriptedModel
from reasonlab.strategies import StrategyError


def test_zero_shot_cot_message_flow():
    m = ScriptedModel(replies=["3 boxes of 4 is 12, minus 5 is 7.", "7"])
    r = run("Tom has 3 boxes of 4 pens and gives away 5. How many pens are left?", "zero-shot-cot", m,
            cache=None)
    assert r.answer == "7" and r.strict_answer == "7" and r.status == "ok"
    first, second = m.received
    assert first == [{"role": "user", "content": "Tom has 3 boxes of 4 pens and gives away 5. How many pens "
                      "are left?\n\nLet's think step by step."}]
    assert second[:2] == [first[0], {"role": "assistant", "content": "3 boxes of 4 is 12, minus 5 is 7."}]
    assert second[2] == {"role": "user", "content": "Therefore, the answer (arabic numerals) is"}
    assert [c.label for c in r.calls] == ["reasoning", "extract"]
    assert r.calls[0].params["temperature"] == 0.0 and r.calls[1].params["max_tokens"] == 32
    assert r.usage.calls == 2 and r.usage.completion_tokens > 0


def test_zero_shot_cot_chinese_cue():
    m = ScriptedModel(replies=["先算 3 乘 4 等于 12。", "12"])
    r = run("小明有3盒笔，每盒4支，一共有多少支？", "zero-shot-cot", m, cache=None)
    assert m.received[0][0]["content"].endswith("让我们一步一步地思考。")
    assert m.received[1][-1]["content"] == "因此，答案（阿拉伯数字）是"
    assert r.answer == "12"


def test_zero_shot_cot_flexible_falls_back_to_reasoning():
    m = ScriptedModel(replies=["2 and 2 make 4", "I am not sure."])
    r = run("What is 2 plus 2?", "zero-shot-cot", m, cache=None)
    assert r.strict_answer is None and r.answer == "4"


def test_no_answer_is_explicit():
    m = ScriptedModel(replies=["I cannot say.", "Nothing."])
    r = run("How many stars are there?", "zero-shot-cot", m, cache=None)
    assert r.status == "no_answer" and r.answer is None
    assert r.to_dict()["no_answer"] is True and len(r.calls) == 2


def test_direct_strategy_bare_answer_is_strict():
    m = ScriptedModel(replies=["12"])
    r = run("What is 3 times 4?", "direct", m, cache=None)
    assert r.answer == r.strict_answer == "12"
    assert m.received[0][0]["content"].endswith("Reply with only the final answer, as a number.")


def test_choice_problem_rendering():
    p = Problem("Which is a fruit?", choices=["car", "apple"])
    assert p.kind == "choice" and "(A) car\n(B) apple" in p.render()
    r = run(p, "direct", ScriptedModel(replies=["B"]), cache=None)
    assert r.answer == "B"


def test_cache_hits_and_sample_index(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    m = ScriptedModel(fn=lambda msgs, params, i: f"sample {i}")
    ctx = RunContext(m, cache, seed=1)
    msgs = [{"role": "user", "content": "hi"}]
    outs = [c.text for c in ctx.generate(msgs, n=3, temperature=0.7)]
    assert outs == ["sample 0", "sample 1", "sample 2"]
    # same request: all cached; extending to 5 computes only samples 3 and 4, as one batch
    ctx2 = RunContext(m, cache, seed=1)
    outs2 = [c.text for c in ctx2.generate(msgs, n=5, temperature=0.7)]
    assert outs2 == ["sample 0", "sample 1", "sample 2", "sample 3", "sample 4"]
    assert [c.cached for c in ctx2.calls] == [True, True, True, False, False]
    assert len(m.received) == 2 and ctx2.calls[3].meta["batch"] == 2
    assert len(cache) == 5


def test_cache_key_depends_on_everything():
    msgs = [{"role": "user", "content": "x"}]
    p = GenParams()
    base = cache_key("m", msgs, p, 0)
    assert cache_key("m", msgs, p, 1) != base
    assert cache_key("m2", msgs, p, 0) != base
    assert cache_key("m", msgs, GenParams(temperature=0.5), 0) != base
    assert cache_key("m", [{"role": "user", "content": "y"}], p, 0) != base
    assert cache_key("m", msgs, GenParams(), 0) == base


def test_failed_call_writes_nothing_to_cache(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")

    def boom(msgs, params, i):
        raise ModelError("server down")

    with pytest.raises(ModelError):
        RunContext(ScriptedModel(fn=boom), cache).generate([{"role": "user", "content": "q"}])
    assert len(cache) == 0


def test_rerun_is_instant_from_cache(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    m = ScriptedModel(replies=["It is 7.", "7"])
    run("What is 3 plus 4?", "zero-shot-cot", m, cache=cache)
    again = run("What is 3 plus 4?", "zero-shot-cot", m, cache=cache)  # scripted replies are used up
    assert again.answer == "7" and again.usage.calls == 0 and again.usage.cached_calls == 2


def test_budget_and_cancel():
    m = ScriptedModel(default="ok")
    ctx = RunContext(m, None, max_calls=2)
    ctx.generate([{"role": "user", "content": "a"}], n=2)
    with pytest.raises(BudgetExceeded):
        ctx.generate([{"role": "user", "content": "b"}])
    ev = threading.Event()
    ev.set()
    with pytest.raises(Cancelled):
        RunContext(m, None, cancel=ev).generate([{"role": "user", "content": "a"}])


def test_events_reach_listeners():
    seen = []
    run("What is 1 plus 1?", "zero-shot-cot", ScriptedModel(replies=["2", "2"]), cache=None,
        listeners=[lambda e, p: seen.append(e)])
    assert seen == ["call_start", "delta", "call", "call_start", "delta", "call", "result"]


def test_preview_shows_first_call_without_model():
    call = preview("What is 2+2?", "zero-shot-cot")
    assert call.messages[0]["content"].endswith("Let's think step by step.")
    assert call.label == "reasoning"


def test_bad_inputs():
    with pytest.raises(InputError):
        run("   ", "direct", ScriptedModel(default="x"), cache=None)
    with pytest.raises(StrategyError, match="unknown strategy"):
        get_strategy("no-such-thing")
    with pytest.raises(StrategyError, match="has no option"):
        get_strategy("direct", samples=3)
    with pytest.raises(StrategyError, match="expects int"):
        get_strategy("direct", max_tokens="many")
    assert get_strategy("direct", max_tokens="12").options.max_tokens == 12


@pytest.mark.parametrize("spec,backend,target", [
    ("smollm2", "llama", "smollm2"),
    ("llama:/x/y.gguf", "llama", "/x/y.gguf"),
    ("openai:qwen@http://127.0.0.1:8080/v1", "openai", "qwen"),
    ("openai:org/model:tag@https://h.example/v1/", "openai", "org/model:tag"),
    ("scripted:f.json", "scripted", "f.json"),
])
def test_parse_spec(spec, backend, target):
    s = parse_spec(spec)
    assert (s.backend, s.target) == (backend, target)


@pytest.mark.parametrize("spec", ["", "gpt4", "foo:bar", "openai:@http://x", "openai:m@ftp://x", "llama:"])
def test_parse_spec_errors(spec, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ModelSpecError):
        parse_spec(spec)


def test_scripted_file_and_keyed_replies(tmp_path):
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"by_prompt": {"capital": ["Paris", "Rome"]}, "default": "?"}))
    from reasonlab.models import load_model

    m = load_model(f"scripted:{f}")
    msgs = [{"role": "user", "content": "the capital of France"}]
    assert [m.generate(msgs, GenParams())[0].text for _ in range(3)] == ["Paris", "Rome", "Rome"]
    assert m.generate([{"role": "user", "content": "other"}], GenParams())[0].text == "?"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ModelError, match="bad.json:1"):
        load_model(f"scripted:{bad}")


def test_registry_lists_first_strategies():
    names = list_strategies()
    assert {"direct", "zero-shot-cot"} <= set(names)
