"""The serving layer: OpenAI-compatible reasoning API, ChatGLM-style endpoint, and the web page.

`create_app(ServerConfig(...))` builds the ASGI app; `reasonlab serve` runs it with uvicorn.
"""

from .config import ServerConfig, check_bind, is_loopback, resolve_api_key

__all__ = ["ServerConfig", "check_bind", "create_app", "is_loopback", "resolve_api_key"]


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
