"""The typed schema of everything a request body may carry, checked before anything runs.

Pydantic models in strict mode: a string is not a number (`"max_tokens": "100000"` is refused),
a boolean is not an integer, numbers are finite, each field has its range. Unknown top-level
OpenAI fields (`frequency_penalty`, `logprobs`, …) are ignored as OpenAI-compatible servers do;
the `reasonlab` block is closed (an unknown key is an error). Strategy options inside it are then
checked per strategy by `reasonlab.strategies.options.validate` (the same code as the CLI's `-o`),
with the server's caps. Any violation is an APIError 400 naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
)

from .http_errors import APIError

_STRICT = ConfigDict(strict=True, allow_inf_nan=False, extra="ignore")

# An option value as JSON may carry it; the strategy's own option types are checked afterwards.
OptionValue = StrictBool | StrictInt | StrictFloat | Annotated[str, Field(max_length=200)] | \
    Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=16)] | None
Options = Annotated[dict[Annotated[str, Field(max_length=64)], OptionValue], Field(max_length=64)]
Stop = Annotated[str, Field(max_length=200)] | Annotated[list[Annotated[str, Field(max_length=200)]],
                                                          Field(max_length=4)]
Seed = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Name = Annotated[str, Field(max_length=200)]


class ContentPart(BaseModel):
    """One part of a message's content; only {"type": "text", "text": ...} is answered."""

    model_config = _STRICT
    type: Annotated[str, Field(max_length=64)]
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = _STRICT
    role: Annotated[str, Field(max_length=32)]
    content: str | Annotated[list[ContentPart], Field(max_length=256)] | None = None
    name: Name | None = None


class ReasonlabBlock(BaseModel):
    """The extension block: {"strategy": NAME, "options": {...}, "trace": true}."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="forbid")
    strategy: Name | None = None
    options: Options | None = None
    trace: StrictBool = True


class ChatRequest(BaseModel):
    """An OpenAI chat-completions request (the fields reasonlab reads)."""

    model_config = _STRICT
    model: Name | None = None
    messages: Annotated[list[ChatMessage], Field(max_length=1024)] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    n: Annotated[int, Field(ge=1, le=128)] | None = None
    stop: Stop | None = None
    seed: Seed | None = None
    stream: StrictBool | None = None
    user: Annotated[str, Field(max_length=256)] | None = None
    reasonlab: ReasonlabBlock | None = None


class ChatGLMRequest(BaseModel):
    """The ChatGLM-style body of `POST /`: {"prompt", "history": [[q, a], ...], ...}."""

    model_config = _STRICT
    prompt: str | None = None
    history: Annotated[list[Annotated[list[str], Field(max_length=2)]], Field(max_length=512)] | None = None
    model: Name | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    seed: Seed | None = None
    user: Annotated[str, Field(max_length=256)] | None = None
    strategy: Name | None = None
    options: Options | None = None

    def as_chat(self, messages: list[dict[str, str]]) -> ChatRequest:
        """The same request in OpenAI form (already validated: built without checking again)."""
        block = ReasonlabBlock.model_construct(strategy=self.strategy, options=self.options, trace=True)
        return ChatRequest.model_construct(
            model=self.model, messages=[ChatMessage.model_construct(**m, name=None) for m in messages],
            max_tokens=self.max_tokens, max_completion_tokens=None, temperature=self.temperature,
            top_p=self.top_p, n=None, stop=None, seed=self.seed, stream=False, user=self.user, reasonlab=block)


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], body: dict[str, Any]) -> M:
    """`body` checked against `model`, or APIError 400 naming the first bad field (never echoing its value)."""
    try:
        return model.model_validate(body)
    except ValidationError as e:
        err = e.errors(include_url=False, include_input=False, include_context=False)[0]
        loc = [str(x) for x in err["loc"] if not str(x).startswith(("function-", "union["))]
        param = ".".join(loc) or None
        kind = "invalid_type" if err["type"].endswith("_type") or "parsing" in err["type"] else "invalid_value"
        raise APIError(400, f"{param or 'body'}: {err['msg']}" + (f" ({len(e.errors())} problems)"
                                                                  if e.error_count() > 1 else ""),
                       param=param, code=kind) from None


def top_level_options(req: ChatRequest) -> dict[str, Any]:
    """The OpenAI sampling fields as given (only set ones; `stop` always a list)."""
    out: dict[str, Any] = {}
    if req.temperature is not None:
        out["temperature"] = req.temperature
    if req.top_p is not None:
        out["top_p"] = req.top_p
    if req.stop is not None:
        out["stop"] = [req.stop] if isinstance(req.stop, str) else list(req.stop)
    if req.max_completion_tokens is not None:
        out["max_completion_tokens"] = req.max_completion_tokens
    if req.max_tokens is not None:
        out["max_tokens"] = req.max_tokens
    return out
