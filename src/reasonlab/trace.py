"""What a run records: one `Call` per model sample, and the `Usage` they add up to."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .models.base import Message


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
    finish_reason: str = "stop"  # stop | length | repetition (degeneration guard) | cancelled

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0  # samples actually computed by the model (cache hits excluded)
    cached_calls: int = 0
    seconds: float = 0.0  # wall time of the whole run
    repetitions: int = 0  # samples the degeneration guard stopped as loops (cache hits included)
    cached_prompt_tokens: int = 0  # tokens of the cache hits: work done earlier, not counted above
    cached_completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cached_tokens(self) -> int:
        return self.cached_prompt_tokens + self.cached_completion_tokens

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["total_tokens"] = self.total_tokens
        d["cached_tokens"] = self.cached_tokens
        return d
