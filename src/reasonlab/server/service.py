"""The serving core, without HTTP: shared models, request validation, the queue, runs and traces."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..context import Listener
from ..errors import ReasonlabError
from ..models import Model, load_model, parse_spec
from ..problem import Problem, Result
from ..strategies import StrategyError, describe_options, get_strategy, list_strategies
from ..strategies.base import Strategy
from ..strategies.options import (
    SANDBOX_OPTIONS,
    SERVER_CAPS,
    OptionError,
    check_tokens,
    client_rule,
    option_names,
)
from ..strategies.options import Limits as OptionLimits
from ..strategies.options import validate as validate_options
from .config import ServerConfig
from .gate import GatedModel, ModelGate
from .http_errors import APIError
from .scheduler import FairQueue, Job, QueueFull
from .traces import TraceStore


def model_id(spec: str) -> str:
    """Short public name of a model spec: embedded name, file stem, or the remote model name."""
    name, eq, rest = spec.partition("=")
    if eq and name and ":" not in name:
        return name
    ms = parse_spec(spec)
    if ms.embedded:
        return ms.embedded
    if ms.backend in ("llama", "scripted"):
        return Path(ms.target).stem
    if ms.backend == "hf":  # no '/': it would read as STRATEGY/MODEL
        from ..models.hub import parse_ref

        ref = parse_ref(ms.target)
        return Path(ref.filename).stem if ref.filename else ref.repo_id.split("/")[1] + (f"-{ref.quant}" if ref.quant else "")
    return ms.target


@dataclass
class RunRequest:
    """One validated request: which model, which strategy with which options, and the problem."""

    model_id: str
    strategy: str
    options: dict[str, Any]
    problem: Problem
    client: str
    seed: int = 0
    public_model: str = ""  # the model name to echo back
    owner: str = "local"  # the API key's client: only it (or the admin key) reads the trace
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")  # 122 random bits: unguessable
    created: int = field(default_factory=lambda: int(time.time()))


class ReasoningService:
    """Loads each configured model once and runs strategies on it through the fair queue."""

    def __init__(self, config: ServerConfig, models: dict[str, Model] | None = None) -> None:
        self.config = config
        self.models: dict[str, Model] = {}
        self.aliases: dict[str, str] = {}
        if models is not None:
            self.models = dict(models)
        else:
            for spec in config.models:
                mid = model_id(spec)
                if mid in self.models:
                    raise ReasonlabError(f"two --model options have the same name {mid!r}: name one NAME=SPEC")
                real = spec.partition("=")[2] if "=" in spec.split(":")[0] else spec
                local = parse_spec(real).backend in ("llama", "hf")
                self.models[mid] = load_model(real, **({"n_threads": config.threads} if config.threads and local else {}))
                self.aliases[real] = mid
        self.gates = {mid: ModelGate(m, merge_identical=config.merge_identical) for mid, m in self.models.items()}
        self.queue = FairQueue(config.queue_size, config.workers)
        self.traces = TraceStore(config.trace_limit)
        self.cache = None
        if config.cache:
            from ..cache import Cache

            self.cache = Cache()
        self.started = time.time()
        self._strategies = list_strategies()

    # -- catalogue ------------------------------------------------------------------------
    def strategy_names(self) -> list[str]:
        return list(self._strategies)

    def strategies(self) -> dict[str, dict[str, Any]]:
        """Each strategy's options; `client` says what a request may send for one (absent: it may not)."""
        limits = self.option_limits()
        table: dict[str, dict[str, Any]] = {}
        for name, cls in self._strategies.items():
            options = describe_options(cls.Options)
            for o in options:
                rule = client_rule(o["name"], limits)
                if rule is not None:
                    o["client"] = rule
            table[name] = {"description": cls.description, "options": options,
                           "client_options": [o["name"] for o in options if "client" in o]}
        return json.loads(json.dumps(table, default=str))

    def option_limits(self) -> OptionLimits:
        """A request's option limits: the allow-list, the token cap, SERVER_CAPS and the sandbox ceilings."""
        ceiling = self.config.sandbox_limits()
        caps = {**SERVER_CAPS, **{opt: getattr(ceiling, f) for opt, f in SANDBOX_OPTIONS.items()}}
        return OptionLimits.server(self.config.max_tokens_limit, max_calls=self.config.max_calls, caps=caps,
                                   sandbox=ceiling)

    def model_list(self) -> list[dict[str, Any]]:
        out = []
        for mid in self.models:
            base = {"object": "model", "created": int(self.started), "owned_by": "reasonlab"}
            out.append({"id": mid, **base, "reasonlab": {"model": mid, "strategy": self.config.default_strategy,
                                                         "base": True}})
            for s in self.strategy_names():
                out.append({"id": f"{s}/{mid}", **base, "reasonlab": {"model": mid, "strategy": s, "base": False}})
        return out

    # -- validation -----------------------------------------------------------------------
    def _model(self, name: str) -> str | None:
        if name in self.models:
            return name
        return self.aliases.get(name)

    def resolve(self, name: Any, strategy_field: Any = None) -> tuple[str, str]:
        """(strategy, model id) from 'MODEL' or 'STRATEGY/MODEL' and an optional explicit strategy."""
        if not isinstance(name, str) or not name.strip():
            if len(self.models) == 1:
                name = next(iter(self.models))
            else:
                raise APIError(400, "'model' is required", param="model", code="missing_model")
        strategy: str | None = None
        mid = self._model(name)
        if mid is None:
            prefix, slash, rest = name.partition("/")
            if slash and (prefix in self.strategy_names()):
                strategy, mid = prefix, self._model(rest)
                if mid is None:
                    raise self._no_model(rest)
            elif slash and self._model(rest) is not None:
                raise self._no_strategy(prefix, "model")
            else:
                raise self._no_model(name)
        if strategy_field is not None:
            if not isinstance(strategy_field, str) or strategy_field not in self.strategy_names():
                raise self._no_strategy(strategy_field, "reasonlab.strategy")
            strategy = strategy_field
        return strategy or self.config.default_strategy, mid

    def _no_model(self, name: str) -> APIError:
        return APIError(404, f"model {name!r} not found (models: {', '.join(self.models)}; "
                             f"or STRATEGY/MODEL)", param="model", code="model_not_found")

    def _no_strategy(self, name: Any, param: str) -> APIError:
        return APIError(400, f"unknown strategy {name!r} (strategies: {', '.join(self.strategy_names())})",
                        param=param, code="unknown_strategy")

    def request_options(self, strategy: str, top: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        """A request's strategy options, typed and checked (raises APIError 400).

        `top`: the OpenAI sampling fields (kept where the strategy has the option); `given`: the
        `reasonlab.options` block, which wins. Both go through `strategies.options.validate` in
        strict mode with the server's caps: the allow-list, `--max-tokens-limit` for every
        `*_tokens` option, SERVER_CAPS, sandbox limits only ever tightened.
        """
        limits = self.option_limits()
        try:
            top = dict(top)
            for name in ("max_completion_tokens", "max_tokens"):  # max_tokens wins when both are given
                if top.get(name) is not None:
                    check_tokens(name, top[name], limits.max_tokens, name)
                    top["max_tokens"] = top.pop(name)
            cls = self._strategies[strategy]
            mine = validate_options(cls, self.options_for(strategy, top), strict=True, limits=limits)
            mine.update(validate_options(cls, given, strict=True, limits=limits, param_prefix="reasonlab.options."))
        except OptionError as e:
            raise APIError(400, str(e), param=e.param, code=e.code) from None
        defaults = cls.Options()
        for opt, f in SANDBOX_OPTIONS.items():  # a strategy's own default never exceeds the operator's ceiling
            if opt not in mine and opt in option_names(cls) and getattr(defaults, opt) > getattr(limits.sandbox, f):
                mine[opt] = getattr(limits.sandbox, f)
        return mine

    def build_strategy(self, name: str, options: dict[str, Any]) -> Strategy:
        try:
            return get_strategy(name, **options)
        except StrategyError as e:
            raise APIError(400, str(e), param="reasonlab.options", code="invalid_option") from None
        except (TypeError, ValueError) as e:
            raise APIError(400, f"strategy {name!r}: bad options ({e})", param="reasonlab.options",
                           code="invalid_option") from None

    def options_for(self, strategy: str, given: dict[str, Any]) -> dict[str, Any]:
        """Keep only the options the strategy has (for top-level OpenAI params like temperature)."""
        names = option_names(self._strategies[strategy])
        return {k: v for k, v in given.items() if k in names}

    # -- running ----------------------------------------------------------------------------
    def start(self, req: RunRequest, listener: Listener | None = None,
              on_done: Callable[[Job], None] | None = None) -> Job:
        """Validate the strategy options, then queue the run. Raises APIError (400, 429)."""
        strat = self.build_strategy(req.strategy, req.options)
        cancel = threading.Event()

        def work() -> Result:
            return self._execute(req, strat, cancel, listener)

        try:
            job = self.queue.submit(req.id, req.client, work, cancel)
        except QueueFull as e:
            raise APIError(429, f"the server is busy ({self.queue.capacity} requests queued); "
                                f"retry after {e.retry_after}s", code="queue_full",
                           headers={"Retry-After": str(e.retry_after)}) from None
        if on_done is not None:
            job.future.add_done_callback(lambda _f: on_done(job))
        return job

    def _execute(self, req: RunRequest, strat: Strategy, cancel: threading.Event,
                 listener: Listener | None) -> Result:
        from ..api import run

        model = GatedModel(self.gates[req.model_id], req.client, cancel, public=req.model_id)
        result = run(req.problem, strat, model, cache=self.cache or False, seed=req.seed,
                     max_calls=self.config.max_calls, listeners=[listener] if listener else None,
                     cancel=cancel)
        self.traces.put(req.id, self.trace_of(req, result), owner=req.owner)
        return result

    def trace_of(self, req: RunRequest, result: Result) -> dict[str, Any]:
        return {"id": req.id, "created": req.created, "model": req.public_model or req.model_id,
                **result.to_dict()}

    def stats(self) -> dict[str, Any]:
        return {"uptime_s": round(time.time() - self.started, 1), "queue": self.queue.snapshot(),
                "models": {mid: g.snapshot() for mid, g in self.gates.items()}, "traces": len(self.traces)}

    def close(self) -> None:
        self.queue.close()
        for m in self.models.values():
            m.close()
