"""Model-layer logic without a real model: the degeneration guard, delta events, cancellation,
finish reasons in the trace, thread settings, the gate letting batching backends run concurrently,
and the one-sample-at-a-time text streams of the terminal and the OpenAI endpoint."""

from __future__ import annotations

import os
import threading

import pytest

from reasonlab.cache import Cache
from reasonlab.context import Cancelled, RunContext
from reasonlab.models.base import Completion, GenParams, Model, ModelError
from reasonlab.models.repetition import DEFAULT_GUARD, loop_start
from reasonlab.models.scripted import ScriptedModel
from reasonlab.models.threads import default_threads, set_threads

LOOP = "Let me compute.\n" + "total_ducks_sold = total_ducks_sold * 2\n" * 30


# -- the guard --------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "x = x * 2\n" * 30, "a" * 300, "the same sentence again. " * 20, "A\nB is a longer line\n" * 20,
    "".join(f"noise {i}\nStep: compute the value of it\n" for i in range(2, 9)),
])
def test_guard_sees_loops(text):
    assert DEFAULT_GUARD.looping(text)


@pytest.mark.parametrize("text", [
    " ".join(f"word{i}" for i in range(200)),
    "\n".join(f"print(value_{i} + {i})" for i in range(60)),
    "The answer is 1,000,000,000.\n" + "| a | b |\n|---|---|\n| 1 | 2 |\n",
    "def f(x):\n    return x\n\n" * 3,  # a short repetition, well under the span
    "0." + "3" * 40,
])
def test_guard_leaves_ordinary_text_alone(text):
    assert not DEFAULT_GUARD.looping(text)


def test_loop_start_cuts_where_the_guard_would_have_stopped():
    cut = loop_start(LOOP)
    assert cut is not None and cut < len(LOOP) and DEFAULT_GUARD.looping(LOOP[:cut])
    assert not DEFAULT_GUARD.looping(LOOP[:cut - 8])
    assert loop_start(LOOP + "\nSo the answer is 12, and here is why that is true.") == cut  # stopped there
    assert loop_start("The answer is 12.\n" * 2) is None


def test_scripted_loop_ends_as_repetition_in_completion_call_and_usage():
    ctx = RunContext(ScriptedModel(replies=[LOOP]))
    [c] = ctx.generate([{"role": "user", "content": "q"}], max_tokens=512)
    assert c.finish_reason == "repetition" and len(c.text) < len(LOOP)
    assert ctx.calls[0].finish_reason == "repetition" and ctx.calls[0].to_dict()["finish_reason"] == "repetition"
    assert ctx.usage().repetitions == 1


def test_guard_can_be_turned_off_per_call_per_run_and_by_environment(monkeypatch):
    ctx = RunContext(ScriptedModel(default=LOOP))
    [c] = ctx.generate([{"role": "user", "content": "q"}], guard=False)
    assert c.finish_reason == "stop" and c.text == LOOP
    assert RunContext(ScriptedModel(default=LOOP), repetition_guard=False).complete([]) == LOOP
    monkeypatch.setenv("REASONLAB_REPETITION_GUARD", "0")
    assert RunContext(ScriptedModel(default=LOOP)).complete([]) == LOOP


def test_guard_flag_keeps_old_cache_keys():
    assert "guard" not in GenParams().to_dict() and GenParams(guard=False).to_dict()["guard"] is False


# -- deltas and the call event ----------------------------------------------------------------
def test_delta_events_carry_label_sample_index_and_text():
    seen = []
    ctx = RunContext(ScriptedModel(replies=["one", "two"]), listeners=[lambda e, p: seen.append((e, p))])
    ctx.generate([{"role": "user", "content": "q"}], n=2, label="reasoning", sample_offset=3)
    deltas = [p for e, p in seen if e == "delta"]
    assert deltas == [{"label": "reasoning", "index": 3, "text": "one"}, {"label": "reasoning", "index": 4, "text": "two"}]
    calls = [p for e, p in seen if e == "call"]
    assert [c["finish_reason"] for c in calls] == ["stop", "stop"]
    assert [e for e, _ in seen] == ["call_start", "delta", "delta", "call", "call"]


class Streaming(Model):
    """Yields words one by one; honours cancel like the llama engine does."""

    spec = identity = "streaming-fake"
    streams = True

    def __init__(self, words: int = 50, cancel_after: int | None = None) -> None:
        self.words, self.cancel_after = words, cancel_after

    def generate_stream(self, messages, params, n=1, sample_offset=0, tools=None, *, on_delta=None, cancel=None):
        out = []
        for j in range(n):
            text, reason = "", "length"
            for k in range(self.words):
                if cancel is not None and cancel.is_set():
                    reason = "cancelled"
                    break
                text += f"w{k} "
                if on_delta:
                    on_delta(sample_offset + j, f"w{k} ")
                if self.cancel_after is not None and k + 1 == self.cancel_after and cancel is not None:
                    cancel.set()  # as if the user pressed Stop here
            out.append(Completion(text, 5, len(text.split()), reason))
        return out

    def generate(self, messages, params, n=1, sample_offset=0, tools=None):
        return self.generate_stream(messages, params, n, sample_offset, tools)


def test_cancel_keeps_partial_text_marked_cancelled_and_never_cached(tmp_path):
    seen = []
    cache = Cache(tmp_path / "c.sqlite")
    ctx = RunContext(Streaming(cancel_after=4), cache, listeners=[lambda e, p: seen.append((e, p))])
    with pytest.raises(Cancelled):
        ctx.generate([{"role": "user", "content": "q"}])
    [call] = ctx.calls
    assert call.finish_reason == "cancelled" and call.output == "w0 w1 w2 w3 "
    assert "".join(p["text"] for e, p in seen if e == "delta") == call.output
    again = RunContext(Streaming(), cache)
    assert again.generate([{"role": "user", "content": "q"}])[0].finish_reason == "length"  # recomputed
    assert not again.calls[0].cached


def test_a_cancelled_context_calls_nothing():
    cancel = threading.Event()
    cancel.set()
    model = ScriptedModel(default="x")
    with pytest.raises(Cancelled):
        RunContext(model, cancel=cancel).generate([{"role": "user", "content": "q"}])
    assert model.received == []


# -- threads ----------------------------------------------------------------------------------
def test_thread_count_from_environment_and_option(monkeypatch):
    monkeypatch.delenv("REASONLAB_THREADS", raising=False)
    assert default_threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("REASONLAB_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("REASONLAB_THREADS", "many")
    with pytest.raises(ModelError, match="REASONLAB_THREADS"):
        default_threads()
    set_threads(2)
    assert default_threads() == 2


def test_cpu_monitor_counts_only_other_processes_cpu(monkeypatch, tmp_path):
    import reasonlab.models.threads as th

    clock, own = [100.0], [5.0]
    stat = tmp_path / "stat"
    cpus = sorted(os.sched_getaffinity(0))[:2]

    def write(busy_ticks):  # user nice system idle iowait irq softirq steal, per CPU
        lines = ["cpu  0 0 0 0 0 0 0 0"] + [f"cpu{c} {busy_ticks} 0 0 999 7 0 0 0" for c in cpus]
        stat.write_text("\n".join(lines) + "\n")

    monkeypatch.setattr(th.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(th.time, "process_time", lambda: own[0])
    monkeypatch.setattr(th.os, "sched_getaffinity", lambda _pid: set(cpus))
    write(1000)
    mon = th.CpuMonitor(str(stat))
    mon.tick = 0.01
    assert mon.update() is None  # no window measured yet
    clock[0] += 1.0
    own[0] += 0.5 * len(cpus)  # this process: half of every CPU; the CPUs: fully busy
    write(1000 + 100)
    assert mon.update() == pytest.approx(0.5 * len(cpus))
    clock[0] += 0.1
    assert mon.update() == pytest.approx(0.5 * len(cpus))  # within a window: the last figure
    clock[0] += 0.9
    write(1100 + 100)
    own[0] += 1.0 * len(cpus)  # now this process used everything: nobody else ran
    assert mon.update() == pytest.approx(0.25 * len(cpus))  # smoothed over two windows
    assert th.CpuMonitor(str(tmp_path / "missing")).update() is None


def test_thread_count_follows_what_other_processes_use():
    from reasonlab.models.threads import threads_for

    assert threads_for(2, 0.0) == 2 and threads_for(2, 0.29) == 2  # quiet: every core, spinning
    assert threads_for(2, 0.35) == 1 and threads_for(2, 1.0) == 1  # one core taken: one thread
    assert threads_for(2, 1.6) == 3  # every core busy: more threads than cores (short spins)
    assert threads_for(8, 2.0) == 6 and threads_for(8, 0.1) == 8
    assert threads_for(1, 0.9) == 1


def test_thread_tuner_uses_the_monitor_and_marks_slow_steps(monkeypatch):
    import reasonlab.models.threads as th

    clock = [100.0]
    monkeypatch.setattr(th.time, "monotonic", lambda: clock[0])

    class Fixed:
        others: float | None = 0.0

        def update(self):
            return self.others

    mon = Fixed()
    tuner = th.ThreadTuner(2, monitor=mon)  # type: ignore[arg-type]
    assert tuner.choose("gen", 1) == 2
    tuner.record("gen", 1, 2, 0.01)
    mon.others = 1.0  # a second model process took a core
    assert tuner.choose("gen", 1) == 1
    tuner.record("gen", 1, 1, 0.02)
    mon.others = None  # unknown (no /proc): n threads, unless steps at n turn slow
    assert tuner.choose("gen", 1) == 2
    tuner.record("gen", 1, 2, 0.2)  # 20x the best seen: something the monitor cannot see
    assert tuner.choose("gen", 1) == 3
    tuner.record("prompt", 300, 3, 1.0)
    clock[0] += th.SLOW_HOLD_S + 0.1
    assert tuner.choose("gen", 1) == 2
    assert tuner.chosen == {2: 2, 1: 1, 3: 1}


def test_thread_tuner_is_fixed_when_the_count_was_given():
    from reasonlab.models.threads import ThreadTuner

    fixed = ThreadTuner(4, fixed=True)
    assert fixed.candidates == [4] and fixed.monitor is None and fixed.choose("gen", 8) == 4
    assert ThreadTuner(2).candidates == [2, 3, 1]


def test_threads_option_on_commands_that_load_models():
    from click.testing import CliRunner

    from reasonlab.cli import cli as main

    for cmd in (["ask"], ["chat"], ["eval"], ["graph", "run"], ["plan"], ["serve"]):
        r = CliRunner().invoke(main, [*cmd, "--help"])
        if r.exit_code == 2 and "No such command" in r.output:
            continue
        assert "--threads" in r.output, cmd
    r = CliRunner().invoke(main, ["ask", "q", "--threads", "0", "-m", "scripted:nowhere.json"])
    assert r.exit_code == 2


def test_settle_stops_the_other_samples_and_they_are_never_cached(tmp_path):
    answers = ["7", "7", "7", "3", "7", "7", "7", "7"]
    model = ScriptedModel(fn=lambda _m, _p, i: f"so the answer is {answers[i]}", settles=True)
    ctx = RunContext(model, Cache(tmp_path / "c.sqlite"), seed=0)
    seen = []

    def settle(done):
        seen.append(sorted(done))
        return len(done) >= 3

    outs = ctx.generate([{"role": "user", "content": "q"}], n=8, temperature=0.7, settle=settle)
    assert [c.finish_reason for c in outs] == ["stop"] * 3 + ["settled"] * 5
    assert seen[-1] == [0, 1, 2] and len(ctx.calls) == 3  # never-started samples are not recorded
    again = RunContext(model, Cache(tmp_path / "c.sqlite"), seed=0)
    outs = again.generate([{"role": "user", "content": "q"}], n=8, temperature=0.7)
    assert sum(c.cached for c in again.calls) == 3 and all(c.finish_reason == "stop" for c in outs)
    plain = RunContext(ScriptedModel(default="x"))  # a backend without on_done: only between runs
    assert not plain.can_settle
    assert [c.finish_reason for c in plain.generate([{"role": "user", "content": "q"}], n=2,
                                                    settle=lambda d: len(d) >= 1)] == ["stop", "stop"]


@pytest.mark.parametrize(("answers", "options", "drawn", "waves"), [
    (["7"] * 8, {"early_stop": True}, 5, 2),  # 4 of 4 agree (4 more could tie); the 5th of the next wave settles
    (["7", "3"] * 4, {"early_stop": True}, 8, 2),  # never settled: all k, in two waves
    (["7"] * 8, {"confidence": "mean", "settle": 0.6, "settle_rule": "share", "warmup": 3}, 3, 1),
    (["7"] * 8, {"settle": 0.95, "settle_rule": "beta", "warmup": 3}, 4, 2),  # P(majority) 0.9375 at 3, 0.969 at 4
    (["7", "3", *["7"] * 6], {"settle": 0.95, "settle_rule": "beta", "warmup": 3}, 7, 2),  # 6 of 7: 0.965
    (["7", "3"] * 4, {"settle": 0.95, "settle_rule": "beta", "warmup": 2}, 8, 2),
])
def test_self_consistency_stops_its_waves_once_the_vote_is_settled(answers, options, drawn, waves):
    from reasonlab.api import run

    model = ScriptedModel(fn=lambda _m, _p, i: f"Adding up, the answer is {answers[i]}.", settles=True)
    r = run("What is 3 + 4?", "self-consistency", model, cache=False, samples=8, exemplars="none", **options)
    assert r.details["early_stop"]["drawn"] == drawn and r.details["early_stop"]["rounds"] == waves
    assert r.answer == "7"
    assert len([c for c in r.calls if c.label == "sample"]) == drawn
    sizes = r.details["early_stop"]["round_sizes"]
    assert sizes[0] == options.get("warmup", 4) and sum(sizes) == (8 if waves == 2 else sizes[0])
