"""The HTTP layer: OpenAI-compatible chat completions, a ChatGLM-style endpoint, traces, the web page."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from ..context import BudgetExceeded, Cancelled
from ..conversation import ConversationError, messages_from_history, normalise_messages, problem_from_messages
from ..errors import InputError, ReasonlabError
from ..models.base import ModelError
from ..problem import Result
from .config import ServerConfig, accepted_hosts
from .http_errors import APIError, error_response
from .request_schema import ChatGLMRequest, ChatRequest, ReasonlabBlock, parse, top_level_options
from .safe_json import SafeJSONResponse, dumps, parse_body
from .scheduler import Job
from .security import APIKeyMiddleware, BodyLimitMiddleware, CrossSiteMiddleware
from .service import ReasoningService, RunRequest
from .streaming import EventStream, ReasoningText, SSEResponse

log = logging.getLogger("reasonlab.server")

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
                ".ico": "image/x-icon", ".json": "application/json"}


class ClientGone(Exception):
    """The client disconnected; its run has been cancelled."""


def create_app(config: ServerConfig | None = None, service: ReasoningService | None = None) -> FastAPI:
    """Build the ASGI app. Models load here (once); pass `service` to reuse loaded ones."""
    config = config or (service.config if service else ServerConfig())
    service = service or ReasoningService(config)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        service.queue.close()

    # no /docs: Swagger UI would load scripts from a CDN, and nothing here may come from the internet
    app = FastAPI(title="reasonlab", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan,
                  default_response_class=SafeJSONResponse)
    app.state.service = service
    app.add_middleware(BodyLimitMiddleware, limit=config.max_body_bytes)
    app.add_middleware(APIKeyMiddleware, keys=config.api_keys, admin_key=config.admin_key)
    app.add_middleware(CrossSiteMiddleware, allowed_hosts=accepted_hosts(config),  # added last = runs first
                       loopback_only=config.allowed_hosts is None)

    @app.exception_handler(APIError)
    async def _api_error(_request: Request, exc: APIError) -> JSONResponse:
        return SafeJSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(ClientGone)
    async def _gone(_request: Request, _exc: ClientGone) -> Response:
        return Response(status_code=499)  # nobody is listening; logged as 499 in the access log

    @app.exception_handler(Exception)
    async def _internal(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("request failed", exc_info=exc)  # a bug: the client still gets a JSON body
        return SafeJSONResponse(APIError(500, f"internal error ({type(exc).__name__})", code="internal_error").body(),
                                status_code=500)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), code="not_found" if exc.status_code == 404 else None)

    # -- catalogue ----------------------------------------------------------------------------
    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": service.model_list()}

    @app.get("/v1/models/{name:path}")
    async def model(name: str) -> dict[str, Any]:
        for m in service.model_list():
            if m["id"] == name:
                return m
        raise APIError(404, f"model {name!r} not found", param="model", code="model_not_found")

    @app.get("/v1/strategies")
    async def strategies() -> dict[str, Any]:
        return {"default": config.default_strategy, "strategies": service.strategies()}

    @app.get("/v1/traces")
    async def traces(request: Request) -> dict[str, Any]:
        return {"object": "list", "data": service.traces.ids(*who(request))}

    @app.get("/v1/traces/{trace_id}")
    async def trace(request: Request, trace_id: str) -> dict[str, Any]:
        t = service.traces.get(trace_id, *who(request))
        if t is None:
            raise APIError(404, f"no trace {trace_id!r} (the server keeps the last {config.trace_limit})",
                           param="id", code="trace_not_found")
        return t

    @app.get("/v1/stats")
    async def stats() -> dict[str, Any]:
        return service.stats()

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "models": list(service.models)}

    # -- chat ---------------------------------------------------------------------------------
    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        body = parse(ChatRequest, await read_json(request))
        req, include_trace = build_request(service, request, body)
        if body.stream:
            return start_stream(service, req, include_trace)
        job = service.start(req)
        result = await wait_for(request, service, job)
        return SafeJSONResponse(completion_body(service, req, result, include_trace))

    @app.post("/")
    async def chatglm(request: Request) -> Response:
        """ChatGLM-style API: {"prompt", "history": [[q, a], ...]} → {"response", "history", ...}."""
        body = parse(ChatGLMRequest, await read_json(request))
        try:
            messages = messages_from_history(body.prompt, body.history)
        except ConversationError as e:
            raise APIError(400, str(e), code="invalid_request") from None
        req, _ = build_request(service, request, body.as_chat(messages))
        job = service.start(req)
        result = await wait_for(request, service, job)
        content = answer_text(result)
        history = [*(body.history or []), [body.prompt, content]]
        return SafeJSONResponse({"response": content, "history": history, "status": 200,
                             "time": time.strftime("%Y-%m-%d %H:%M:%S"), "trace_id": req.id,
                             "strategy": result.strategy, "answer": result.answer})

    # -- web page -----------------------------------------------------------------------------
    @app.get("/")
    async def page() -> Response:
        return static_file("index.html")

    @app.get("/static/{name}")
    async def static(name: str) -> Response:
        return static_file(name)

    return app


# -- request handling -------------------------------------------------------------------------
def who(request: Request) -> tuple[str, bool]:
    """(client id, is admin) set by the API-key middleware: each key is one client."""
    state = request.scope.get("state") or {}
    return str(state.get("client", "local")), bool(state.get("admin", False))


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object (strict: see `safe_json.parse_body`), or APIError 400."""
    return parse_body(await request.body())


def build_request(service: ReasoningService, request: Request, body: dict[str, Any] | ChatRequest,
                  ) -> tuple[RunRequest, bool]:
    """Validate an OpenAI-style body into a RunRequest (raises APIError 400/404).

    The body is checked against `request_schema.ChatRequest` (strict types, ranges), the
    strategy options against the strategy's own option types and the server's caps.
    """
    req = body if isinstance(body, ChatRequest) else parse(ChatRequest, body)
    raw_messages = None if req.messages is None else [m.model_dump(exclude_none=True) for m in req.messages]
    try:
        messages = normalise_messages(raw_messages)
    except ConversationError as e:
        raise APIError(400, str(e), param="messages", code="invalid_messages") from None
    rl = req.reasonlab or ReasonlabBlock()
    strategy, mid = service.resolve(req.model, rl.strategy)
    if req.n not in (None, 1):
        raise APIError(400, "only n=1 is supported: use a sampling strategy (e.g. self-consistency/MODEL) "
                            "to combine several samples", param="n", code="unsupported_n")
    options = service.request_options(strategy, top_level_options(req), dict(rl.options or {}))
    owner, _admin = who(request)
    # Fair queueing per client: with keys, per key (a key holder can't split itself into many clients);
    # without, by what the request says (`user`, X-Client-Id) or its address.
    client = owner if owner != "local" else (req.user or request.headers.get("x-client-id") or (
        request.client.host if request.client else "anonymous"))
    run = RunRequest(model_id=mid, strategy=strategy, options=options,
                     problem=problem_from_messages(messages), client=str(client)[:200], seed=req.seed or 0,
                     owner=owner, public_model=str(req.model or mid))
    return run, rl.trace


async def wait_for(request: Request, service: ReasoningService, job: Job) -> Result:
    """Await a queued run; a client that disconnects meanwhile cancels it."""
    fut = asyncio.wrap_future(job.future)
    try:
        while True:
            done, _ = await asyncio.wait({fut}, timeout=0.2)
            if done:
                break
            if await request.is_disconnected():
                service.queue.cancel(job)
                raise ClientGone()
    finally:
        if not job.future.done():
            service.queue.cancel(job)
    try:
        return fut.result()
    except BaseException as e:  # noqa: BLE001 - mapped to an HTTP error
        raise run_error(e) from None


def run_error(e: BaseException) -> APIError:
    """An exception from a run as the HTTP error the client sees."""
    if isinstance(e, APIError):
        return e
    if isinstance(e, Cancelled):
        return APIError(499, "request cancelled", code="cancelled")
    if isinstance(e, BudgetExceeded):
        return APIError(400, f"{e} (the server's per-request limit)", code="budget_exceeded")
    if isinstance(e, ModelError):
        return APIError(503, f"model error: {e}", code="model_error")
    from ..sandbox import SandboxError

    if isinstance(e, SandboxError):  # never falls back to running model code unisolated
        return APIError(503, f"sandbox: {e}", code="sandbox_unavailable")
    if isinstance(e, (InputError, ReasonlabError)):
        return APIError(400, str(e), code="invalid_request")
    log.exception("run failed", exc_info=e)
    return APIError(500, f"internal error ({type(e).__name__})", code="internal_error")


def answer_text(result: Result) -> str:
    """The message content: the answer, or the reasoning when no answer was found."""
    if result.answer is not None:
        return str(result.answer)
    return result.reasoning or ""


def usage_of(result: Result) -> dict[str, int]:
    u = result.usage
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            "total_tokens": u.total_tokens}


def summary_of(service: ReasoningService, req: RunRequest, result: Result, include_trace: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"trace_id": req.id, "trace_url": f"/v1/traces/{req.id}", "strategy": result.strategy,
                           "status": result.status, "answer": result.answer, "strict_answer": result.strict_answer,
                           "note": result.note}
    if include_trace:
        out["trace"] = service.traces.get(req.id, req.owner) or service.trace_of(req, result)
    return out


def completion_body(service: ReasoningService, req: RunRequest, result: Result, include_trace: bool) -> dict[str, Any]:
    return {
        "id": req.id, "object": "chat.completion", "created": req.created, "model": req.public_model,
        "system_fingerprint": None,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer_text(result)},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": usage_of(result),
        "reasonlab": summary_of(service, req, result, include_trace),
    }


def start_stream(service: ReasoningService, req: RunRequest, include_trace: bool) -> SSEResponse:
    """Queue the run (429 here if full), then stream its events and answer as chat.completion.chunk."""
    events = EventStream()

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return dumps({"id": req.id, "object": "chat.completion.chunk", "created": req.created,
                           "model": req.public_model, "system_fingerprint": None,
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                           **extra})

    reasoning = ReasoningText()

    def listener(event: str, payload: dict[str, Any]) -> None:
        # Model text goes out token by token as reasoning_content (any OpenAI client shows it);
        # every event, `delta` included, also goes out whole under "reasonlab" for the page.
        if event == "result":
            return  # the final chunk carries the whole trace
        text = reasoning.on_event(event, payload)
        events.put(chunk({"reasoning_content": text} if text else {}, reasonlab={"event": event, "data": payload}))

    job = service.start(req, listener=listener, on_done=lambda _job: events.close())

    async def body():
        try:
            yield chunk({"role": "assistant", "content": ""}, reasonlab={"event": "queued", "data": {
                "id": req.id, "strategy": req.strategy, "model": req.model_id, "options": req.options}})
            async for item in events:
                yield item
            try:
                result = job.future.result()
            except BaseException as e:  # noqa: BLE001 - sent as an SSE error event
                err = run_error(e)
                yield dumps(err.body())
                return
            yield chunk({"content": answer_text(result)})
            yield chunk({}, "stop", usage=usage_of(result),
                        reasonlab=summary_of(service, req, result, include_trace))
            yield "[DONE]"
        finally:
            if not job.future.done():
                service.queue.cancel(job)

    return SSEResponse(body())


def static_file(name: str) -> Response:
    """A file of the web page (only plain names inside the package's web folder)."""
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if "/" in name or "\\" in name or name.startswith(".") or suffix not in STATIC_TYPES:
        raise APIError(404, f"no such file {name!r}", code="not_found")
    try:
        data = resources.files("reasonlab.web").joinpath(name).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise APIError(404, f"no such file {name!r}", code="not_found") from None
    return Response(data, media_type=STATIC_TYPES[suffix], headers=PAGE_HEADERS)
