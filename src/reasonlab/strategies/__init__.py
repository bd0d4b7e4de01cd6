"""Reasoning strategies: one module per strategy, found automatically."""

from __future__ import annotations

from .base import REGISTRY, Options, Strategy, StrategyError, describe_options, opt, register

__all__ = ["REGISTRY", "Options", "Strategy", "StrategyError", "describe_options", "opt", "register",
           "get_strategy", "list_strategies"]

def list_strategies() -> dict[str, type[Strategy]]:
    return REGISTRY.sorted()


def get_strategy(name: str, **options) -> Strategy:
    """An instance of the named strategy with options; StrategyError if unknown."""
    cls = REGISTRY.loaded().get(name)
    if cls is None:
        raise StrategyError(f"unknown strategy {name!r} (known: {', '.join(sorted(REGISTRY))})")
    return cls(**options)
