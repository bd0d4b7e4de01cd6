"""llama-cpp-python on any GGUF file, decoded by a continuous-batching scheduler (models/engine.py).

Every `generate` call, from any thread, joins one running batch: the n samples of a prompt share
its KV cells (read once, copied by sequence id), distinct prompts and callers decode together,
and a prompt that extends an earlier one decodes only the new part. Each sample has its own
sampler (seed ``params.seed + sample_offset + j``; greedy at temperature 0), grammar, stop
strings, degeneration guard and cancellation; `generate_stream` reports text token by token.

Models without a chat template (base models) get the Question/Answer transcript of
`prompt_format.plain_prompt` plus stop strings. `logprobs` reuses the same cache and reads
the logits of the continuation positions from one decode.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import threading
from pathlib import Path
from typing import Any

from .base import Completion, DeltaFn, GenParams, Message, Model, ModelError, ModelInfo
from .engine import Engine
from .llama_backend import file_identity
from .llama_backend import llama_cpp_module as _llama_cpp
from .prompt_format import PLAIN_STOPS, plain_prompt
from .sequences import DoneFn
from .threads import ThreadTuner, cpu_count, default_threads, fixed_threads
from .weights import choose, discard

__all__ = ["LlamaModel", "cpu_count", "file_identity"]

class LlamaModel(Model):
    streams = True
    guards_repetition = True
    cuts_low_confidence = True
    batches_concurrent_calls = True
    stops_when_settled = True

    """A GGUF model in-process. Thread-safe: concurrent callers are decoded together.

    Args:
      path: the GGUF file. spec: how the user named it (default ``llama:PATH``).
      n_ctx: KV cache cells shared by all sequences (default min(training context, 8192)); with
        kv="split", the cells of each sequence (default min(training context, 2048)).
      n_threads: CPU threads for generation and prompt processing, fixed (default: REASONLAB_THREADS,
        else up to one per available core, tuned per step from measured speed: models/threads.py).
      n_seq_max: most sequences decoded together (all callers); more wait for a free one (default
        32; 8 with kv="split").
      kv: unified | split (default REASONLAB_KV, else unified). unified: one cache whose cells every
        sequence shares (a prompt read once serves all its samples), but each token attends over
        every sequence's cells; split: a stream of n_ctx cells per sequence (n_seq_max × n_ctx
        cells in all), each token attends over its own only — faster batches at long contexts;
        a shared prompt is copied stream to stream.
      flash_attn: llama.cpp's flash attention (None: llama.cpp decides, which on CPU turns it on).
        With it, sample j comes out the same whether decoded alone or in a batch; without it
        the attention kernels differ with the batch size and so, slightly, do the logits.
      chat_template: override the GGUF's template (a Jinja string), or False for the plain format.
      weights: auto | original | q8_0 — load a Q8_0 copy for batched decoding (models/weights.py;
        default REASONLAB_WEIGHTS, else auto).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        spec: str | None = None,
        *,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        n_batch: int = 512,
        n_seq_max: int | None = None,
        n_gpu_layers: int = 0,
        flash_attn: bool | None = None,
        chat_template: str | bool | None = None,
        weights: str | None = None,
        kv: str | None = None,
        verbose: bool = False,
    ) -> None:
        p = Path(path).expanduser()
        self.spec = spec or f"llama:{p}"
        if not p.is_file():
            raise ModelError(f"GGUF file not found: {p}")
        with p.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelError(f"{p} is not a GGUF file (it does not start with the GGUF magic bytes)")
        lc = _llama_cpp()
        from llama_cpp import _internals
        from llama_cpp._utils import suppress_stdout_stderr
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._lc = lc
        mparams = lc.llama_model_default_params()
        mparams.n_gpu_layers = n_gpu_layers
        self.source = p  # the file named; self.path: the file loaded (a Q8_0 copy: models/weights.py)
        self.path, self.weights = choose(p, weights)
        try:
            self._model = _internals.LlamaModel(path_model=str(self.path), params=mparams, verbose=verbose)
        except (ValueError, RuntimeError, OSError) as e:
            if self.path == p:
                raise ModelError(f"cannot load {p}: {str(e).splitlines()[0] if str(e) else 'llama.cpp rejected it'}") from None
            discard(self.path)  # a damaged cached copy: convert once more
            self.path, self.weights = choose(p, weights)
            try:
                self._model = _internals.LlamaModel(path_model=str(self.path), params=mparams, verbose=verbose)
            except (ValueError, RuntimeError, OSError):
                raise ModelError(f"cannot load the Q8_0 copy of {p} ({self.path}); try --weights original") from None
        p = self.path
        self.identity = f"llama:{file_identity(p)}"
        self._vocab = self._model.vocab
        self.n_vocab = self._model.n_vocab()
        self.n_ctx_train = self._model.n_ctx_train()
        self.kv_mode = kv_mode(kv)
        split = self.kv_mode == "split"
        self.n_ctx = int(n_ctx or min(self.n_ctx_train or 8192, 2048 if split else 8192))  # cells a sequence can use
        self.n_threads = int(n_threads or default_threads())
        # threads per step tuned from step times, unless the caller or REASONLAB_THREADS fixed them
        self.tuner = ThreadTuner(self.n_threads, fixed=n_threads is not None or fixed_threads() is not None)
        self.n_batch = max(1, min(n_batch, self.n_ctx))
        self.n_seq_max = max(1, min(n_seq_max or (8 if split else 32), lc.llama_max_parallel_sequences()))
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = self.n_ctx * self.n_seq_max if split else self.n_ctx
        cparams.n_batch = self.n_batch
        cparams.n_ubatch = self.n_batch
        cparams.n_threads = self.n_threads
        cparams.n_threads_batch = self.n_threads
        cparams.n_seq_max = self.n_seq_max
        cparams.kv_unified = not split  # unified: one buffer, the shared prompt's cells serve every sequence
        cparams.swa_full = True  # keep whole-prefix KV for sliding-window models so prefix reuse works
        cparams.no_perf = True
        cparams.flash_attn_type = (lc.LLAMA_FLASH_ATTN_TYPE_AUTO if flash_attn is None
                                   else lc.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attn
                                   else lc.LLAMA_FLASH_ATTN_TYPE_DISABLED)
        try:
            with suppress_stdout_stderr(disable=verbose):  # llama.cpp notes about the KV cache
                self._ctx = _internals.LlamaContext(model=self._model, params=cparams, verbose=verbose)
        except (ValueError, RuntimeError) as e:
            self._model.close()
            raise ModelError(f"cannot create a llama.cpp context for {p}: {e}") from None
        self._mem = self._ctx.memory
        self._batch_cap = max(self.n_batch, self.n_seq_max)
        self._batch = lc.llama_batch_init(self._batch_cap, 0, 1)
        self._lock = threading.Lock()  # guards close()
        self._closed = False
        self._engine = Engine(self)
        self._lp_buf: Any = None

        self.metadata = self._model.metadata()
        template = self.metadata.get("tokenizer.chat_template") if chat_template in (None, True) else chat_template
        self._formatter = None
        if template:
            eos, bos = self._model.token_eos(), self._model.token_bos()
            try:
                self._formatter = Jinja2ChatFormatter(
                    template=str(template),
                    eos_token=self._model.token_get_text(eos) if eos != -1 else "",
                    bos_token=self._model.token_get_text(bos) if bos != -1 else "",
                    add_generation_prompt=True,
                )
            except Exception as e:  # a template llama-cpp-python's Jinja cannot compile
                self.close()
                raise ModelError(f"{p}: cannot use its chat template: {str(e).splitlines()[0]}") from None
        if chat_template not in (None, True):  # a prompt format other than the file's: other outputs
            fmt = hashlib.sha256(str(template).encode()).hexdigest()[:8] if template else "plain"
            self.identity += f":{fmt}"

    # -- prompts ------------------------------------------------------------------------
    @property
    def has_chat_template(self) -> bool:
        return self._formatter is not None

    def prompt_text(self, messages: list[Message]) -> str:
        """The exact text the model sees for `messages` (chat template, or the plain format)."""
        if self._formatter is None:
            return plain_prompt(messages)
        try:
            return self._formatter(messages=messages).prompt
        except Exception as e:  # a Jinja error or the template's raise_exception
            raise ModelError(f"{self.spec}: the chat template rejected the messages: {e}") from None

    def tokenize(self, text: str, *, prompt: bool = False) -> list[int]:
        """Tokens of `text`; a prompt gets the model's BOS where the format expects it."""
        data = text.encode("utf-8")
        if not prompt:
            return self._model.tokenize(data, False, False)
        if self._formatter is not None:  # the template writes BOS and special tokens itself
            return self._model.tokenize(data, False, True)
        return self._model.tokenize(data, self._model.add_bos_token(), False)

    def _piece(self, token: int, buf: ctypes.Array) -> bytes:
        n = self._lc.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        if n < 0:
            big = ctypes.create_string_buffer(-n)
            n = self._lc.llama_token_to_piece(self._vocab, token, big, len(big), 0, False)
            return big.raw[:n]
        return buf.raw[:n]

    def _token_logprob(self, ptr: Any, token: int) -> float:
        """log P(token) under one raw logits row (Completion.token_logprobs: vote confidence)."""
        import numpy as np

        row = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))
        if self._lp_buf is None:
            self._lp_buf = np.empty(self.n_vocab, dtype=np.float32)
        top = float(row.max())
        np.subtract(row, top, out=self._lp_buf)
        np.exp(self._lp_buf, out=self._lp_buf)
        return float(row[token]) - top - math.log(float(self._lp_buf.sum(dtype=np.float64)))

    def reset_cache(self) -> None:
        """Forget the KV cache (the next call decodes its whole prompt; benchmarks use this)."""
        self._engine.run_task(self._engine.reset)

    @property
    def engine(self) -> Engine:
        return self._engine

    def _sampler(self, params: GenParams, seed: int) -> Any:
        lc = self._lc
        chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        if params.grammar:
            # First in the chain: it masks tokens the grammar forbids; llama_sampler_sample
            # accepts the chosen token on the whole chain, which advances the grammar.
            from llama_cpp._utils import suppress_stdout_stderr

            with suppress_stdout_stderr(disable=False):  # the parser's error lines go to stderr
                grammar = lc.llama_sampler_init_grammar(self._vocab, params.grammar.encode("utf-8"), b"root")
            if not grammar:
                lc.llama_sampler_free(chain)
                raise ModelError(f"{self.spec}: the grammar does not parse as GBNF with a `root` rule")
            lc.llama_sampler_chain_add(chain, grammar)
        if params.temperature <= 0:
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_greedy())
        else:
            if params.top_p < 1.0:
                lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_p(params.top_p, 1))
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_temp(params.temperature))
            seed &= 0xFFFFFFFF
            if seed == lc.LLAMA_DEFAULT_SEED:  # that value means "random" to llama.cpp
                seed = 0xFFFFFFFE
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_dist(seed))
        return chain

    # -- generation ---------------------------------------------------------------------
    def generate(self, messages, params, n=1, sample_offset=0, tools=None) -> list[Completion]:
        """n samples of one prompt as parallel sequences; `tools` is ignored (text protocols only)."""
        return self.generate_stream(messages, params, n, sample_offset, tools)

    def generate_stream(self, messages: list[Message], params: GenParams, n: int = 1, sample_offset: int = 0,
                        tools: list[dict[str, Any]] | None = None, *, on_delta: DeltaFn | None = None,
                        cancel: threading.Event | None = None, on_done: DoneFn | None = None) -> list[Completion]:
        if n <= 0:
            return []
        tokens = self.tokenize(self.prompt_text(messages), prompt=True)
        if not tokens:
            raise ModelError(f"{self.spec}: the prompt is empty")
        if len(tokens) >= self.n_ctx:
            raise ModelError(f"{self.spec}: the prompt has {len(tokens)} tokens; the context holds {self.n_ctx}")
        stops = tuple(s for s in params.stop if s) + (() if self._formatter else PLAIN_STOPS)
        if self._closed:
            raise ModelError(f"{self.spec}: the model was closed")
        return self._engine.generate(tokens, params, n, sample_offset, stops, on_delta, cancel, on_done)

    # -- scoring ------------------------------------------------------------------------
    def logprobs(self, messages: list[Message], continuation: str) -> list[float]:
        """Log-probability of each token of `continuation` right after the prompt of `messages`."""
        import numpy as np

        prompt = self.tokenize(self.prompt_text(messages), prompt=True)
        cont = self.tokenize(continuation)
        if not cont:
            return []
        full = prompt + cont
        if len(full) > self.n_ctx:
            raise ModelError(f"{self.spec}: prompt + continuation has {len(full)} tokens; the context holds {self.n_ctx}")
        plen = len(prompt)
        scores: list[float] = []

        def take(pos: int, ptr: Any) -> None:
            if pos >= len(full) - 1:
                return
            row = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).astype(np.float64)
            top = row.max()
            lse = top + math.log(float(np.exp(row - top).sum()))
            scores.append(float(row[full[pos + 1]] - lse))

        if self._closed:
            raise ModelError(f"{self.spec}: the model was closed")
        start = 0 if plen == 0 else plen - 1  # nothing to condition on: score from the first token
        self._engine.run_task(lambda slot: self._engine.score(slot, full, start, take))
        return scores

    # -- the rest -----------------------------------------------------------------------
    def info(self) -> ModelInfo:
        return ModelInfo(
            spec=self.spec, backend="llama", n_params=int(self._model.n_params()),
            context_length=int(self.n_ctx_train), chat_template=self.has_chat_template,
            supports_logprobs=True, supports_tools=False,
            extra={"path": str(self.path), "size": self.path.stat().st_size, "n_ctx": self.n_ctx,
                   "weights": self.weights, "source": str(self.source),
                   "n_threads": self.n_threads,
                   "threads_tuned": len(self.tuner.candidates) > 1, "n_seq_max": self.n_seq_max, "kv": self.kv_mode,
                   "description": self._model.desc(),
                   "architecture": self.metadata.get("general.architecture"),
                   "name": self.metadata.get("general.name")},
        )

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._engine.close()
            self._lc.llama_batch_free(self._batch)
            self._ctx.close()
            self._model.close()

    def __del__(self) -> None:
        try:
            if not getattr(self, "_closed", True):
                self.close()
        except Exception:
            pass


KV_ENV = "REASONLAB_KV"
KV_MODES = ("unified", "split")


def kv_mode(kv: str | None) -> str:
    """The KV cache layout: `kv` if given, else REASONLAB_KV, else unified; ModelError when unknown."""
    mode = (kv or os.environ.get(KV_ENV, "") or "unified").strip().lower()
    if mode not in KV_MODES:
        raise ModelError(f"unknown KV cache layout {mode!r} (kv / {KV_ENV}): use {' or '.join(KV_MODES)}")
    return mode
