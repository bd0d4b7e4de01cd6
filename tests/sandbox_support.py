"""Shared helpers of the sandbox escape suites: tight limits and a one-call runner."""

from __future__ import annotations

import textwrap

import pytest

from reasonlab.sandbox import Limits, SandboxResult, detect, run_code

FAST = Limits(timeout_s=8, cpu_s=2, memory_mb=256, processes=16, file_size_mb=8, scratch_mb=32,
              open_files=32, output_bytes=200_000)


def skip_without_isolation() -> None:
    info = detect()
    if info.backend == "none":
        pytest.skip(f"no sandbox here: {info.reason}")


def run(code: str, limits: Limits = FAST) -> SandboxResult:
    return run_code(textwrap.dedent(code), limits)


def assert_not_escaped(r: SandboxResult) -> None:
    assert "ESCAPED" not in r.stdout, r
