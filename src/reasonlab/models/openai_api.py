"""Any OpenAI-compatible server (llama.cpp server, vLLM, SGLang, Ollama, hosted APIs) over HTTP.

`generate` posts to ``{base_url}/chat/completions`` with ``n``; servers that ignore ``n``
(llama-cpp-python's own server returns one choice) get the missing samples as concurrent
single requests, each with its own seed. Every request is retried with exponential backoff on
429/5xx and connection errors; anything else becomes a one-line `ModelError`.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from .base import (
    Completion,
    GenParams,
    Message,
    Model,
    ModelError,
    ModelInfo,
    NotSupported,
    normalize_tool_calls,
)
from .prompt_format import plain_prompt

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class HTTPStatusError(ModelError):
    """The server answered with an HTTP error status (after any retries)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(exc: Exception) -> str:
    """'connection refused' rather than '[Errno 111] Connection refused'."""
    msg = re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc).strip()) or type(exc).__name__
    msg = re.sub(r"^All connection attempts failed$", "connection failed", msg)
    return _one_line(msg[:1].lower() + msg[1:])


class OpenAIModel(Model):
    """Chat completions from an OpenAI-compatible server.

    Args:
      model: the server's model name. base_url: e.g. ``http://127.0.0.1:8080/v1``.
      api_key: defaults to ``OPENAI_API_KEY``. timeout: seconds per request.
      max_retries: extra attempts on retryable failures. backoff: first retry delay (doubles).
      concurrency: most requests in flight at once from this model object.
      transport: an httpx transport (tests pass ``httpx.MockTransport``).
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        spec: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = 300.0,
        connect_timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        concurrency: int = 4,
        transport: httpx.BaseTransport | None = None,
        extra_body: dict[str, Any] | None = None,
        grammar_field: str | None = None,
    ) -> None:
        if not base_url:
            raise ModelError(f"openai model {model!r} has no server URL")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.spec = spec or f"openai:{model}@{self.base_url}"
        self.identity = f"openai:{model}@{self.base_url}"
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.concurrency = max(1, int(concurrency))
        self.extra_body = dict(extra_body or {})
        # the request field that carries a GBNF grammar: llama.cpp's server reads "grammar", vLLM
        # (≤0.10) "guided_grammar", SGLang "ebnf"; "none" sends no grammar (docs/models.md)
        self.grammar_field = grammar_field or os.environ.get("REASONLAB_GRAMMAR_FIELD") or "grammar"
        self._grammar_ok: bool | None = None  # False once the server rejected a request for its grammar
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=self.concurrency * 2, max_keepalive_connections=self.concurrency),
            transport=transport,
        )
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._n_honoured: bool | None = None  # learnt from the first n>1 request

    # -- HTTP ---------------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST JSON with retries; returns the decoded reply or raises ModelError (one line)."""
        url = f"{self.base_url}{path}"
        attempt = 0
        while True:
            delay: float | None = None
            try:
                with self._slots:
                    resp = self._client.post(path, json=body)
            except httpx.TimeoutException:
                if attempt >= self.max_retries:
                    raise ModelError(f"{url}: no reply within {self.timeout:g} s "
                                     f"({attempt + 1} attempts)") from None
            except httpx.TransportError as e:  # connection refused, reset, DNS, protocol errors
                if attempt >= self.max_retries:
                    raise ModelError(f"cannot reach {self.base_url}: {_reason(e)}") from None
            else:
                if resp.status_code < 300:
                    return self._decode(resp, url)
                if resp.status_code not in RETRY_STATUS or attempt >= self.max_retries:
                    raise HTTPStatusError(f"{url}: HTTP {resp.status_code}: {_error_text(resp)}", resp.status_code)
                delay = _retry_after(resp)
            wait = min(self.max_backoff, self.backoff * (2 ** attempt))
            time.sleep(min(self.max_backoff, delay) if delay is not None else wait)
            attempt += 1

    @staticmethod
    def _decode(resp: httpx.Response, url: str) -> dict[str, Any]:
        try:
            data = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            raise ModelError(f"{url} replied with something that is not JSON (HTTP {resp.status_code}): "
                             f"{_one_line(resp.text, 80)!r}") from None
        if not isinstance(data, dict):
            raise ModelError(f"{url} replied with JSON that is not an object: {_one_line(resp.text, 80)!r}")
        if "error" in data and "choices" not in data:
            raise ModelError(f"{url}: server error: {_error_text(resp)}")
        return data

    # -- generation ---------------------------------------------------------------------
    def _body(self, messages: list[Message], params: GenParams, n: int, seed: int,
              tools: list[dict[str, Any]] | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            # `max_tokens`, not `max_completion_tokens`: llama-cpp-python's server ignores the latter.
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": seed,
        }
        if n != 1:
            body["n"] = n
        if params.stop:
            body["stop"] = list(params.stop)
        if tools:
            body["tools"] = tools
        if params.grammar and self._grammar_ok is not False and self.grammar_field != "none":
            body[self.grammar_field] = params.grammar  # servers without grammars ignore it (or reject: below)
        body.update(self.extra_body)
        return body

    def _request(self, messages: list[Message], params: GenParams, n: int, seed: int,
                 tools: list[dict[str, Any]] | None) -> list[Completion]:
        url = f"{self.base_url}/chat/completions"
        body = self._body(messages, params, n, seed, tools)
        try:
            data = self._post("/chat/completions", body)
        except HTTPStatusError as e:
            if e.status not in (400, 422) or self.grammar_field not in body or self._grammar_ok:
                raise
            # a server that refuses the grammar field: answer unconstrained (callers validate the output)
            self._grammar_ok = False
            body.pop(self.grammar_field)
            try:
                data = self._post("/chat/completions", body)
            except HTTPStatusError:
                self._grammar_ok = None  # it was not the grammar after all
                raise
        else:
            if self.grammar_field in body:
                self._grammar_ok = True
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ModelError(f"{url}: reply has no choices: {_one_line(json.dumps(data), 120)}")
        choices = sorted(choices, key=lambda c: c.get("index", 0) if isinstance(c, dict) else 0)
        texts, calls, reasons = [], [], []
        for c in choices[:n]:
            msg = c.get("message") if isinstance(c, dict) else None
            if not isinstance(msg, dict):
                raise ModelError(f"{url}: a choice has no message: {_one_line(json.dumps(c), 120)}")
            texts.append(msg.get("content") or "")
            calls.append(normalize_tool_calls(msg.get("tool_calls")))
            reasons.append(c.get("finish_reason") or "stop")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        per_choice = _split_tokens(int(usage.get("completion_tokens") or 0), texts)
        return [Completion(t, prompt_tokens, k, r, tc)
                for t, k, r, tc in zip(texts, per_choice, reasons, calls, strict=True)]

    def generate(self, messages, params, n=1, sample_offset=0, tools=None) -> list[Completion]:
        if n <= 0:
            return []
        base = params.seed + sample_offset
        messages = [dict(m) for m in messages]
        out: list[Completion] = []
        if n == 1 or self._n_honoured is not False:
            try:
                out = self._request(messages, params, n, base, tools)
            except HTTPStatusError as e:
                if n == 1 or e.status not in (400, 422):
                    raise
                out = []  # a server that rejects n > 1: ask for one sample per request
            if n > 1:
                self._n_honoured = len(out) >= n
        missing = list(range(len(out), n))
        if missing:
            workers = min(self.concurrency, len(missing))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(self._request, messages, params, 1, base + j, tools) for j in missing]
                for f in futures:
                    out.append(f.result()[0])
        return out[:n]

    # -- scoring ------------------------------------------------------------------------
    def logprobs(self, messages: list[Message], continuation: str) -> list[float]:
        """Per-token log-probabilities of `continuation` via ``/completions`` with echo.

        The endpoint takes raw text, so the conversation is rendered as a plain transcript
        (`prompt_format.plain_prompt`), not the server's chat template.
        """
        prompt = plain_prompt(messages)
        body = {"model": self.model, "prompt": prompt + continuation, "max_tokens": 1,
                "temperature": 0.0, "echo": True, "logprobs": 1}
        try:
            data = self._post("/completions", body)
        except ModelError as e:
            raise NotSupported(f"{self.spec}: cannot score log-probabilities ({e})") from None
        try:
            lp = data["choices"][0]["logprobs"]
            offsets, values = lp["text_offset"], lp["token_logprobs"]
        except (KeyError, IndexError, TypeError):
            raise NotSupported(f"{self.spec}: the server returned no prompt log-probabilities") from None
        start, end = len(prompt), len(prompt) + len(continuation)
        scores = [float(v) for off, v in zip(offsets, values, strict=False)
                  if start <= off < end and v is not None]
        if not scores:
            raise NotSupported(f"{self.spec}: the server returned no log-probabilities for the continuation")
        return scores

    # -- the rest -----------------------------------------------------------------------
    def info(self) -> ModelInfo:
        return ModelInfo(spec=self.spec, backend="openai", supports_tools=True, supports_logprobs=True,
                         extra={"model": self.model, "base_url": self.base_url,
                                "n_honoured": self._n_honoured, "concurrency": self.concurrency,
                                "grammar_field": self.grammar_field, "grammar_accepted": self._grammar_ok})

    def close(self) -> None:
        self._client.close()


def _error_text(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return _one_line(resp.text or resp.reason_phrase or "no details")
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        return _one_line(err.get("message") or json.dumps(err))
    if isinstance(err, str):
        return _one_line(err)
    if isinstance(data, dict) and "detail" in data:
        return _one_line(json.dumps(data["detail"]) if not isinstance(data["detail"], str) else data["detail"])
    return _one_line(resp.text)


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None




def _split_tokens(total: int, texts: list[str]) -> list[int]:
    """Share a reply's completion-token total among its choices in proportion to their length."""
    if len(texts) == 1:
        return [total]
    weights = [max(1, len(t)) for t in texts]
    shares = [total * w // sum(weights) for w in weights]
    shares[0] += total - sum(shares)
    return shares
