"""A deterministic fake model for tests: replies from a list, or keyed by prompt text.

JSON file form (``scripted:FILE.json``)::

    {"replies": ["first reply", "second reply"],          # consumed in order
     "by_prompt": {"capital of France": "Paris"},          # substring of the last user message
     "default": "The answer is 42.",                      # when nothing else matches
     "delay_s": 0.0,                                       # sleep per call (scheduler tests)
     "logprobs": {"42": [-0.1, -0.2]}}                     # per-token scores of continuations

A bare JSON list is shorthand for ``{"replies": [...]}``. A reply may be a string or an object
``{"text": "...", "tool_calls": [...]}``. A ``by_prompt`` value may be a list: successive
matching calls take successive entries (the last one repeats).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base import Completion, GenParams, Message, Model, ModelError, ModelInfo, NotSupported
from .sequences import FINISH_SETTLED

Reply = str | dict[str, Any]


def _approx_tokens(text: str) -> int:
    return max(1, len(text.split())) if text else 0


class ScriptedModel(Model):
    def __init__(
        self,
        replies: list[Reply] | None = None,
        by_prompt: dict[str, Reply | list[Reply]] | None = None,
        default: Reply | None = None,
        delay_s: float = 0.0,
        logprobs: dict[str, list[float]] | Callable[[list[Message], str], list[float]] | None = None,
        fn: Callable[[list[Message], GenParams, int], Reply] | None = None,
        name: str = "scripted",
        settles: bool = False,
    ) -> None:
        self.stops_when_settled = settles  # True: generate_stream honours on_done like the llama engine
        self.replies = list(replies or [])
        self.by_prompt = dict(by_prompt or {})
        self.default = default
        self.delay_s = delay_s
        self._logprobs = logprobs
        self.fn = fn
        self.spec = name
        self.identity = f"scripted:{name}:{id(self)}"
        self._lock = threading.Lock()
        self._pos = 0
        self._key_pos: dict[str, int] = {}
        self.received: list[list[Message]] = []  # every prompt seen, for tests to inspect

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedModel:
        p = Path(path)
        if not p.is_file():
            raise ModelError(f"scripted model file not found: {p}")
        if p.stat().st_size > 64 * 1024 * 1024:
            raise ModelError(f"{p}: a scripted model file is at most 64 MiB")
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise ModelError(f"{p}: not a UTF-8 text file (a scripted model is a JSON file)") from None
        except json.JSONDecodeError as e:
            raise ModelError(f"{p}:{e.lineno}: not valid JSON ({e.msg})") from None
        except RecursionError:
            raise ModelError(f"{p}: JSON nested too deeply") from None
        if isinstance(data, list):
            data = {"replies": data}
        if not isinstance(data, dict):
            raise ModelError(f"{p}: expected a JSON list or object")
        unknown = set(data) - {"replies", "by_prompt", "default", "delay_s", "logprobs"}
        if unknown:
            raise ModelError(f"{p}: unknown keys {sorted(unknown)}")
        for key, types, what in (("replies", list, "a list"), ("by_prompt", dict, "an object"),
                                 ("default", (str, dict), "a string or an object"),
                                 ("logprobs", dict, "an object"), ("delay_s", (int, float), "a number")):
            if key in data and data[key] is not None and (not isinstance(data[key], types)
                                                          or isinstance(data[key], bool)):
                raise ModelError(f"{p}: {key!r} must be {what}")
        if not 0 <= float(data.get("delay_s") or 0) <= 3600:
            raise ModelError(f"{p}: 'delay_s' must be between 0 and 3600")
        m = cls(
            replies=data.get("replies"),
            by_prompt=data.get("by_prompt"),
            default=data.get("default"),
            delay_s=float(data.get("delay_s", 0.0)),
            logprobs=data.get("logprobs"),
            name=p.name,
        )
        m.spec = f"scripted:{p}"
        m.identity = f"scripted:{p.resolve()}:{p.stat().st_mtime_ns}"
        return m

    def _next(self, messages: list[Message], params: GenParams, index: int) -> Reply:
        if self.fn is not None:
            return self.fn(messages, params, index)
        last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        for key in sorted(self.by_prompt, key=len, reverse=True):
            if key in last_user:
                value = self.by_prompt[key]
                if isinstance(value, list):
                    i = self._key_pos.get(key, 0)
                    self._key_pos[key] = i + 1
                    return value[min(i, len(value) - 1)]
                return value
        if self._pos < len(self.replies):
            self._pos += 1
            return self.replies[self._pos - 1]
        if self.default is not None:
            return self.default
        raise ModelError(f"scripted model has no reply left for: {last_user[:80]!r}")

    def generate(self, messages, params, n=1, sample_offset=0, tools=None) -> list[Completion]:
        if self.delay_s:
            time.sleep(self.delay_s)
        out = []
        with self._lock:
            self.received.append([dict(m) for m in messages])
            for j in range(n):
                reply = self._next(messages, params, sample_offset + j)
                text = reply if isinstance(reply, str) else str(reply.get("text", ""))
                calls = None if isinstance(reply, str) else reply.get("tool_calls")
                for s in params.stop:
                    if s and s in text:
                        text = text[: text.index(s)]
                prompt_tokens = sum(_approx_tokens(m["content"]) for m in messages)
                out.append(Completion(text, prompt_tokens, _approx_tokens(text), "stop", calls))
        return out

    def generate_stream(self, messages, params, n=1, sample_offset=0, tools=None, *, on_delta=None, cancel=None,
                        on_done=None) -> list[Completion]:
        """`generate`; with `on_done` (settles=True) the samples end in index order and, once it
        returns True, the later ones come back empty with finish reason ``settled``."""
        outs = super().generate_stream(messages, params, n, sample_offset, tools, on_delta=on_delta, cancel=cancel)
        if on_done is None:
            return outs
        for j, c in enumerate(outs):
            if on_done(sample_offset + j, c):
                return outs[:j + 1] + [Completion("", c.prompt_tokens, 0, FINISH_SETTLED) for _ in outs[j + 1:]]
        return outs

    def logprobs(self, messages, continuation) -> list[float]:
        if self._logprobs is None:
            raise NotSupported("scripted model has no log-probabilities configured")
        if callable(self._logprobs):
            return list(self._logprobs(messages, continuation))
        if continuation in self._logprobs:
            return list(self._logprobs[continuation])
        return [-5.0] * max(1, _approx_tokens(continuation))

    def info(self) -> ModelInfo:
        return ModelInfo(spec=self.spec, backend="scripted", supports_logprobs=self._logprobs is not None,
                         supports_tools=True)
