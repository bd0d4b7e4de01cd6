"""Continuous batching: one scheduler thread owns a llama.cpp context and decodes every caller's
sequences together.

A `generate` call from any thread becomes a request of n sequences (one per sample). Between
decode steps the scheduler admits waiting sequences into free sequence ids ("slots") and drops
finished or cancelled ones, so distinct prompts, the n samples of one prompt and calls from other
threads share each `llama_decode`. A step decodes one token of every generating sequence, or
(alternating with those) one chunk of a prompt being read.

KV reuse: every slot remembers the tokens its cells hold. A new sequence takes the free slot whose
cache shares the longest prefix with its prompt, or copies the longest shared prefix from any slot
(``llama_memory_seq_cp``: cells are shared, not duplicated) — the n samples of one prompt read it
once, and a follow-up prompt that extends an earlier one decodes only the new part. Finished slots
keep their cells until the room is needed (least recently used first).

Per sequence: its own sampler (seed, grammar), stop strings, degeneration guard, confidence floor
(DeepConf's online stop), token limit and cancellation (checked every step; partial text kept, finish reason ``cancelled``).

`Engine.stats()` counts generation steps per batch size, decode seconds and thread counts;
``REASONLAB_ENGINE_STATS=1`` prints them to stderr when the process exits (benchmarks read it).
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from .base import FINISH_LOW_CONFIDENCE, Completion, DeltaFn, GenParams, ModelError
from .kv_slots import Slots, lcp
from .repetition import DEFAULT_GUARD, FINISH_REPETITION
from .sequences import FINISH_SETTLED, DoneFn, below_floor
from .sequences import Request as _Request
from .sequences import Seq as _Seq
from .sequences import held_back as _held_back


class Engine:
    """The scheduler. `model` is the LlamaModel that owns the context (samplers, pieces, decode)."""

    def __init__(self, model: Any) -> None:
        self.m = model
        self.lc = model._lc
        self.kv = Slots(self.lc, model._mem, model.n_seq_max, model.n_ctx, split=model.kv_mode == "split")
        self.pending: deque[_Request] = deque()
        self.tasks: deque[tuple[Callable[[], Any], dict[str, Any]]] = deque()
        self.active: list[_Seq] = []
        self.cv = threading.Condition()
        self.closed = False
        self.steps = 0  # decode steps run (tests and benchmarks read it)
        self.max_batch_seqs = 0
        self.gen_batches: Counter[int] = Counter()  # generation steps per number of sequences
        self.seconds = {"gen": 0.0, "prompt": 0.0}  # time inside llama_decode per kind of step
        if os.environ.get("REASONLAB_ENGINE_STATS", "").strip() not in ("", "0"):
            atexit.register(lambda: print("engine-stats " + json.dumps(self.stats()), file=sys.stderr, flush=True))
        self._prefill_turn = False
        self._threads = model.n_threads
        self.thread: threading.Thread | None = None
        self._buf = ctypes.create_string_buffer(64)

    # -- callers (any thread) ---------------------------------------------------------------
    def _start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._loop, name="reasonlab-llama-engine", daemon=True)
            self.thread.start()

    def _wait(self, done: threading.Event, on_abort: Callable[[], None]) -> None:
        try:
            while not done.wait(0.25):
                pass
        except BaseException:  # KeyboardInterrupt in the caller's thread: stop its sequences
            on_abort()
            with self.cv:
                self.cv.notify_all()
            raise

    def generate(self, tokens: list[int], params: GenParams, n: int, sample_offset: int, stops: tuple[str, ...],
                 on_delta: DeltaFn | None, cancel: threading.Event | None,
                 on_done: DoneFn | None = None) -> list[Completion]:
        """n samples of `tokens`. `on_done(index, completion)` runs on the scheduler thread as each
        sample ends (keep it cheap); when it returns True the request's other samples stop at once
        with finish reason ``settled`` (partial text kept; samples not started yet come back empty)."""
        max_new = max(1, min(params.max_tokens, self.m.n_ctx - len(tokens)))
        req = _Request(tokens, params, n, sample_offset, stops, on_delta, cancel, max_new, on_done=on_done,
                       results=[None] * n, waiting=deque(range(n)))
        with self.cv:
            if self.closed:
                raise ModelError(f"{self.m.spec}: the model was closed")
            self.pending.append(req)
            self._start()
            self.cv.notify_all()

        def abort() -> None:
            req.aborted = True

        self._wait(req.done, abort)
        if req.error is not None:
            raise req.error
        return [c for c in req.results if c is not None]

    def run_task(self, fn: Callable[[int], Any]) -> Any:
        """Run fn(free_slot) on the scheduler thread between steps (scoring, cache resets)."""
        box: dict[str, Any] = {"done": threading.Event()}
        with self.cv:
            if self.closed:
                raise ModelError(f"{self.m.spec}: the model was closed")
            self.tasks.append((fn, box))
            self._start()
            self.cv.notify_all()
        self._wait(box["done"], lambda: None)
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def stats(self) -> dict[str, Any]:
        """Generation steps per batch size, mean batch, decode seconds and steps per thread count."""
        n = sum(self.gen_batches.values())
        mean = sum(k * v for k, v in self.gen_batches.items()) / n if n else 0.0
        return {"steps": self.steps, "gen_steps": n, "mean_gen_batch": round(mean, 2),
                "gen_batches": dict(sorted(self.gen_batches.items())),
                "decode_s": {k: round(v, 2) for k, v in self.seconds.items()}, "threads": dict(self.m.tuner.chosen)}

    def close(self) -> None:
        with self.cv:
            self.closed = True
            self.cv.notify_all()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout=30)

    # -- the scheduler thread ---------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self.cv:
                while not (self.pending or self.active or self.tasks or self.closed):
                    self.cv.wait()
                if self.closed:
                    self._fail_all(ModelError(f"{self.m.spec}: the model was closed"))
                    return
            try:
                self._run_tasks()
                self._admit()
                if self.active:
                    self._step()
                elif self.pending and not self.tasks:
                    with self.cv:  # nothing admitted and nothing running: wait for a change
                        self.cv.wait(0.05)
            except BaseException as e:  # noqa: BLE001 - handed to every caller in flight
                self.kv.clear_all()
                self._fail_all(e if isinstance(e, Exception) else ModelError(str(e)))

    def _fail_all(self, err: BaseException) -> None:
        for s in list(self.active):
            self._release(s)
            s.req.error = err
            s.req.done.set()
        self.active.clear()
        with self.cv:
            pending, self.pending = list(self.pending), deque()
            tasks, self.tasks = list(self.tasks), deque()
        for r in pending:
            r.error = err
            r.done.set()
        for _, box in tasks:
            box["error"] = err
            box["done"].set()

    def _run_tasks(self) -> None:
        while self.tasks:
            free = self.kv.free()
            if not free:
                return
            with self.cv:
                fn, box = self.tasks.popleft()
            slot = min(free, key=lambda s: self.kv.used[s])
            try:
                box["result"] = fn(slot)
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                box["error"] = e
            box["done"].set()

    # -- admission --------------------------------------------------------------------------
    def _admit(self) -> None:
        with self.cv:
            reqs = list(self.pending)
        for req in reqs:
            why = req.stop_reason()
            if why is not None:
                for j in list(req.waiting):
                    req.results[j] = Completion("", len(req.tokens), 0, why)
                req.waiting.clear()
            while req.waiting and not req.reading:
                if not self.kv.free() or not self._admit_one(req):
                    break
            if not req.waiting:
                with self.cv:
                    if req in self.pending:
                        self.pending.remove(req)
                if req.running == 0:
                    req.done.set()
            if not self.kv.free():
                return

    def _admit_one(self, req: _Request) -> bool:
        prefix = req.tokens[:-1]
        target, src, shared = self.kv.choose(prefix)
        extra = req.max_new + (0 if any(q.req is req for q in self.active) else len(req.tokens))
        if not self.kv.make_room(extra, self.active, target, {src}):
            return False
        j = req.waiting[0]
        try:
            sampler = self.m._sampler(req.params, req.params.seed + req.sample_offset + j)
        except Exception as e:  # noqa: BLE001 - e.g. a grammar that does not parse: this request fails
            req.error, req.aborted = e, True
            req.waiting.clear()
            return False
        req.waiting.popleft()
        self.kv.take(target, src, shared, prefix)
        seq = _Seq(req, j, target, sampler, cursor=shared)
        if shared >= len(prefix):
            seq.next_tok, seq.pos = req.tokens[-1], len(prefix)
        else:
            req.reading = True
        self.kv.owner[target] = seq
        self.active.append(seq)
        req.running += 1
        return True

    # -- scoring and resets (tasks) -----------------------------------------------------------
    def score(self, slot: int, full: list[int], logits_from: int, on_logits: Callable[[int, Any], None]) -> None:
        """Decode `full` on `slot` (reusing its cached prefix) with logits from `logits_from` on."""
        # the longest cached prefix anywhere (an eval's scoring prompt shares the question with its
        # reasoning call): its cells are shared into `slot` rather than decoded again
        src = max(range(self.kv.n), key=lambda t: (min(lcp(self.kv.tokens[t], full), logits_from), t == slot))
        keep = min(lcp(self.kv.tokens[src], full), logits_from)
        self.kv.take(slot, src, keep, full)
        if not self.kv.split and self.kv.cells_in_use(self.active) + len(full) - keep > self.m.n_ctx:
            self.kv.clear_idle(but=slot)
        b, n_batch = self.m._batch, self.m.n_batch
        for start in range(keep, len(full), n_batch):
            chunk = full[start:start + n_batch]
            for i, tok in enumerate(chunk):
                b.token[i] = tok
                b.pos[i] = start + i
                b.n_seq_id[i] = 1
                b.seq_id[i][0] = slot
                b.logits[i] = start + i >= logits_from
            self._decode(len(chunk))
            self.kv.tokens[slot].extend(chunk)
            for i in range(len(chunk)):
                if start + i >= logits_from:
                    on_logits(start + i, self.lc.llama_get_logits_ith(self.m._ctx.ctx, i))
        self.kv.touch(slot)

    def reset(self, _slot: int = 0) -> None:
        """Forget every cache not in use."""
        self.kv.clear_idle()

    # -- one decode step --------------------------------------------------------------------
    def _step(self) -> None:
        b = self.m._batch
        for s in list(self.active):
            why = s.req.stop_reason()
            if why is not None:
                self._finish(s, why)
        # A step decodes either one token of every generating sequence, or one chunk of one
        # prompt (alternating while both wait). Never both in one batch: a large batch takes other
        # matrix kernels, and a sample's greedy text would then depend on what ran beside it.
        reading = [s for s in self.active if s.next_tok < 0]
        gen = [s for s in self.active if s.next_tok >= 0]
        entries: list[tuple[_Seq, int, int, bool]] = []
        kind = "gen"
        if reading and (not gen or self._prefill_turn):
            kind = "prompt"
            s = reading[0]
            prefix = s.req.tokens[:-1]
            take = prefix[s.cursor:s.cursor + self.m.n_batch]
            entries = [(s, t, s.cursor + i, False) for i, t in enumerate(take)]
            s.cursor += len(take)
            if s.cursor >= len(prefix) and len(entries) < self.m.n_batch:  # the last token: its logits start the sample
                entries.append((s, s.req.tokens[-1], len(prefix), True))
        else:
            entries = [(s, s.next_tok, s.pos, True) for s in gen]
        self._prefill_turn = not self._prefill_turn
        if not entries:
            return
        for i, (s, tok, pos, want) in enumerate(entries):
            b.token[i] = tok
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = s.slot
            b.logits[i] = want
        threads = self.m.tuner.choose(kind, len(entries))
        if threads != self._threads:
            self.lc.llama_set_n_threads(self.m._ctx.ctx, threads, threads)
            self._threads = threads
        t0 = time.perf_counter()
        self._decode(len(entries))
        spent = time.perf_counter() - t0
        self.m.tuner.record(kind, len(entries), threads, spent)
        self.seconds[kind] += spent
        if kind == "gen":
            self.gen_batches[len(entries)] += 1
        self.steps += 1
        self.max_batch_seqs = max(self.max_batch_seqs, len({id(e[0]) for e in entries}))
        for i, (s, tok, _pos, want) in enumerate(entries):
            self.kv.tokens[s.slot].append(tok)
            if want:
                if s.next_tok < 0:  # just read its prompt: the other samples may copy it now
                    s.req.reading = False
                self._sample(s, i)
        for s in self.active:
            self.kv.touch(s.slot)

    def _decode(self, n_tokens: int) -> None:
        b = self.m._batch
        b.n_tokens = n_tokens
        rc = self.lc.llama_decode(self.m._ctx.ctx, b)
        if rc == 1:  # no room: drop every idle cache and try once more
            self.kv.clear_idle()
            rc = self.lc.llama_decode(self.m._ctx.ctx, b)
        if rc != 0:
            why = "no room left in the KV cache" if rc == 1 else f"llama_decode returned {rc}"
            raise ModelError(f"{self.m.spec}: decoding failed ({why}); try a larger n_ctx or fewer samples")

    def _sample(self, s: _Seq, i: int) -> None:
        lc, req = self.lc, s.req
        ctx = self.m._ctx.ctx
        tok = lc.llama_sampler_sample(s.sampler, ctx, i)
        if lc.llama_vocab_is_eog(self.m._vocab, tok):
            self._finish(s, "stop")
            return
        s.gen.append(tok)
        if req.want_logprobs:
            s.logprobs.append(self.m._token_logprob(lc.llama_get_logits_ith(ctx, i), tok))
        s.raw += self.m._piece(tok, self._buf)
        t = s.raw.decode("utf-8", errors="ignore")
        cut = min((k for k in (t.find(x) for x in req.stops) if k >= 0), default=-1)
        if cut >= 0:
            s.text = t[:cut]
            self._finish(s, "stop")
            return
        s.text = t
        if req.params.guard and DEFAULT_GUARD.looping(t):
            self._finish(s, FINISH_REPETITION)
            return
        if req.params.min_confidence is not None and req.want_logprobs and below_floor(s, req.params):
            self._finish(s, FINISH_LOW_CONFIDENCE)
            return
        if len(s.gen) >= req.max_new:
            self._finish(s, "length")
            return
        self._report(s, len(t) - _held_back(t, req.stops))
        s.next_tok, s.pos = tok, len(req.tokens) + len(s.gen) - 1

    def _report(self, s: _Seq, upto: int) -> None:
        if s.req.on_delta is None or upto <= s.sent:
            return
        piece, s.sent = s.text[s.sent:upto], upto
        try:
            s.req.on_delta(s.req.sample_offset + s.j, piece)
        except BaseException as e:  # noqa: BLE001 - a broken listener fails its own request only
            s.req.error = s.req.error or e
            s.req.aborted = True

    def _release(self, s: _Seq) -> None:
        if s.sampler is not None:
            self.lc.llama_sampler_free(s.sampler)
            s.sampler = None
        self.kv.owner[s.slot] = None

    def _finish(self, s: _Seq, reason: str) -> None:
        req = s.req
        if s.next_tok < 0:  # stopped while reading the prompt: another sample may read it
            req.reading = False
        if s in self.active:
            self.active.remove(s)
        self._release(s)
        if reason != "cancelled":
            self._report(s, len(s.text))
        req.results[s.j] = out = Completion(s.text, len(req.tokens), len(s.gen), reason,
                                            token_logprobs=s.logprobs if req.want_logprobs else None)
        if req.on_done is not None and not req.settled and reason not in ("cancelled", FINISH_SETTLED):
            try:
                req.settled = bool(req.on_done(req.sample_offset + s.j, out))
            except BaseException as e:  # noqa: BLE001 - a failing callback fails its own request only
                req.error, req.aborted = req.error or e, True
        req.running -= 1
        if req.running == 0 and not req.waiting:
            req.done.set()

