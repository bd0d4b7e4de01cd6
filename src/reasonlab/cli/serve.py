"""`reasonlab serve`: the OpenAI-compatible reasoning API, the ChatGLM-style endpoint and the web page."""

from __future__ import annotations

import click

from ._common import kv_option, weights_option


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback requires an API key.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
@click.option("--model", "-m", "models", multiple=True, metavar="SPEC",
              help="Model spec to serve (repeat for several; NAME=SPEC names one). Default: smollm2.")
@click.option("--api-key", "api_keys", multiple=True, metavar="KEY",
              help="A client key (Authorization: Bearer KEY); repeat for several clients, each of which sees "
                   "only its own traces. Env: REASONLAB_API_KEYS (comma-separated) or REASONLAB_API_KEY.")
@click.option("--admin-key", envvar="REASONLAB_ADMIN_KEY", default=None, metavar="KEY",
              help="A key that may read every client's traces. Env: REASONLAB_ADMIN_KEY.")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="Host header names to answer (repeatable). Default: loopback names when bound to loopback, "
                   "the bound address otherwise. Refuses DNS-rebinding pages.")
@click.option("--strategy", "-s", default="zero-shot-cot", show_default=True,
              help="Strategy for requests that name none (model 'MODEL' rather than 'STRATEGY/MODEL').")
@click.option("--queue-size", default=32, show_default=True, type=int,
              help="Requests admitted at once (running + waiting); beyond that: 429 with Retry-After.")
@click.option("--workers", default=4, show_default=True, type=int,
              help="Requests running at once; their model calls take turns fairly.")
@click.option("--max-body-bytes", default=256 * 1024, show_default=True, type=int, help="Request body limit (413).")
@click.option("--max-tokens-limit", default=2048, show_default=True, type=int,
              help="Largest max_tokens a request or strategy option may ask for (400 beyond).")
@click.option("--max-calls", default=64, show_default=True, type=int, help="Model calls one request may make.")
@click.option("--cache/--no-cache", default=False, show_default=True, help="Use the persistent completion cache.")
@click.option("--merge/--no-merge", default=True, show_default=True,
              help="Run concurrent identical model calls once and share the result.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              envvar="REASONLAB_THREADS",
              help="CPU threads of local GGUF models (default: tuned per decode step from measured speed). Env: REASONLAB_THREADS.")
@weights_option
@kv_option
@click.option("--sandbox-memory-mb", default=512, show_default=True, type=int,
              help="Memory ceiling of each sandboxed program (its whole process tree), MiB; requests may only lower it.")
@click.option("--sandbox-timeout-s", default=10.0, show_default=True, type=float,
              help="Wall-clock ceiling of each sandboxed program, seconds; requests may only lower it.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(host: str, port: int, models: tuple[str, ...], api_keys: tuple[str, ...], admin_key: str | None,
          allowed_hosts: tuple[str, ...], strategy: str, queue_size: int,
          workers: int, max_body_bytes: int, max_tokens_limit: int, max_calls: int, cache: bool, merge: bool,
          threads: int | None, sandbox_memory_mb: int, sandbox_timeout_s: float, log_level: str) -> None:
    """Serve strategies over HTTP: POST /v1/chat/completions (OpenAI), POST / (ChatGLM), web page at /.

    \b
    Examples:
      reasonlab serve                                   # smollm2 on http://127.0.0.1:8000/
      reasonlab serve --model llama:model.gguf --strategy self-consistency
      reasonlab serve --host 0.0.0.0 --api-key "$(openssl rand -hex 16)"
    """
    from ..errors import InputError
    from ..models.weights import expect_batching
    from ..server.config import ServerConfig, check_bind, resolve_api_keys

    expect_batching()  # concurrent requests decode in one batch (--weights auto)

    keys = resolve_api_keys(api_keys)
    key = keys[0] if keys else None
    check_bind(host, key or admin_key)
    if not 0 <= port <= 65535:
        raise InputError(f"port {port} is out of range")
    config = ServerConfig(host=host, port=port, models=list(models) or ["smollm2"], default_strategy=strategy,
                          api_keys=keys, admin_key=admin_key or None,
                          allowed_hosts=list(allowed_hosts) or None, max_body_bytes=max_body_bytes, max_tokens_limit=max_tokens_limit,
                          max_calls=max_calls, queue_size=queue_size, workers=workers, cache=cache,
                          merge_identical=merge, threads=threads, sandbox_memory_mb=sandbox_memory_mb,
                          sandbox_timeout_s=sandbox_timeout_s)
    from ..sandbox import set_ceiling

    set_ceiling(memory_mb=sandbox_memory_mb, timeout_s=sandbox_timeout_s)  # tools and fixed limits too
    from ..strategies import list_strategies

    if strategy not in list_strategies():
        raise InputError(f"unknown strategy {strategy!r} (see `reasonlab strategies`)")

    import uvicorn

    from ..server.app import create_app

    app = create_app(config)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    click.echo(f"reasonlab: serving {', '.join(app.state.service.models)} on http://{shown}:{port}/ "
               f"(OpenAI API at /v1, default strategy {strategy}{', API key required' if key or admin_key else ''})", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=3)


COMMANDS = [serve]
