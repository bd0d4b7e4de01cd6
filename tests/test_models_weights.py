"""--weights: reading a GGUF's weight type, the setting, and the Q8_0 copy in the user cache.

The header tests use hand-written GGUF headers; the conversion tests (marker ``embedded``) convert
the embedded SmolLM2 (Q4_1) into a temporary cache and load it.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from reasonlab.models import ModelError
from reasonlab.models import weights as w


def _s(text: str) -> bytes:
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def write_header(path: Path, ftype: int | None, version: int = 3) -> Path:
    """A GGUF with no tensors: a string array (skipped), a u32 array, then general.file_type."""
    kvs = [_s("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 3) + _s("a") + _s("bb") + _s("ccc"),
           _s("tokenizer.ggml.scores") + struct.pack("<IIQ", 9, 6, 2) + struct.pack("<ff", 0.5, 1.5),
           _s("general.name") + struct.pack("<I", 8) + _s("tiny")]
    if ftype is not None:
        kvs.append(_s("general.file_type") + struct.pack("<II", 4, ftype))
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", version, 0, len(kvs)) + b"".join(kvs))
    return path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(w.WEIGHTS_ENV, raising=False)
    w.expect_batching(False)
    yield tmp_path / "xdg" / "reasonlab" / "models" / "q8_0"
    w.expect_batching(False)


def test_file_type_read_past_arrays(tmp_path):
    assert w.file_type(write_header(tmp_path / "a.gguf", 3)) == 3
    assert w.file_type(write_header(tmp_path / "b.gguf", 7)) == 7
    assert w.file_type(write_header(tmp_path / "c.gguf", None)) is None
    assert w.type_name(3) == "Q4_1" and w.type_name(None) == "unknown"


def test_file_type_rejects_truncated_and_foreign_files(tmp_path):
    full = write_header(tmp_path / "a.gguf", 3).read_bytes()
    (tmp_path / "t.gguf").write_bytes(full[:-3])
    with pytest.raises(ValueError, match="ends inside"):
        w.file_type(tmp_path / "t.gguf")
    (tmp_path / "x.gguf").write_bytes(b"PK\x03\x04" + full[4:])
    with pytest.raises(ValueError, match="not a GGUF"):
        w.file_type(tmp_path / "x.gguf")


def test_mode_from_argument_env_and_errors(monkeypatch):
    monkeypatch.delenv(w.WEIGHTS_ENV, raising=False)
    assert w.weights_mode() == "auto"
    monkeypatch.setenv(w.WEIGHTS_ENV, "Q8_0")
    assert w.weights_mode() == "q8_0"
    assert w.weights_mode("original") == "original"
    monkeypatch.setenv(w.WEIGHTS_ENV, "q4")
    with pytest.raises(ModelError, match="REASONLAB_WEIGHTS='q4' is not one of auto, original, q8_0"):
        w.weights_mode()


def test_choose_keeps_the_file_unless_it_needs_and_will_use_batching(tmp_path, cache, monkeypatch):
    q41 = write_header(tmp_path / "m.gguf", 3)
    q8 = write_header(tmp_path / "n.gguf", 7)
    calls: list[Path] = []
    monkeypatch.setattr(w, "convert", lambda src, dst, threads=0: calls.append(dst) or dst)
    assert w.choose(q41, "original", batching=True) == (q41, "original")
    assert w.choose(q41, "auto", batching=False) == (q41, "original (Q4_1)")
    assert w.choose(q8, "q8_0") == (q8, "original (Q8_0)")  # already Q8_0: nothing to convert
    assert calls == []
    path, note = w.choose(q41, "auto", batching=True)
    assert note == "q8_0 (from Q4_1)" and path.parent == cache and calls == [path]
    assert path.name.startswith("m.") and path.name.endswith(".q8_0.gguf")
    w.expect_batching()
    assert w.choose(q41)[1] == "q8_0 (from Q4_1)"  # the process-wide hint


def test_cached_copy_is_keyed_by_the_source(tmp_path, cache):
    a = write_header(tmp_path / "m.gguf", 3)
    first = w.cached_copy(a)
    assert w.cached_copy(a) == first
    write_header(a, 9)  # same name, other contents: another copy
    assert w.cached_copy(a) != first
    assert str(first).startswith(str(cache))


def test_unreadable_header_is_one_line(tmp_path, cache):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00")
    with pytest.raises(ModelError, match="cannot read the GGUF header"):
        w.choose(bad, "q8_0")
    assert w.choose(bad, "auto", batching=True) == (bad, "original (unknown)")  # llama.cpp has the last word


def test_cli_weights_option_sets_the_environment(monkeypatch):
    from reasonlab.cli import cli as main

    monkeypatch.delenv(w.WEIGHTS_ENV, raising=False)
    r = CliRunner().invoke(main, ["ask", "x", "--weights", "bogus", "-m", "scripted:none.json"])
    assert r.exit_code == 2 and "'bogus' is not one of" in r.output
    r = CliRunner().invoke(main, ["ask", "--help"])
    assert "--weights" in r.output and "REASONLAB_WEIGHTS" in r.output
    assert "--weights" in CliRunner().invoke(main, ["eval", "--help"]).output
    assert "--weights" in CliRunner().invoke(main, ["serve", "--help"]).output


def test_batching_hint_from_strategy_samples():
    from reasonlab.cli._common import expect_batching

    w.expect_batching(False)
    expect_batching("zero-shot-cot", {})
    assert not w.batching_expected()
    expect_batching("self-consistency", {"samples": 1})
    assert not w.batching_expected()
    expect_batching("self-consistency", {})  # default k = 8
    assert w.batching_expected()
    w.expect_batching(False)
    expect_batching("direct", {}, concurrency=4)
    assert w.batching_expected()
    w.expect_batching(False)


# -- the real conversion (embedded model) -------------------------------------------------------
@pytest.mark.embedded
def test_convert_reuse_corrupt_and_original(cache, monkeypatch):
    from reasonlab.models import load_model
    from reasonlab.models.base import GenParams

    m = load_model("smollm2", n_threads=1, weights="q8_0")
    try:
        assert m.weights == "q8_0 (from Q4_1)" and m.path.parent == cache and m.source.name.endswith("Q4_1.gguf")
        assert w.file_type(m.path) == w.Q8_0 and m.identity != f"llama:{m.source.name}"
        out = m.generate([{"role": "user", "content": "Say hi."}], GenParams(temperature=0, max_tokens=8))
        assert out[0].completion_tokens > 0
        copy = m.path
    finally:
        m.close()
    assert [p.name for p in cache.iterdir()] == [copy.name]  # no temporary file left behind
    stamp = copy.stat().st_mtime_ns

    def no_convert(*_a, **_k):
        raise AssertionError("converted again")

    with monkeypatch.context() as mp:  # a second load reuses the copy
        mp.setattr(w, "convert", no_convert)
        m2 = load_model("smollm2", n_threads=1, weights="q8_0")
        assert m2.path == copy
        m2.close()
    assert copy.stat().st_mtime_ns == stamp
    # a damaged copy (right header, data cut off) is deleted and converted again
    data = copy.read_bytes()
    copy.write_bytes(data[: len(data) // 3])
    assert w.file_type(copy) == w.Q8_0
    m3 = load_model("smollm2", n_threads=1, weights="q8_0")
    try:
        assert m3.path == copy and copy.stat().st_size == len(data)
    finally:
        m3.close()
    os.environ.pop(w.WEIGHTS_ENV, None)
    m4 = load_model("smollm2", n_threads=1, weights="original")
    try:
        assert m4.path == m4.source and m4.weights == "original" and m4.info().extra["weights"] == "original"
    finally:
        m4.close()


@pytest.mark.embedded
def test_unwritable_cache_is_one_line(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    from reasonlab.models import load_model

    with pytest.raises(ModelError, match="cannot write the Q8_0 copy of SmolLM2"):
        load_model("smollm2", n_threads=1, weights="q8_0")
