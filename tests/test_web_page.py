"""The web page in a real headless Chromium (Debian `chromium`, driven by Playwright; no downloads):
the embedded model end to end, every kind of live event (streamed text included), stopping a run,
conversations (no empty pile-up, the picker follows the selected one), copy/regenerate, API keys.
Each strategy's own view is in test_web_views.py."""

from __future__ import annotations

import json
import time

import pytest
from web_support import ARTIFACTS, PHONE, broken_headers, collect_errors, launch_browser, overflow

from reasonlab.context import RunContext
from reasonlab.problem import Prediction, Problem
from reasonlab.server import ServerConfig
from reasonlab.server.app import create_app
from reasonlab.server.testing import LiveServer
from reasonlab.strategies.base import REGISTRY, Options, Strategy, register

pytestmark = [pytest.mark.browser, pytest.mark.server]

@pytest.fixture(scope="module")
def browser():
    yield from launch_browser()


_collect_errors = collect_errors


@pytest.mark.embedded
def test_question_with_embedded_model(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "cache.sqlite"))
    # one thread: on a shared, busy CPU llama.cpp's 2-thread default is several times slower
    app = create_app(ServerConfig(models=["smollm2"], default_strategy="zero-shot-cot", threads=1))
    with LiveServer(app) as srv:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = _collect_errors(page)
        page.goto(srv.url + "/")
        page.wait_for_selector("#strategy option[value='zero-shot-cot']", state="attached")
        page.select_option("#strategy", "zero-shot-cot")
        page.click("#toggle-options")
        page.fill("#opt-max_tokens", "32")
        page.fill("#opt-extract_tokens", "8")
        page.fill("#input", "A pen costs 3 dollars. How much do 4 pens cost?")
        page.keyboard.press("Enter")
        page.wait_for_selector(".turn.assistant .answer:not(.pending)", timeout=120_000)
        answer = page.inner_text(".turn.assistant .answer")
        assert answer.strip() and not answer.startswith("error")
        assert page.locator(".turn.assistant .call").count() >= 2  # reasoning + extraction, both traced
        assert page.inner_text(".turn.assistant .thought").startswith("Thought for")
        assert "zero-shot-cot" in page.inner_text(".turn.assistant .thought")
        page.screenshot(path=str(ARTIFACTS / "web_embedded.png"), full_page=True)

        # the conversation survives a reload (sessionStorage), with its trace
        page.reload()
        page.wait_for_selector(".turn.assistant .answer:not(.pending)")
        assert page.locator(".turn.user").count() == 1
        assert page.locator(".turn.assistant .call").count() >= 2
        stored = json.loads(page.evaluate("sessionStorage.getItem('reasonlab.conversations')"))
        assert stored[0]["messages"][1]["role"] == "assistant"

        # a phone-sized screen: sidebar hidden behind a button, everything still usable
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                 has_touch=True)
        phone.goto(srv.url + "/")
        phone.wait_for_selector("#strategy option[value='zero-shot-cot']", state="attached")
        assert not phone.is_visible("#new-chat") or phone.evaluate(
            "document.querySelector('#sidebar').getBoundingClientRect().right <= 0")
        phone.screenshot(path=str(ARTIFACTS / "web_phone.png"), full_page=False)
        assert overflow(phone) == [] and broken_headers(phone) == []
        phone.click("#toggle-sidebar")
        phone.wait_for_timeout(300)
        assert phone.evaluate("document.querySelector('#sidebar').getBoundingClientRect().left >= 0")
        assert not errors, errors


# -- every kind of strategy event, from a scripted strategy -----------------------------------------
@register
class _Showcase(Strategy):
    """Emits the events other strategies emit (votes, graph nodes, programs, plan rounds, streamed text
    with finish reasons) plus an unknown one."""

    name = "test-web-showcase"
    description = "test only: emits every kind of event"
    Options = Options

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        graph = {"nodes": [{"id": "a", "title": "How many pens?", "status": "pending"},
                           {"id": "b", "title": "Price of one pen?", "status": "pending"},
                           {"id": "total", "title": "Total cost", "status": "pending"}],
                 "edges": [{"from": "a", "to": "total"}, {"from": "b", "to": "total"}]}
        ctx.emit("graph", graph)
        # text streamed token by token (the engine's `delta` events), then a call that looped
        ctx.emit("call_start", {"label": "stream", "messages": [], "params": {}, "n": 1})
        for piece in ("Four ", "pens ", "pens ", "pens "):
            ctx.emit("delta", {"label": "stream", "index": 0, "text": piece})
        ctx.emit("call", {"id": 99, "label": "stream", "sample_index": 0, "messages": [], "output": "Four pens pens pens ",
                          "prompt_tokens": 3, "completion_tokens": 4, "seconds": 0.1, "finish_reason": "repetition"})
        texts = [c.text for c in ctx.generate([{"role": "user", "content": problem.text}], n=3, label="sample",
                                              temperature=0.7)]
        ctx.emit("vote", {"counts": {"12": 2, "7": 1}, "winner": "12", "drawn": 3, "of": 3})
        for node, answer in (("a", 4), ("b", 3), ("total", 12)):
            ctx.emit("node", {"id": node, "status": "running"})
            ctx.emit("node", {"id": node, "status": "done", "answer": answer})
        ctx.emit("program", {"round": 0, "code": "print(4 * 3)", "stdout": "12\n", "answer": "12"})
        ctx.emit("plan_round", {"round": 1, "valid": False, "output": "(pick-up a)",
                                "critique": "step 1: precondition clear(a) unmet", "prompt_tokens": 10,
                                "completion_tokens": 5})
        ctx.emit("plan_round", {"round": 2, "valid": True, "output": "(unstack b a)\n(pick-up a)",
                                "critique": None, "prompt_tokens": 12, "completion_tokens": 6})
        ctx.emit("mystery_event", {"something": "new", "score": 0.5})
        final = dict(graph, nodes=[dict(n, status="done") for n in graph["nodes"]])
        return Prediction(answer="12", strict="12", reasoning=texts[0],
                          details={"votes": {"12": 2, "7": 1}, "winner": "12", "graph": final,
                                   "extra_table": [{"k": "x", "v": 1}, {"k": "y", "v": 2}]})


@pytest.fixture(scope="module")
def showcase_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("web") / "demo.json"
    path.write_text(json.dumps({"default": "The total is 12."}), encoding="utf-8")
    app = create_app(ServerConfig(models=[f"scripted:{path}"], default_strategy="direct"))
    with LiveServer(app) as srv:
        yield srv
    REGISTRY.pop(_Showcase.name, None)


def test_page_renders_votes_graph_programs_plans(browser, showcase_server):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors = _collect_errors(page)
    page.goto(showcase_server.url + "/")
    page.wait_for_selector(f"#strategy option[value='{_Showcase.name}']", state="attached")
    page.select_option("#strategy", _Showcase.name)
    page.fill("#input", "4 pens at 3 dollars each: total?")
    page.click("#send")
    page.wait_for_selector(".turn.assistant .answer:not(.pending)")
    assert page.inner_text(".turn.assistant .answer .value") == "12"
    assert page.locator(".turn.assistant .call").count() == 4
    page.click(".turn.assistant .calls-box > summary")  # folded once the answer is there
    looped = page.locator(".turn.assistant .call.warn")
    assert looped.count() == 1 and "stopped: looping" in looped.inner_text()
    assert looped.locator("pre").last.inner_text().strip() == "Four pens pens pens"  # the streamed card, completed
    assert page.locator(".turn.assistant .call.running").count() == 0
    assert page.inner_text(".votes tr.winner td >> nth=0") == "12"
    assert page.locator(".graph svg g.node").count() == 3
    assert page.locator(".graph svg g.node.done").count() == 3
    assert page.locator(".graph svg path.edge").count() == 2
    assert "print(4 * 3)" in page.inner_text(".panel.program")  # live-only panels stay after the run
    assert "precondition clear(a) unmet" in page.inner_text(".plans .critique")
    assert page.locator(".plans .badge.valid").count() == 1
    assert "mystery_event" in page.inner_text(".events") and "new" in page.inner_text(".events")
    page.click(".turn.assistant .more summary")
    assert "extra_table" in page.inner_text(".turn.assistant .more")
    page.screenshot(path=str(ARTIFACTS / "web_events.png"), full_page=True)
    page.locator(".plans").screenshot(path=str(ARTIFACTS / "web_events_plans.png"))
    page.set_viewport_size(PHONE)  # the same conversation on a phone
    page.wait_for_timeout(200)
    assert overflow(page) == []  # no sideways scroll
    assert broken_headers(page) == []
    page.screenshot(path=str(ARTIFACTS / "web_events_phone.png"))
    page.set_viewport_size({"width": 1280, "height": 1000})

    # model text is never interpreted as HTML
    page.fill("#input", "<img src=x onerror=alert(1)>")
    page.click("#send")
    page.locator(".turn.assistant .answer:not(.pending)").nth(1).wait_for()
    assert page.locator(".turn.user .bubble img").count() == 0
    assert not errors, errors


def test_conversations_copy_and_regenerate(browser, tmp_path):
    """One empty conversation at most; the picker follows the selected conversation; regenerate asks again."""
    path = tmp_path / "conv.json"
    path.write_text(json.dumps({"replies": ["The answer is 5.", "The answer is 6.", "The answer is 7."],
                                "default": "The answer is 8."}), encoding="utf-8")
    app = create_app(ServerConfig(models=[f"scripted:{path}"], default_strategy="direct"))
    with LiveServer(app) as srv:
        ctx = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = ctx.new_page()
        errors = _collect_errors(page)
        page.goto(srv.url + "/")
        page.wait_for_selector("#strategy option[value='zero-shot-cot']", state="attached")
        for _ in range(3):
            page.click("#new-chat")
        assert page.locator("#conversations li").count() == 1  # no pile of empty "New chat"s

        page.select_option("#strategy", "direct")
        page.fill("#input", "2 + 3?")
        page.click("#send")
        page.wait_for_selector(".turn.assistant .answer:not(.pending)")
        assert page.inner_text(".turn.assistant .answer .value") == "5"
        assert page.inner_text(".turn.assistant .calls-box > summary").startswith("1 model call ")  # not "1 calls"

        page.click("#new-chat")
        page.select_option("#strategy", "zero-shot-cot")
        page.fill("#input", "3 + 3?")
        page.click("#send")
        page.wait_for_selector(".turn.assistant .answer:not(.pending)")
        assert page.locator("#conversations li").count() == 2
        page.click("#conversations li:nth-child(2) button.open")  # back to the first conversation
        assert page.input_value("#strategy") == "direct"
        page.click("#conversations li:nth-child(1) button.open")
        assert page.input_value("#strategy") == "zero-shot-cot"

        page.click("#conversations li:nth-child(2) button.open")
        page.click(".turn.assistant button.copy")
        page.wait_for_selector(".turn.assistant button.copy:text-is('Copied')")  # no eval: the page's CSP forbids it
        assert page.evaluate("navigator.clipboard.readText()").startswith("Answer: 5")
        page.click(".turn.assistant button.regenerate")
        page.wait_for_selector(".turn.assistant .answer:not(.pending)")
        page.wait_for_selector(".turn.assistant .answer .value:text-is('8')")
        assert page.locator(".turn.user").count() == 1 and page.locator(".turn.assistant").count() == 1
        stored = json.loads(page.evaluate("sessionStorage.getItem('reasonlab.conversations')"))
        assert [len(c["messages"]) for c in stored] == [2, 2]

        # on a phone every option is explained in visible text (no tooltips there)
        page.set_viewport_size(PHONE)
        page.select_option("#strategy", "self-consistency")
        page.click("#toggle-options")
        help_text = page.locator("#options-form .option .help").first
        assert help_text.is_visible() and len(help_text.inner_text()) > 10
        assert overflow(page) == [] and broken_headers(page) == []
        page.screenshot(path=str(ARTIFACTS / "web_options_phone.png"))
        assert not errors, errors
        ctx.close()


def test_stop_button_cancels_the_run_on_the_server(browser, tmp_path):
    path = tmp_path / "slow.json"
    path.write_text(json.dumps({"default": "The answer is 4.", "delay_s": 1.5}), encoding="utf-8")
    app = create_app(ServerConfig(models=[f"scripted:{path}"], default_strategy="zero-shot-cot"))
    service = app.state.service
    with LiveServer(app) as srv:
        page = browser.new_page()
        page.goto(srv.url + "/")
        page.wait_for_selector("#strategy option[value='zero-shot-cot']", state="attached")
        page.fill("#input", "What is 2 + 2?")
        page.click("#send")
        page.wait_for_selector(".turn.assistant .call.running")  # call_start arrived live
        page.click("#stop")
        page.wait_for_selector(".turn.assistant .answer.error")
        assert "stopped" in page.inner_text(".turn.assistant .answer")
        assert page.input_value("#input") == "What is 2 + 2?"  # the question is back in the box
        deadline = time.monotonic() + 10
        while service.queue.snapshot()["cancelled"] < 1:
            assert time.monotonic() < deadline, service.stats()
            time.sleep(0.05)
        time.sleep(2)
        assert len(service.models["slow"].received) == 1  # the extraction call never ran


GRAPH_SCRIPT = {
    "by_prompt": {"Answer this sub-question": "The answer is 4.",
                  "5 pens cost": ["So it is 10. The answer is 10.", "The answer is 10.",
                                  "I think 11. The answer is 11."]},
    "default": json.dumps({"nodes": [
        {"id": "pens", "ask": "How many pens are bought?"},
        {"id": "price", "ask": "What does one pen cost?"},
        {"id": "total", "ask": "What is the total cost?", "after": ["pens", "price"]}]}),
}


def test_page_with_real_graph_and_self_consistency_strategies(browser, tmp_path):
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(GRAPH_SCRIPT), encoding="utf-8")
    app = create_app(ServerConfig(models=[f"scripted:{path}"], default_strategy="graph"))
    with LiveServer(app) as srv:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        errors = _collect_errors(page)
        page.goto(srv.url + "/")
        page.wait_for_selector("#strategy option[value='graph']", state="attached")
        page.select_option("#strategy", "graph")
        page.fill("#input", "A pen costs 3 dollars. How much do 4 pens cost?")
        page.click("#send")
        page.wait_for_selector(".turn.assistant .answer:not(.pending)")
        assert page.locator(".graph svg g.node.done").count() == 3
        assert page.locator(".graph svg path.edge").count() == 2
        assert "What is the total cost?" in page.inner_html(".graph svg")
        page.locator(".turn.assistant").screenshot(path=str(ARTIFACTS / "web_graph_strategy.png"))

        page.select_option("#strategy", "self-consistency")
        page.click("#toggle-options")
        page.fill("#opt-samples", "3")
        page.fill("#input", "What do 5 pens cost at 2 dollars each?")
        page.click("#send")
        page.locator(".turn.assistant .answer:not(.pending)").nth(1).wait_for()
        second = page.locator(".turn.assistant").nth(1)
        assert second.locator(".votes tr.winner td").first.inner_text() == "10"
        assert second.locator(".answer .value").inner_text() == "10"
        assert second.locator(".call").count() == 3
        second.screenshot(path=str(ARTIFACTS / "web_self_consistency.png"))
        assert not errors, errors


def test_page_behind_an_api_key(browser, tmp_path):
    """The browser is asked for the key once (Basic auth); the page's own API requests then carry it."""
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"default": "The answer is 5."}), encoding="utf-8")
    app = create_app(ServerConfig(models=[f"scripted:{path}"], api_key="page-key", default_strategy="direct"))
    with LiveServer(app) as srv:
        ctx = browser.new_context(http_credentials={"username": "me", "password": "page-key"})
        page = ctx.new_page()
        assert page.goto(srv.url + "/").status == 200
        page.wait_for_selector("#strategy option[value='direct']", state="attached")
        page.fill("#input", "2 + 3?")
        page.click("#send")
        page.wait_for_selector(".turn.assistant .answer:not(.pending)")
        assert page.inner_text(".turn.assistant .answer .value") == "5"
        ctx.close()
