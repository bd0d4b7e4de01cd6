"""The model interface every backend implements: chat messages in, n completions out."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any

from ..errors import ReasonlabError

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}
DeltaFn = Callable[[int, str], None]  # (sample index, text added since the last call)

# Why a completion ended: the model stopped (end token or a stop string), the token limit, the
# degeneration guard (models/repetition.py), the confidence floor (GenParams.min_confidence), or the
# caller cancelled it (partial text kept).
FINISH_LOW_CONFIDENCE = "low_confidence"
FINISH_REASONS = ("stop", "length", "repetition", FINISH_LOW_CONFIDENCE, "cancelled")


class ModelError(ReasonlabError, RuntimeError):
    """A backend failed (server down, garbage reply, missing file). The message is user-facing."""


class ModelSpecError(ModelError):
    """A model spec string that cannot be understood."""

    exit_code = 2


class NotSupported(ModelError):
    """The backend cannot do what was asked (e.g. log-probabilities)."""


@dataclass(frozen=True)
class GenParams:
    """Sampling parameters. They are part of the cache key, so keep them plain values."""

    temperature: float = 0.0
    max_tokens: int = 256
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int = 0  # base seed; sample i of a request uses seed + i
    grammar: str | None = None  # a GBNF grammar (root rule `root`) the output must match, where supported
    guard: bool = True  # stop a sample that starts looping (finish reason "repetition")
    # DeepConf's online early stop: end a sample (finish reason "low_confidence") once the mean
    # log-probability of its last `confidence_window` tokens falls below this floor (None: never)
    min_confidence: float | None = None
    confidence_window: int = 16

    def __post_init__(self) -> None:
        if self.min_confidence is not None and not math.isfinite(self.min_confidence):
            raise ValueError(f"min_confidence must be a finite number, got {self.min_confidence}")
        if self.confidence_window < 1:
            raise ValueError(f"confidence_window must be at least 1, got {self.confidence_window}")

    def to_dict(self) -> dict[str, Any]:
        d = {name: getattr(self, name) for name in _field_names(type(self))}  # flat values: no deep copy
        d["stop"] = list(self.stop)
        if self.grammar is None:  # absent, not null: cache keys from before the field stay valid
            del d["grammar"]
        if self.guard:  # likewise: only the non-default value shows
            del d["guard"]
        if self.min_confidence is None:
            del d["min_confidence"], d["confidence_window"]
        return d

    @classmethod
    def make(cls, **kw: Any) -> GenParams:
        if "stop" in kw and kw["stop"] is not None:
            stop = kw["stop"]
            kw["stop"] = (stop,) if isinstance(stop, str) else tuple(stop)
        elif "stop" in kw:
            kw["stop"] = ()
        return cls(**kw)


def lowest_window_mean(logprobs: list[float], window: int) -> float:
    """The lowest mean of `window` consecutive log-probabilities (1 <= window <= len(logprobs)):
    DeepConf's lowest group confidence, and what the confidence floor is checked against."""
    run = sum(logprobs[:window])
    low = run
    for i in range(window, len(logprobs)):
        run += logprobs[i] - logprobs[i - window]
        low = min(low, run)
    return low / window


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


@dataclass
class Completion:
    """One sampled continuation with its token counts."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"
    tool_calls: list[dict[str, Any]] | None = None  # native function calls, when the backend returns them
    token_logprobs: list[float] | None = None  # log-probability of each generated token, where the backend gives it


def normalize_tool_calls(raw: Any) -> list[dict[str, Any]] | None:
    """Tool calls in OpenAI form (or already flat) into [{"name", "arguments": dict, "id"?}]; None if none.

    Arguments that are not a JSON object come back as {"_raw": ...}, so a tool call fails cleanly.
    """
    if not raw or not isinstance(raw, list):
        return None
    calls = []
    for tc in raw:
        if not isinstance(tc, dict):
            continue
        fn = tc.get("function") if isinstance(tc.get("function"), dict) else tc
        args = fn.get("arguments", {})
        if isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except json.JSONDecodeError:
                args = {"_raw": args}
        if not isinstance(args, dict):
            args = {"_raw": args}
        call: dict[str, Any] = {"name": str(fn.get("name", "")), "arguments": args}
        if tc.get("id"):
            call["id"] = tc["id"]
        calls.append(call)
    return calls or None


@dataclass
class ModelInfo:
    """What a backend says about itself (for `reasonlab models` and size-vs-metric plots)."""

    spec: str
    backend: str
    n_params: int | None = None
    context_length: int | None = None
    chat_template: bool = True
    supports_logprobs: bool = False
    supports_tools: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Model:
    """A language model backend. Subclasses implement `generate`; the rest is optional.

    `identity` must change whenever outputs could change (file, server model name): it is the
    cache key's model part.
    """

    spec: str = ""
    identity: str = ""
    streams = False  # generate_stream reports text token by token and stops on `cancel`
    guards_repetition = False  # the backend applies the degeneration guard itself (GenParams.guard)
    cuts_low_confidence = False  # the backend ends samples below GenParams.min_confidence while decoding
    batches_concurrent_calls = False  # concurrent generate calls are decoded together: don't serialise them
    stops_when_settled = False  # generate_stream takes on_done(index, completion) -> True to stop the other samples

    def generate(
        self,
        messages: list[Message],
        params: GenParams,
        n: int = 1,
        sample_offset: int = 0,
        tools: list[dict[str, Any]] | None = None,
    ) -> list[Completion]:
        """Return exactly `n` completions. Sample j uses seed `params.seed + sample_offset + j`."""
        raise NotImplementedError

    def generate_stream(
        self,
        messages: list[Message],
        params: GenParams,
        n: int = 1,
        sample_offset: int = 0,
        tools: list[dict[str, Any]] | None = None,
        *,
        on_delta: DeltaFn | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Completion]:
        """`generate`, reporting text as it arrives: ``on_delta(sample_index, new_text)``.

        A backend that streams (``streams = True``) calls `on_delta` per token and ends the
        samples of a set `cancel` at the next token with finish reason ``cancelled``, keeping
        their partial text. This default calls `generate` and reports each text whole.
        """
        outs = self.generate(messages, params, n=n, sample_offset=sample_offset, tools=tools)
        if on_delta is not None:
            for j, c in enumerate(outs):
                if c.text:
                    on_delta(sample_offset + j, c.text)
        return outs

    def logprobs(self, messages: list[Message], continuation: str) -> list[float]:
        """Log-probability of each token of `continuation` after the prompt built from `messages`."""
        raise NotSupported(f"{self.spec}: this backend cannot score log-probabilities")

    def info(self) -> ModelInfo:
        return ModelInfo(spec=self.spec, backend=type(self).__name__)

    def close(self) -> None:
        """Release resources (threads, files, connections)."""
