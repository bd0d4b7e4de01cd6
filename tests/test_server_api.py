"""The OpenAI-compatible API, driven by the official `openai` client against a live loopback server."""

from __future__ import annotations

import json
import re

import httpx
import openai
import pytest

from reasonlab.server import ServerConfig
from reasonlab.server.app import create_app
from reasonlab.server.testing import LiveServer

pytestmark = pytest.mark.server

SCRIPT = {
    "by_prompt": {
        "Let's think step by step": "Three apples plus four apples make seven apples.",
        "Therefore, the answer (arabic numerals) is": "7",
        "Reply with only the final answer": "7",
        "Say hello": "Hello there!",
    },
    "default": "I do not know.",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("scripted") / "qa.json"
    path.write_text(json.dumps(SCRIPT), encoding="utf-8")
    config = ServerConfig(models=[f"scripted:{path}"], default_strategy="zero-shot-cot", max_tokens_limit=1000,
                          max_body_bytes=20_000)
    app = create_app(config)
    with LiveServer(app) as srv:
        srv.service = app.state.service
        yield srv


@pytest.fixture()
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=30)


QUESTION = [{"role": "user", "content": "Tom has 3 apples and gets 4 more. How many apples does he have?"}]


def test_plain_completion_answers_with_trace(client, server):
    r = client.chat.completions.create(model="zero-shot-cot/qa", messages=QUESTION)
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content == "7"
    assert r.choices[0].finish_reason == "stop"
    rl = r.model_extra["reasonlab"]
    assert rl["strategy"] == "zero-shot-cot" and rl["status"] == "ok" and rl["trace_id"] == r.id
    calls = rl["trace"]["calls"]
    assert [c["label"] for c in calls] == ["reasoning", "extract"]
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0
    # the same trace by id
    t = httpx.get(f"{server.url}/v1/traces/{r.id}").json()
    assert t["id"] == r.id and len(t["calls"]) == 2 and t["answer"] == "7"
    assert r.id in httpx.get(f"{server.url}/v1/traces").json()["data"]


def test_strategy_by_request_field(client):
    r = client.chat.completions.create(model="qa", messages=QUESTION,
                                       extra_body={"reasonlab": {"strategy": "direct", "options": {"max_tokens": 20}}})
    rl = r.model_extra["reasonlab"]
    assert rl["strategy"] == "direct"
    assert len(rl["trace"]["calls"]) == 1
    assert rl["trace"]["options"]["max_tokens"] == 20
    assert rl["trace"]["calls"][0]["params"]["max_tokens"] == 20


def test_bare_model_uses_the_default_strategy(client):
    r = client.chat.completions.create(model="qa", messages=QUESTION)
    assert r.model_extra["reasonlab"]["strategy"] == "zero-shot-cot"
    assert r.model == "qa"


def test_top_level_params_reach_the_strategy(client):
    r = client.chat.completions.create(model="direct/qa", messages=QUESTION, max_tokens=33, temperature=0.5,
                                       seed=3, extra_body={"reasonlab": {"trace": False}})
    rl = r.model_extra["reasonlab"]
    assert "trace" not in rl
    t = httpx.get(f"{client.base_url}traces/{r.id}").json()
    assert t["options"]["max_tokens"] == 33 and t["options"]["temperature"] == 0.5
    assert t["calls"][0]["params"]["seed"] == 3


def test_chat_mode_passes_the_conversation_through(client, server):
    model = server.service.models["qa"]
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Say hello again"}]
    r = client.chat.completions.create(model="chat/qa", messages=messages)
    assert r.choices[0].message.content == "Hello there!"
    assert model.received[-1] == messages


def test_history_becomes_context_for_a_strategy(client, server):
    model = server.service.models["qa"]
    messages = [{"role": "user", "content": "I have 3 apples."}, {"role": "assistant", "content": "OK."},
                {"role": "user", "content": "I get 4 more. How many now?"}]
    client.chat.completions.create(model="direct/qa", messages=messages)
    sent = model.received[-1][-1]["content"]
    assert "I have 3 apples." in sent and "I get 4 more. How many now?" in sent


def test_streaming_sends_events_then_the_answer(client):
    stream = client.chat.completions.create(model="zero-shot-cot/qa", messages=QUESTION, stream=True)
    content, events, finish, last = "", [], None, None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        extra = chunk.model_extra.get("reasonlab") or {}
        if "event" in extra:
            events.append(extra["event"])
        delta = chunk.choices[0].delta
        content += delta.content or ""
        finish = chunk.choices[0].finish_reason or finish
        last = chunk
    assert content == "7"
    assert finish == "stop"
    assert events[0] == "queued" and events.count("call_start") == 2 and events.count("call") == 2
    assert last.model_extra["reasonlab"]["trace"]["answer"] == "7"
    assert last.usage is not None and last.usage.completion_tokens > 0


def test_models_list_has_bare_and_prefixed_names(client):
    ids = {m.id for m in client.models.list()}
    assert {"qa", "chat/qa", "direct/qa", "zero-shot-cot/qa"} <= ids
    assert client.models.retrieve("direct/qa").id == "direct/qa"


def test_strategies_endpoint_describes_options(server):
    data = httpx.get(f"{server.url}/v1/strategies").json()
    assert data["default"] == "zero-shot-cot"
    names = {o["name"] for o in data["strategies"]["direct"]["options"]}
    assert {"temperature", "max_tokens"} <= names
    assert "chat" in data["strategies"]


@pytest.mark.parametrize("model, error, code", [
    ("nope/qa", openai.BadRequestError, "unknown_strategy"),
    ("zero-shot-cot/missing", openai.NotFoundError, "model_not_found"),
    ("missing", openai.NotFoundError, "model_not_found"),
])
def test_unknown_strategy_or_model(client, model, error, code):
    with pytest.raises(error) as info:
        client.chat.completions.create(model=model, messages=QUESTION)
    body = info.value.response.json()["error"]
    assert body["code"] == code and body["message"] and body["type"] == "invalid_request_error"


def test_unknown_strategy_in_field(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="qa", messages=QUESTION, extra_body={"reasonlab": {"strategy": "nope"}})
    assert info.value.response.json()["error"]["param"] == "reasonlab.strategy"


def test_bad_option_is_a_400(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="direct/qa", messages=QUESTION,
                                       extra_body={"reasonlab": {"options": {"no_such_option": 1}}})
    assert "no_such_option" in info.value.response.json()["error"]["message"]


def test_max_tokens_limit(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="direct/qa", messages=QUESTION, max_tokens=5000)
    err = info.value.response.json()["error"]
    assert err["code"] == "max_tokens_exceeded" and err["param"] == "max_tokens"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="direct/qa", messages=QUESTION,
                                       extra_body={"reasonlab": {"options": {"max_tokens": 5000}}})


def test_oversize_request_is_413(client, server):
    big = [{"role": "user", "content": "x" * 30_000}]
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="direct/qa", messages=big)
    assert info.value.status_code == 413
    assert info.value.response.json()["error"]["code"] == "request_too_large"
    # a chunked body with no Content-Length is counted too
    def body():
        yield b'{"model": "qa", "messages": [{"role": "user", "content": "'
        for _ in range(30):
            yield b"y" * 1000
        yield b'"}]}'
    r = httpx.post(f"{server.url}/v1/chat/completions", content=body(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("payload, fragment", [
    ({"model": "qa"}, "messages"),
    ({"model": "qa", "messages": [{"role": "assistant", "content": "hi"}]}, "last message"),
    ({"model": "qa", "messages": [{"role": "user", "content": "hi"}], "n": 3}, "n=1"),
    ({"model": "qa", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "text"),
])
def test_malformed_requests_are_400(server, payload, fragment):
    r = httpx.post(f"{server.url}/v1/chat/completions", json=payload)
    assert r.status_code == 400
    assert fragment in r.json()["error"]["message"]


def test_invalid_json_is_400(server):
    r = httpx.post(f"{server.url}/v1/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


def test_unknown_trace_and_route_are_404(server):
    r = httpx.get(f"{server.url}/v1/traces/chatcmpl-nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "trace_not_found"
    assert httpx.get(f"{server.url}/v1/nothing").status_code == 404


def test_chatglm_endpoint(server):
    r = httpx.post(server.url + "/", json={"prompt": "Say hello", "history": [["Hi", "Hello."]], "strategy": "chat"},
                   timeout=30)
    assert r.status_code == 200
    data = r.json()
    assert data["response"] == "Hello there!" and data["status"] == 200
    assert data["history"] == [["Hi", "Hello."], ["Say hello", "Hello there!"]]
    assert httpx.get(f"{server.url}/v1/traces/{data['trace_id']}").status_code == 200
    bad = httpx.post(server.url + "/", json={"prompt": "", "history": []})
    assert bad.status_code == 400


def test_web_page_and_static_files(server):
    page = httpx.get(server.url + "/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    scripts = re.findall(r'src="/static/([\w.-]+\.js)"', page.text)
    assert scripts, "the page loads its script from /static/"
    for name in (*scripts, "style.css"):
        assert httpx.get(f"{server.url}/static/{name}").status_code == 200
    assert httpx.get(f"{server.url}/static/__init__.py").status_code == 404
    assert httpx.get(f"{server.url}/static/..%2Fserver%2Fapp.py").status_code == 404
    # nothing on the page comes from elsewhere
    for name in ("index.html", *scripts, "style.css"):
        text = httpx.get(f"{server.url}/static/{name}").text
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text


def test_health_and_stats(server):
    assert httpx.get(server.url + "/health").json()["status"] == "ok"
    stats = httpx.get(server.url + "/v1/stats").json()
    assert stats["queue"]["capacity"] == 32 and "qa" in stats["models"]


@pytest.mark.parametrize("strategy, options, code", [
    ("pal", {"unsafe_exec": True}, "forbidden_option"),
    ("self-consistency", {"exemplars": "/etc/passwd"}, "forbidden_option"),
    ("self-consistency", {"exemplars": "../secrets.jsonl"}, "forbidden_option"),
    ("self-consistency", {"exemplars": "mine.jsonl"}, "forbidden_option"),
    ("self-consistency", {"exemplars": "notes"}, "forbidden_option"),  # built-in names only, never a file
    ("self-consistency", {"samples": 1000}, "option_limit"),
    ("self-consistency", {"samples": "1000"}, "invalid_option"),  # strict types: a string is not a number
    ("self-consistency", {"samples": 1.5}, "invalid_option"),
    ("self-consistency", {"max_tokens": 5000}, "max_tokens_exceeded"),
    ("zero-shot-cot", {"extract_tokens": 5000}, "max_tokens_exceeded"),
    ("zero-shot-cot", {"extract_tokens": "100000"}, "invalid_option"),
    ("pal", {"timeout_s": 3600}, "option_limit"),
    ("pal", {"timeout_s": 0}, "invalid_option"),
    ("pal", {"memory_mb": -1}, "invalid_option"),
    ("pal", {"memory_mb": 4096}, "option_limit"),  # a request may only tighten the sandbox's limits
    ("few-shot-cot", {"similarity": "embedding:all-MiniLM"}, "forbidden_option"),  # loads a model: local only
])
def test_options_a_remote_client_may_not_set(client, strategy, options, code):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=f"{strategy}/qa", messages=QUESTION,
                                       extra_body={"reasonlab": {"options": options}})
    err = info.value.response.json()["error"]
    assert err["code"] == code and err["param"] == f"reasonlab.options.{next(iter(options))}"


def test_call_budget_is_enforced(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"default": "The answer is 1."}), encoding="utf-8")
    app = create_app(ServerConfig(models=[f"scripted:{path}"], max_calls=1))
    with LiveServer(app) as srv:
        client = openai.OpenAI(base_url=srv.url + "/v1", api_key="x", max_retries=0)
        with pytest.raises(openai.BadRequestError) as info:
            client.chat.completions.create(model="zero-shot-cot/m", messages=QUESTION)  # needs 2 calls
        assert info.value.response.json()["error"]["code"] == "budget_exceeded"


def test_model_failure_is_503_and_an_error_event_when_streaming(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"replies": []}), encoding="utf-8")  # every call fails: no reply left
    app = create_app(ServerConfig(models=[f"scripted:{path}"]))
    with LiveServer(app) as srv:
        client = openai.OpenAI(base_url=srv.url + "/v1", api_key="x", max_retries=0)
        with pytest.raises(openai.APIStatusError) as info:
            client.chat.completions.create(model="direct/empty", messages=QUESTION)
        assert info.value.status_code == 503 and info.value.response.json()["error"]["code"] == "model_error"
        with pytest.raises(openai.APIError, match="no reply left"):
            for _chunk in client.chat.completions.create(model="direct/empty", messages=QUESTION, stream=True):
                pass


@pytest.mark.parametrize("raw, code", [
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "100000"}',
     "invalid_type"),
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "hi"}], "max_tokens": NaN}', "invalid_json"),
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "hi"}], "temperature": Infinity}',
     "invalid_json"),
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "hi"}], "temperature": 1e999}',
     "invalid_value"),
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "hi"}], "max_tokens": [5]}', "invalid_type"),
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "hi"}], "stop": 5}', "invalid_type"),
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "hi"}], "seed": true}', "invalid_type"),
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}', "invalid_type"),
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "\\ud800 hi"}]}', "invalid_unicode"),
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "hi"}], "x": ' + b"[" * 5000 + b"]" * 5000
     + b"}", "invalid_json"),
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "hi"}], "seed": 1' + b"0" * 5000 + b"}",
     "invalid_json"),
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "hi"}], "reasonlab": {"bogus": 1}}',
     "invalid_value"),
    (b'{"model": "direct/qa", "messages": [{"role": "user", "content": "hi"}], '
     b'"reasonlab": {"options": {"max_tokens": {"a": 1}}}}', "invalid_type"),
    (b'{"prompt": "hi", "history": "nope"}', "invalid_type"),
])
def test_adversarial_bodies_are_4xx_with_a_json_error(server, raw, code):
    path = "/" if raw.startswith(b'{"prompt"') else "/v1/chat/completions"
    r = httpx.post(server.url + path, content=raw, headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code


def test_top_level_max_tokens_over_the_limit_names_its_field(server):
    body = {"model": "direct/qa", "messages": QUESTION, "max_completion_tokens": 5000}
    r = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["param"] == "max_completion_tokens"


def test_stop_strings_reach_the_chat_strategy(server):
    body = {"model": "chat/qa", "messages": [{"role": "user", "content": "Say hello"}], "stop": "!"}
    r = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=30)
    assert r.status_code == 200
    assert r.json()["reasonlab"]["trace"]["options"]["stop"] == ["!"]


def test_events_and_responses_never_carry_bare_nan():
    from reasonlab.server.safe_json import SafeJSONResponse, dumps

    payload = {"score": float("nan"), "worst": float("-inf"), "text": "a\ud800b", "obj": object()}
    for text in (dumps(payload), SafeJSONResponse(payload).body.decode("utf-8")):
        data = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c}"))
        assert data["score"] is None and data["worst"] is None and data["text"] == "a\ufffdb"
