"""Printing a run as it happens: model text token by token (`delta` events), call summaries.

Several samples may be decoded at once; the terminal follows one at a time (the first that
produces text) and shows the others when they are done, so lines never interleave.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import click

from ._common import format_messages


class LivePrinter:
    """A RunContext listener. `stream`: print deltas; `calls`: a summary line per finished sample;
    `prompts`: each request's messages before it is sent (and outputs that were not streamed)."""

    def __init__(self, *, stream: bool = True, calls: bool = False, prompts: bool = False, err: bool = False,
                 echo: Callable[..., Any] = click.echo) -> None:
        self.stream, self.calls, self.prompts, self.err = stream, calls, prompts, err
        self._echo = echo
        self._lock = threading.Lock()
        self._current: tuple[str, int] | None = None  # the sample being printed
        self._buffers: dict[tuple[str, int], str] = {}  # text of samples waiting for their turn
        self._done: list[dict[str, Any]] = []  # finished samples waiting for the live one to end
        self._open_line = False  # the terminal cursor is after streamed text
        self.cancelled = 0  # samples that ended cancelled

    def _out(self, text: str, *, nl: bool = True, dim: bool = False) -> None:
        self._echo(click.style(text, dim=True) if dim else text, nl=nl, err=self.err)

    def _end_line(self) -> None:
        if self._open_line:
            self._out("")
            self._open_line = False

    def __call__(self, event: str, payload: dict[str, Any]) -> None:
        with self._lock:
            if event == "call_start":
                self._call_start(payload)
            elif event == "delta" and self.stream:
                self._delta((payload.get("label") or "", int(payload.get("index", 0))), payload.get("text", ""))
            elif event == "call":
                self._call(payload)

    def _call_start(self, p: dict[str, Any]) -> None:
        if self.prompts:
            self._end_line()
            n = f" x{p['n']} samples" if p.get("n", 1) > 1 else ""
            self._out(f"\n=== [{p.get('label')}]{n} params {p.get('params')} ===")
            self._out(format_messages(p.get("messages") or []))

    def _head(self, key: tuple[str, int]) -> None:
        if self.prompts:
            self._out(f"--- output, sample {key[1]} ---")
        elif self.calls:
            self._out(f"[{key[0] or 'call'} #{key[1]}] ", nl=False, dim=True)

    def _delta(self, key: tuple[str, int], text: str) -> None:
        if self._current is None:
            self._current = key
            self._end_line()
            self._head(key)
            text = self._buffers.pop(key, "") + text
        if key != self._current:
            self._buffers[key] = self._buffers.get(key, "") + text
            return
        if text:
            self._out(text, nl=False)
            self._open_line = True

    def _call(self, p: dict[str, Any]) -> None:
        key = (p.get("label") or "", int(p.get("sample_index", 0)))
        self.cancelled += p.get("finish_reason") == "cancelled"
        if key != self._current and self._current is not None:  # shown when the live sample ends
            self._buffers.pop(key, None)
            self._done.append(p)
            return
        if key == self._current:
            self._current = None
            self._end_line()
            self._summary(p)
        else:
            self._whole(p)
        for q in self._done:
            self._whole(q)
        self._done.clear()
        if self._buffers:  # the next sample still decoding takes the terminal
            self._delta(next(iter(self._buffers)), "")

    def _whole(self, p: dict[str, Any]) -> None:
        """A sample that was not streamed live: its text at once (when streaming), then its summary."""
        key = (p.get("label") or "", int(p.get("sample_index", 0)))
        self._buffers.pop(key, None)
        if (self.stream or self.prompts) and p.get("output"):
            self._head(key)
            self._out(str(p.get("output")))
        self._summary(p)

    def _summary(self, p: dict[str, Any]) -> None:
        reason = p.get("finish_reason", "stop")
        cached = " (cached)" if p.get("cached") else ""
        if self.calls:
            mark = "" if reason in ("stop", None) else f", {reason}"
            self._out(f"  · {p.get('label') or 'call'} #{p.get('sample_index', 0)}: {p.get('completion_tokens', 0)} "
                      f"tokens, {p.get('seconds', 0.0):.2f}s{cached}{mark}", dim=True)
        elif reason in ("cancelled", "repetition"):
            self._out(f"  ({'stopped' if reason == 'cancelled' else 'stopped: the text started repeating'})",
                      dim=True)

    def finish(self) -> None:
        """End an open line (after a cancelled or failed run)."""
        with self._lock:
            self._end_line()
