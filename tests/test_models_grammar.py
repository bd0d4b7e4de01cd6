"""Grammar-constrained decoding: GenParams/cache key, the OpenAI body field, and the llama backend."""

from __future__ import annotations

import json

import httpx
import pytest

from reasonlab.cache import cache_key
from reasonlab.context import RunContext
from reasonlab.models import GenParams, ModelError
from reasonlab.models.openai_api import OpenAIModel
from reasonlab.models.scripted import ScriptedModel

MSGS = [{"role": "user", "content": "Is the sky blue? Answer yes or no."}]
YES_NO = 'root ::= "yes" | "no"'


def test_grammar_none_leaves_params_and_cache_key_unchanged():
    p = GenParams.make(temperature=0.0, max_tokens=8, stop=None, top_p=1.0, seed=0)
    assert "grammar" not in p.to_dict()
    assert p.to_dict() == {"temperature": 0.0, "max_tokens": 8, "top_p": 1.0, "stop": [], "seed": 0}
    assert cache_key("m", MSGS, p, 0) == cache_key("m", MSGS, GenParams.make(max_tokens=8, grammar=None), 0)
    g = GenParams.make(max_tokens=8, grammar=YES_NO)
    assert g.to_dict()["grammar"] == YES_NO
    assert cache_key("m", MSGS, g, 0) != cache_key("m", MSGS, p, 0)


def test_context_passes_grammar_into_params_and_trace():
    ctx = RunContext(ScriptedModel(default="yes"))
    assert ctx.complete(MSGS, label="q", grammar=YES_NO) == "yes"
    ctx.complete(MSGS, label="free")
    assert ctx.calls[0].params["grammar"] == YES_NO and "grammar" not in ctx.calls[1].params


def test_openai_body_carries_grammar_only_when_set():
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"choices": [{"index": 0, "message": {"content": "yes"}}]})

    m = OpenAIModel("x", "http://fake.invalid/v1", transport=httpx.MockTransport(handler), backoff=0.0)
    m.generate(MSGS, GenParams(grammar=YES_NO))
    m.generate(MSGS, GenParams())
    m.close()
    assert bodies[0]["grammar"] == YES_NO and "grammar" not in bodies[1]


@pytest.fixture(scope="module")
def smol():
    from reasonlab.models import load_model

    m = load_model("smollm2")
    yield m
    m.close()


@pytest.mark.embedded
def test_llama_grammar_restricts_output(smol):
    outs = smol.generate(MSGS, GenParams(max_tokens=16, grammar=YES_NO))
    outs += smol.generate(MSGS, GenParams(max_tokens=16, temperature=1.0, seed=3, grammar=YES_NO), n=3)
    assert len(outs) == 4
    assert all(c.text in ("yes", "no") for c in outs), [c.text for c in outs]


@pytest.mark.embedded
def test_llama_grammar_json_shape(smol):
    from reasonlab.graphs.grammar import graph_grammar

    c = smol.generate([{"role": "user", "content": "Plan: how many legs do 3 cats have? Reply in JSON."}],
                      GenParams(max_tokens=200, grammar=graph_grammar(3)))[0]
    if c.finish_reason == "stop":  # a reply cut by max_tokens is a prefix of the shape
        data = json.loads(c.text)
        assert set(data) == {"nodes", "output"} and 1 <= len(data["nodes"]) <= 3


@pytest.mark.embedded
def test_llama_bad_grammar_is_one_line_model_error(smol):
    with pytest.raises(ModelError) as e:
        smol.generate(MSGS, GenParams(max_tokens=4, grammar="root ::= (("))
    assert "grammar" in str(e.value) and "\n" not in str(e.value)
    assert smol.generate(MSGS, GenParams(max_tokens=4))[0].completion_tokens >= 1  # still usable
