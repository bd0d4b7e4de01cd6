"""Shared model access: one instance per model, calls granted round-robin across clients.

Each running request talks to the model through a `GatedModel` (a thin `Model` that carries the
request's client and cancel flag). The `ModelGate` picks the next caller by client in turn and
drops callers whose request was cancelled. It lets one call reach the model at a time, except
for a backend that batches concurrent calls itself (`Model.batches_concurrent_calls`, the local
llama engine): there calls enter in turn and decode together.

Merging (on by default): sample j of a request is defined by (messages, parameters, seed,
sample index), so concurrent calls for the same prompt and parameters can share work —
a call whose samples lie inside a queued or running call's range takes its slice of that
call's completions; a call next to or overlapping a call that has *not started yet* widens
that call (one batched request of n₁+n₂ samples instead of two) and takes its slice.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from ..context import Cancelled
from ..models.base import Completion, DeltaFn, GenParams, Message, Model, ModelInfo

MAX_COMBINED = 64  # most samples one combined call may grow to


@dataclass(eq=False)
class _Shared:
    """An in-flight call (samples offset … offset+n-1) that other callers may join."""

    offset: int
    n: int
    started: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    result: list[Completion] | None = None
    error: BaseException | None = None
    abandoned: bool = False  # the leader was cancelled before running it: joiners retry

    def covers(self, offset: int, n: int) -> bool:
        return self.offset <= offset and offset + n <= self.offset + self.n

    def can_widen(self, offset: int, n: int) -> bool:
        lo, hi = min(self.offset, offset), max(self.offset + self.n, offset + n)
        touching = offset <= self.offset + self.n and self.offset <= offset + n
        return not self.started and touching and hi - lo <= MAX_COMBINED

    def widen(self, offset: int, n: int) -> None:
        hi = max(self.offset + self.n, offset + n)
        self.offset = min(self.offset, offset)
        self.n = hi - self.offset


@dataclass
class GateStats:
    calls: int = 0  # backend calls made
    merged: int = 0  # calls answered (wholly) by another caller's call
    widened: int = 0  # of those, calls that joined by widening a queued call
    cancelled_waiting: int = 0  # callers that left the gate because their request was cancelled
    busy_s: float = 0.0  # time the backend spent generating


class ModelGate:
    """Fair, cancellable, optionally merging access to one shared model."""

    def __init__(self, model: Model, *, merge_identical: bool = True, poll_s: float = 0.05) -> None:
        self.model = model
        self.merge_identical = merge_identical
        self.poll_s = poll_s
        self.stats = GateStats()
        self._cv = threading.Condition()
        self._busy = False  # a call holds the model (only for backends that do not batch)
        self._running = 0  # calls inside the model
        self._concurrent = bool(getattr(model, "batches_concurrent_calls", False))
        self._turns: OrderedDict[str, deque[object]] = OrderedDict()
        self._inflight: dict[str, list[_Shared]] = {}

    @staticmethod
    def _key(messages: list[Message], params: GenParams, tools: list[dict[str, Any]] | None) -> str:
        return json.dumps([messages, params.to_dict(), tools], sort_keys=True, default=str)

    def _my_turn(self, client: str, ticket: object) -> bool:
        if self._busy or not self._turns:
            return False
        first_client, q = next(iter(self._turns.items()))
        return first_client == client and q[0] is ticket

    def _leave(self, client: str, ticket: object, served: bool) -> None:
        q = self._turns.get(client)
        if q is None or ticket not in q:
            return
        q.remove(ticket)
        if not q:
            del self._turns[client]
        elif served:
            self._turns.move_to_end(client)  # served: this client goes to the back of the line

    def _forget(self, key: str | None, entry: _Shared) -> None:
        if key is None:
            return
        entries = self._inflight.get(key, [])
        if entry in entries:
            entries.remove(entry)
        if not entries:
            self._inflight.pop(key, None)

    def _join(self, key: str, offset: int, n: int) -> _Shared | None:
        """An in-flight call this one can share (widening a queued one if needed), or None."""
        entries = self._inflight.get(key, [])
        for e in entries:
            if e.covers(offset, n):
                return e
        for e in entries:
            if e.can_widen(offset, n):
                e.widen(offset, n)
                self.stats.widened += 1
                return e
        return None

    def generate(self, client: str, cancel: threading.Event, messages: list[Message], params: GenParams,
                 n: int, sample_offset: int, tools: list[dict[str, Any]] | None,
                 on_delta: DeltaFn | None = None) -> list[Completion]:
        key = self._key(messages, params, tools) if self.merge_identical else None
        while True:
            with self._cv:
                shared = self._join(key, sample_offset, n) if key else None
                if shared is None:  # lead a new call: register it and queue for the model
                    mine = _Shared(sample_offset, n)
                    ticket = object()
                    if key:
                        self._inflight.setdefault(key, []).append(mine)
                    self._turns.setdefault(client, deque()).append(ticket)
                    break
            # Joined another caller's call: wait for it, then take our slice.
            while not shared.done.wait(self.poll_s):
                if cancel.is_set():
                    raise Cancelled("run cancelled")
            if shared.abandoned:
                continue
            if shared.error is not None:
                raise shared.error
            with self._cv:
                self.stats.merged += 1
            start = sample_offset - shared.offset
            got = copy.deepcopy((shared.result or [])[start:start + n])
            if on_delta is not None:  # another caller decoded them: report each text whole
                for j, c in enumerate(got):
                    if c.text:
                        on_delta(sample_offset + j, c.text)
            return got

        with self._cv:
            try:
                while not self._my_turn(client, ticket):
                    if cancel.is_set():
                        self.stats.cancelled_waiting += 1
                        raise Cancelled("run cancelled")
                    self._cv.wait(self.poll_s)
            except BaseException:
                self._leave(client, ticket, served=False)
                self._forget(key, mine)
                mine.abandoned = True
                mine.done.set()
                self._cv.notify_all()
                raise
            self._busy = not self._concurrent
            self._running += 1
            mine.started = True  # from now on the range is fixed
            self._leave(client, ticket, served=True)
        t0 = time.perf_counter()
        try:
            # Only this caller's own samples stream: the widened rest belongs to callers that joined.
            def delta(index: int, text: str) -> None:
                if on_delta is not None and sample_offset <= index < sample_offset + n:
                    on_delta(index, text)

            out = self.model.generate_stream(messages, params, n=mine.n, sample_offset=mine.offset, tools=tools,
                                             on_delta=delta if on_delta is not None else None, cancel=cancel)
            if len(out) != mine.n:
                raise RuntimeError(f"{self.model.spec}: asked for {mine.n} samples, got {len(out)}")
            mine.result = out
            if any(c.finish_reason == "cancelled" for c in out):
                mine.abandoned = True  # stopped for this caller only: callers that joined run it again
            start = sample_offset - mine.offset
            return out[start:start + n]
        except BaseException as e:
            mine.error = e
            raise
        finally:
            with self._cv:
                self._busy = False
                self._running -= 1
                self.stats.calls += 1
                self.stats.busy_s += time.perf_counter() - t0
                self._forget(key, mine)
                mine.done.set()
                self._cv.notify_all()

    def snapshot(self) -> dict[str, Any]:
        with self._cv:
            return {"busy": self._running > 0, "running": self._running, "waiting": sum(len(q) for q in self._turns.values()),
                    **vars(self.stats)}


class GatedModel(Model):
    """One request's view of a shared model: calls go through the gate under the request's client."""

    def __init__(self, gate: ModelGate, client: str, cancel: threading.Event, public: str | None = None) -> None:
        self.gate = gate
        self.client = client
        self.cancel = cancel
        self.spec = public or gate.model.spec  # traces show the public name, never the server's file paths
        self.identity = gate.model.identity
        self.streams = gate.model.streams
        self.guards_repetition = gate.model.guards_repetition
        self.cuts_low_confidence = gate.model.cuts_low_confidence

    def generate(self, messages, params, n=1, sample_offset=0, tools=None) -> list[Completion]:
        return self.gate.generate(self.client, self.cancel, messages, params, n, sample_offset, tools)

    def generate_stream(self, messages, params, n=1, sample_offset=0, tools=None, *, on_delta=None,
                        cancel=None) -> list[Completion]:
        # the request's own cancel flag is the gate's; RunContext passes the same event
        return self.gate.generate(self.client, self.cancel, messages, params, n, sample_offset, tools, on_delta)

    def logprobs(self, messages: list[Message], continuation: str) -> list[float]:
        gate = self.gate
        if gate._concurrent:  # the backend schedules scoring between its decode steps
            return gate.model.logprobs(messages, continuation)
        with gate._cv:  # scoring is rare: take the model exclusively, without the fairness bookkeeping
            while gate._busy:
                if self.cancel.is_set():
                    raise Cancelled("run cancelled")
                gate._cv.wait(gate.poll_s)
            gate._busy = True
        try:
            return gate.model.logprobs(messages, continuation)
        finally:
            with gate._cv:
                gate._busy = False
                gate._cv.notify_all()

    def info(self) -> ModelInfo:
        return self.gate.model.info()
