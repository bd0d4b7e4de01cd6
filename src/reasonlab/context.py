"""RunContext: the handle a strategy uses to talk to the model.

Every call goes through `RunContext.generate`, which consults the cache per sample index, calls
the backend for what is missing, and records one `Call` per sample in the trace. Listeners
receive events as they happen (the web page and `--show-prompts` use them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .cache import Cache, cache_key
from .models.base import Completion, GenParams, Message, Model

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


@dataclass
class Call:
    """One sample of one model request, as recorded in the trace."""

    id: int
    label: str
    messages: list[Message]
    params: dict[str, Any]
    sample_index: int
    output: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cached: bool = False
    model: str = ""
    kind: str = "generate"  # "generate" | "logprobs"
    tool_calls: list[dict[str, Any]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0  # samples actually computed by the model (cache hits excluded)
    cached_calls: int = 0
    seconds: float = 0.0  # wall time of the whole run

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["total_tokens"] = self.total_tokens
        return d


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
    ) -> None:
        self.model = model
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
    ) -> list[Completion]:
        """Return n completions (samples sample_offset … sample_offset+n-1) of one request.

        `grammar` (GBNF, root rule `root`) constrains the output on backends that support it.
        """
        params = GenParams.make(temperature=temperature, max_tokens=max_tokens, stop=stop,
                                top_p=top_p, seed=self.seed, grammar=grammar)
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
                             tool_calls=c.tool_calls, meta=dict(meta or {}))
        missing = [i for i in indices if i not in results]
        # Contiguous runs of missing indices go to the backend as one batched request each.
        runs: list[list[int]] = []
        for i in missing:
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        for run in runs:
            t0 = time.perf_counter()
            outs = self.model.generate(messages, params, n=len(run), sample_offset=run[0], tools=tools)
            secs = time.perf_counter() - t0
            if len(outs) != len(run):
                raise RuntimeError(f"{self.model.spec}: asked for {len(run)} samples, got {len(outs)}")
            for k, (i, c) in enumerate(zip(run, outs, strict=True)):
                results[i] = c
                if self.cache is not None:
                    self.cache.put(keys[i], c)
                self._record(label=label, messages=messages, params=params.to_dict(), sample_index=i,
                             # a batch decodes its shared prompt once: count it on the first sample only
                             output=c.text, prompt_tokens=c.prompt_tokens if k == 0 else 0,
                             completion_tokens=c.completion_tokens, seconds=secs / len(run),
                             tool_calls=c.tool_calls, meta={**(meta or {}), "batch": len(run)})
        return [results[i] for i in indices]

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
            if c.cached:
                u.cached_calls += 1
                continue
            u.calls += 1
            u.prompt_tokens += c.prompt_tokens
            u.completion_tokens += c.completion_tokens
        return u
