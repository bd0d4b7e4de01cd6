"""The KV cache's sequence ids ("slots") as the batching engine sees them: which tokens each
slot's cells hold, which sequence uses it, and room accounting with least-recently-used eviction.

Two layouts (LlamaModel's `kv`): unified — one pool of `n_ctx` cells that all slots share (a
prefix is shared by `llama_memory_seq_cp` over a position range, no copy); split — a stream of
`n_ctx` cells per slot (a prefix is shared by copying the source stream whole, which llama.cpp
does at the next decode, then cutting the copy after the prefix; no slot competes for room)."""

from __future__ import annotations

import time
from typing import Any


def lcp(a: list[int], b: list[int]) -> int:
    """Length of the common prefix of two token lists."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class Slots:
    """Bookkeeping for `n` sequence ids of one llama.cpp memory (`lc` is the llama_cpp module)."""

    def __init__(self, lc: Any, mem: Any, n: int, n_ctx: int, split: bool = False) -> None:
        self.lc, self.mem, self.n, self.n_ctx, self.split = lc, mem, n, n_ctx, split
        self.tokens: list[list[int]] = [[] for _ in range(n)]  # what each slot's cells hold, in order
        self.used = [0.0] * n  # last use, for LRU eviction
        self.owner: list[Any] = [None] * n  # the sequence decoding on it, None when free

    def free(self) -> list[int]:
        return [s for s in range(self.n) if self.owner[s] is None]

    def touch(self, slot: int) -> None:
        self.used[slot] = time.monotonic()

    def clear(self, slot: int, keep: int = 0) -> None:
        """Drop the cells of `slot` from position `keep` on."""
        if keep < len(self.tokens[slot]):
            if not self.lc.llama_memory_seq_rm(self.mem, slot, keep, -1):
                self.lc.llama_memory_seq_rm(self.mem, slot, -1, -1)
                keep = 0
            del self.tokens[slot][keep:]

    def clear_all(self) -> None:
        self.lc.llama_memory_clear(self.mem, True)
        for s in range(self.n):
            self.tokens[s] = []

    def clear_idle(self, but: int | None = None) -> None:
        for s in self.free():
            if s != but:
                self.clear(s)

    def choose(self, prefix: list[int]) -> tuple[int, int, int]:
        """(target, source, shared) for a sequence whose prompt starts with `prefix`: the free slot
        to decode on, and the slot holding the longest shared prefix (target itself, or a busy
        slot such as a sibling sample's, to copy from)."""
        free = self.free()
        own = {s: lcp(self.tokens[s], prefix) for s in free}
        target = max(free, key=lambda s: (own[s], not self.tokens[s], -self.used[s]))
        src, shared = target, own[target]
        for s in range(self.n):
            if s not in own:
                k = lcp(self.tokens[s], prefix)
                if k > shared:
                    src, shared = s, k
        return target, src, shared

    def take(self, target: int, src: int, shared: int, prefix: list[int]) -> None:
        """Make `target` hold exactly prefix[:shared]: cut its own cache or share `src`'s cells."""
        if src != target and self.split:  # streams copy whole (llama.cpp: partial copies across streams abort)
            self.lc.llama_memory_seq_cp(self.mem, src, target, -1, -1)
            self.tokens[target] = list(self.tokens[src])
            self.clear(target, shared)
        elif src != target:
            self.clear(target)
            self.lc.llama_memory_seq_cp(self.mem, src, target, 0, shared)
            self.tokens[target] = prefix[:shared]
        else:
            self.clear(target, shared)
        self.touch(target)

    def cells_in_use(self, active: list[Any]) -> int:
        """Cells held or promised: idle caches in full, each running request's prompt once
        (its samples share it), and every running sequence's whole token allowance."""
        idle = sum(len(self.tokens[s]) for s in self.free())
        prompts = {id(q.req): len(q.req.tokens) for q in active}
        return idle + sum(prompts.values()) + sum(q.req.max_new for q in active)

    def make_room(self, extra: int, active: list[Any], target: int, keep: set[int]) -> bool:
        """Evict idle caches (least recently used first) until `extra` more cells fit. Split: the
        target's own stream holds its sequence (the engine caps tokens at n_ctx), nothing to evict."""
        if self.split:
            return True
        extra -= len(self.tokens[target])  # the target's cache becomes part of the prompt count
        idle = sorted((s for s in self.free() if s != target and s not in keep and self.tokens[s]),
                      key=lambda s: self.used[s])
        while self.cells_in_use(active) + extra > self.n_ctx and idle:
            self.clear(idle.pop(0))
        if self.cells_in_use(active) + extra <= self.n_ctx:
            return True
        if not active:  # alone, it always fits once every other cache is gone
            self.clear_idle(but=target)
            return True
        return False
