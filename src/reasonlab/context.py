"""RunContext: the handle a strategy uses to talk to the model.

Every call goes through `RunContext.generate`, which consults the cache per sample index, calls
the backend for what is missing, and records one `Call` per sample in the trace. Listeners
receive events as they happen (the web page, the terminal and the OpenAI stream use them):

- ``call_start`` {label, messages, params, n} before a request is sent;
- ``delta`` {label, index, text}: new text of sample `index`, as the backend produces it;
- ``call`` (a `Call` as a dict, with ``finish_reason``: stop, length, repetition, cancelled)
  when a sample is done.

The degeneration guard (models/repetition.py) is on unless turned off per run or per call; the
llama backend applies it while decoding, other backends' texts are checked here afterwards.
A set `cancel` event stops the backend's decoding at the next token where it can; the partial
samples are recorded (finish reason ``cancelled``, never cached) and `Cancelled` is raised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .cache import Cache, cache_key
from .models.base import FINISH_LOW_CONFIDENCE, Completion, GenParams, Message, Model, lowest_window_mean
from .models.repetition import FINISH_REPETITION, guard_enabled_by_default, loop_start
from .models.sequences import FINISH_SETTLED
from .trace import Call, Usage

Listener = Callable[[str, dict[str, Any]], None]


class DryRunStop(Exception):
    """Raised by a dry-run context at the first model call; carries the messages it would send."""

    def __init__(self, call: Call) -> None:
        super().__init__("dry run")
        self.call = call


class BudgetExceeded(RuntimeError):
    """More model calls than the run's budget allows."""


class Cancelled(RuntimeError):
    """The run was cancelled (client disconnected, Ctrl-C)."""


class RunContext:
    """Model access with caching, tracing, events, a call budget and cancellation."""

    def __init__(
        self,
        model: Model,
        cache: Cache | None = None,
        *,
        seed: int = 0,
        max_calls: int | None = None,
        dry_run: bool = False,
        listeners: list[Listener] | None = None,
        cancel: threading.Event | None = None,
        repetition_guard: bool | None = None,
    ) -> None:
        self.model = model
        self.repetition_guard = guard_enabled_by_default() if repetition_guard is None else repetition_guard
        self.cache = cache
        self.seed = seed
        self.max_calls = max_calls
        self.dry_run = dry_run
        self.listeners = list(listeners or [])
        self.cancel = cancel or threading.Event()
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._started = time.perf_counter()

    # -- events -------------------------------------------------------------------------
    def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Tell listeners something happened (strategies use this for votes, graph states…)."""
        for listener in self.listeners:
            listener(event, payload)

    def _check(self, n: int) -> None:
        if self.cancel.is_set():
            raise Cancelled("run cancelled")
        if self.max_calls is not None and len(self.calls) + n > self.max_calls:
            raise BudgetExceeded(f"model call budget of {self.max_calls} exceeded")

    def _record(self, **kw: Any) -> Call:
        with self._lock:
            call = Call(id=len(self.calls), model=self.model.spec, **kw)
            self.calls.append(call)
        if self.listeners:  # building the payload costs more than the call itself on fast backends
            self.emit("call", call.to_dict())
        return call

    # -- model access -------------------------------------------------------------------
    def generate(
        self,
        messages: list[Message],
        *,
        n: int = 1,
        label: str = "",
        temperature: float = 0.0,
        max_tokens: int = 256,
        stop: list[str] | tuple[str, ...] | str | None = None,
        top_p: float = 1.0,
        sample_offset: int = 0,
        tools: list[dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
        grammar: str | None = None,
        guard: bool | None = None,
        settle: Callable[[dict[int, Completion]], bool] | None = None,
        min_confidence: float | None = None,
        confidence_window: int = 16,
    ) -> list[Completion]:
        """Return n completions (samples sample_offset … sample_offset+n-1) of one request.

        `grammar` (GBNF, root rule `root`) constrains the output on backends that support it.
        `guard` overrides the run's degeneration guard for this call (False: let it loop).
        `settle(samples so far by index)` -> True stops drawing: on a backend that decodes the n
        samples together (`can_settle`) it is asked as each sample ends and the rest stop at once;
        samples not drawn come back with finish reason ``settled`` (empty or partial, never cached).
        `min_confidence` (DeepConf's online stop): a sample whose last `confidence_window` tokens'
        mean log-probability falls below it ends with finish reason ``low_confidence`` — while
        decoding on a backend that can (`cuts_low_confidence`), else marked after the fact from the
        returned token log-probabilities (the tokens were spent).
        """
        params = GenParams.make(temperature=temperature, max_tokens=max_tokens, stop=stop, top_p=top_p,
                                seed=self.seed, grammar=grammar,
                                guard=self.repetition_guard if guard is None else guard,
                                min_confidence=min_confidence, confidence_window=confidence_window)
        messages = [dict(m) for m in messages]
        self._check(n)
        if self.listeners:
            self.emit("call_start", {"label": label, "messages": messages, "params": params.to_dict(), "n": n})
        if self.dry_run:
            call = Call(id=0, label=label, messages=messages, params=params.to_dict(), sample_index=0,
                        output="", prompt_tokens=0, completion_tokens=0, seconds=0.0, model=self.model.spec)
            raise DryRunStop(call)
        indices = [sample_offset + j for j in range(n)]
        results: dict[int, Completion] = {}
        keys = ({i: cache_key(self.model.identity, messages, params, i, tools) for i in indices}
                if self.cache is not None else {})
        if self.cache is not None:
            for i in indices:
                hit = self.cache.get(keys[i])
                if hit is not None:
                    results[i] = hit
        for i in indices:
            if i in results:
                c = results[i]
                self._record(label=label, messages=messages, params=params.to_dict(), sample_index=i,
                             output=c.text, prompt_tokens=c.prompt_tokens,
                             completion_tokens=c.completion_tokens, seconds=0.0, cached=True,
                             tool_calls=c.tool_calls, meta=dict(meta or {}), finish_reason=c.finish_reason)
        missing = [i for i in indices if i not in results]
        # Contiguous runs of missing indices go to the backend as one batched request each.
        runs: list[list[int]] = []
        for i in missing:
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        on_delta = None
        if self.listeners:
            def on_delta(index: int, text: str) -> None:
                self.emit("delta", {"label": label, "index": index, "text": text})
        kw: dict[str, Any] = {}
        if settle is not None and self.can_settle:
            done = dict(results)

            def on_done(index: int, c: Completion) -> bool:  # on the backend's thread, as samples end
                done[index] = c
                return settle(dict(done))

            kw["on_done"] = on_done
        for run in runs:
            if self.cancel.is_set():
                raise Cancelled("run cancelled")
            if settle is not None and settle(dict(results)):
                for i in run:
                    results[i] = Completion("", 0, 0, FINISH_SETTLED)
                continue
            t0 = time.perf_counter()
            outs = self.model.generate_stream(messages, params, n=len(run), sample_offset=run[0], tools=tools,
                                              on_delta=on_delta, cancel=self.cancel, **kw)
            secs = time.perf_counter() - t0
            if len(outs) != len(run):
                raise RuntimeError(f"{self.model.spec}: asked for {len(run)} samples, got {len(outs)}")
            for k, (i, c) in enumerate(zip(run, outs, strict=True)):
                if params.guard and not self.model.guards_repetition:
                    _guard_after(c)
                if params.min_confidence is not None and not self.model.cuts_low_confidence:
                    _floor_after(c, params.min_confidence, params.confidence_window)
                results[i] = c
                if c.finish_reason == FINISH_SETTLED and not c.completion_tokens:
                    continue  # never started: nothing to record
                if self.cache is not None and c.finish_reason not in ("cancelled", FINISH_SETTLED):
                    self.cache.put(keys[i], c)
                self._record(label=label, messages=messages, params=params.to_dict(), sample_index=i,
                             # a batch decodes its shared prompt once: count it on the first sample only
                             output=c.text, prompt_tokens=c.prompt_tokens if k == 0 else 0,
                             completion_tokens=c.completion_tokens, seconds=secs / len(run),
                             tool_calls=c.tool_calls, meta={**(meta or {}), "batch": len(run)},
                             finish_reason=c.finish_reason)
            if self.cancel.is_set() or any(c.finish_reason == "cancelled" for c in outs):
                raise Cancelled("run cancelled")
        return [results[i] for i in indices]

    @property
    def can_settle(self) -> bool:
        """The backend decodes a call's samples together and can stop the rest once `settle` says so."""
        return bool(getattr(self.model, "stops_when_settled", False))

    def complete(self, messages: list[Message], **kw: Any) -> str:
        """One greedy-by-default completion's text."""
        return self.generate(messages, n=1, **kw)[0].text

    def logprobs(self, messages: list[Message], continuation: str, *, label: str = "score") -> list[float]:
        """Per-token log-probabilities of `continuation` after `messages` (recorded in the trace)."""
        self._check(1)
        t0 = time.perf_counter()
        scores = self.model.logprobs(messages, continuation)
        self._record(label=label, messages=[dict(m) for m in messages], params={"continuation": continuation},
                     sample_index=0, output=continuation, prompt_tokens=0,
                     completion_tokens=len(scores), seconds=time.perf_counter() - t0, kind="logprobs",
                     meta={"logprobs": scores})
        return scores

    # -- accounting ---------------------------------------------------------------------
    def usage(self) -> Usage:
        u = Usage(seconds=time.perf_counter() - self._started)
        for c in self.calls:
            if c.finish_reason == FINISH_REPETITION:
                u.repetitions += 1
            if c.cached:
                u.cached_calls += 1
                u.cached_prompt_tokens += c.prompt_tokens
                u.cached_completion_tokens += c.completion_tokens
                continue
            u.calls += 1
            u.prompt_tokens += c.prompt_tokens
            u.completion_tokens += c.completion_tokens
        return u


def _guard_after(c: Completion) -> None:
    """The degeneration guard after the fact, for backends that do not apply it while decoding:
    a text whose end loops is cut where the guard would have stopped it."""
    if c.finish_reason in ("cancelled", FINISH_REPETITION) or c.tool_calls:
        return
    cut = loop_start(c.text)
    if cut is not None:
        c.text, c.finish_reason = c.text[:cut], FINISH_REPETITION


def _floor_after(c: Completion, floor: float, window: int) -> None:
    """The confidence floor after the fact, for backends that do not apply it while decoding: a
    completion with a full window of token log-probabilities whose mean is below `floor` is marked
    ``low_confidence`` (its text and token count stay: they were generated)."""
    lp = c.token_logprobs
    if c.finish_reason in ("cancelled", FINISH_SETTLED) or not lp or len(lp) < window:
        return
    if lowest_window_mean([float(x) for x in lp], window) < floor:
        c.finish_reason = FINISH_LOW_CONFIDENCE
