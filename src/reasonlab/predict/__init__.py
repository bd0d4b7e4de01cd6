"""Reasoning strategies: one module per strategy, found automatically."""

from __future__ import annotations

from ..discover import import_submodules
from .base import REGISTRY, Options, Strategy, StrategyError, describe_options, opt, register

__all__ = ["REGISTRY", "Options", "Strategy", "StrategyError", "describe_options", "opt", "register",
           "get_strategy", "list_strategies"]

_loaded = False


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    import_submodules(__name__, skip=("base",))
    _loaded = True


def list_strategies() -> dict[str, type[Strategy]]:
    _load_all()
    return dict(sorted(REGISTRY.items()))


def get_strategy(name: str, **options) -> Strategy:
    """An instance of the named strategy with options; StrategyError if unknown."""
    _load_all()
    cls = REGISTRY.get(name)
    if cls is None:
        raise StrategyError(f"unknown strategy {name!r} (known: {', '.join(sorted(REGISTRY))})")
    return cls(**options)
