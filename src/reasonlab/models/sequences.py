"""A request and its sequences as the batching engine (models/engine.py) tracks them."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .base import Completion, DeltaFn, GenParams

FINISH_SETTLED = "settled"  # stopped by the caller's `on_done`: the result no longer needs the sample
DoneFn = Callable[[int, Completion], bool]


@dataclass(eq=False)
class Request:
    tokens: list[int]
    params: GenParams
    n: int
    sample_offset: int
    stops: tuple[str, ...]
    on_delta: DeltaFn | None
    cancel: threading.Event | None
    max_new: int
    want_logprobs: bool = True
    on_done: DoneFn | None = None  # called as each sample ends; True stops the others ("settled")
    settled: bool = False
    results: list[Completion | None] = field(default_factory=list)
    waiting: deque[int] = field(default_factory=deque)  # samples not admitted yet
    running: int = 0
    reading: bool = False  # a sequence of this request is reading the prompt: the others wait and copy it
    aborted: bool = False  # the caller went away (KeyboardInterrupt in its thread)
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def cancelled(self) -> bool:
        return self.aborted or (self.cancel is not None and self.cancel.is_set())

    def stop_reason(self) -> str | None:
        """Why the request's remaining samples stop now: cancelled, settled, or None (they go on)."""
        return "cancelled" if self.cancelled() else FINISH_SETTLED if self.settled else None


@dataclass(eq=False)
class Seq:
    req: Request
    j: int  # sample position within the request
    slot: int
    sampler: Any
    cursor: int  # prompt tokens already in the slot's cells
    pos: int = 0  # position of next_tok
    next_tok: int = -1  # the token to decode next (-1: still reading the prompt)
    gen: list[int] = field(default_factory=list)
    raw: bytearray = field(default_factory=bytearray)
    text: str = ""
    sent: int = 0  # characters of text already reported through on_delta
    logprobs: list[float] = field(default_factory=list)
    window_sum: float = 0.0  # sum of the last GenParams.confidence_window log-probabilities


def below_floor(s: Seq, params: GenParams) -> bool:
    """Add the newest token's log-probability to the sliding window; True when a full window's mean
    is below ``params.min_confidence`` (DeepConf's online stop)."""
    w = params.confidence_window
    s.window_sum += s.logprobs[-1]
    if len(s.logprobs) > w:
        s.window_sum -= s.logprobs[-1 - w]
    return len(s.logprobs) >= w and s.window_sum / w < (params.min_confidence or 0.0)


def held_back(text: str, stops: tuple[str, ...]) -> int:
    """Length of the longest end of `text` that could still grow into a stop string."""
    best = 0
    for s in stops:
        for k in range(min(len(s) - 1, len(text)), best, -1):
            if text.endswith(s[:k]):
                best = k
                break
    return best
