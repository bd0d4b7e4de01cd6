"""The degeneration guard: notice a completion that has started to loop, so it can stop early.

Greedy decoding of small models falls into loops (``x = x * 2`` repeated until the token limit).
`RepetitionGuard` looks at the tail of the growing text after each token:

- **a repeated window**: the last ``min_span`` characters (or more) are periodic with a period
  of at most ``max_period`` characters, repeated at least ``min_repeats`` times
  (``abcabcabc…``, the same line over and over, the same two lines alternating);
- **a repeated line**: a non-blank line of at least ``min_line`` characters, as it ends, has
  appeared ``line_repeats`` times among the last ``line_window`` non-blank lines (a loop whose
  other lines vary).

The llama backend checks inside its decode loop and stops the sequence at once; other
backends are checked after the fact (`RunContext`, `loop_start`: cut where the guard would
have stopped it), with the same finish reason ``repetition``.
The thresholds are conservative: ordinary prose, numbers and code do not trip it. Turn it off
per call (``guard=False``), per run (``RunContext(repetition_guard=False)``) or everywhere
(``REASONLAB_REPETITION_GUARD=0``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

FINISH_REPETITION = "repetition"


def guard_enabled_by_default() -> bool:
    """False when REASONLAB_REPETITION_GUARD is 0/off/false/no."""
    return os.environ.get("REASONLAB_REPETITION_GUARD", "1").strip().lower() not in ("0", "off", "false", "no")


@dataclass(frozen=True)
class RepetitionGuard:
    """Loop detector on text. `looping(text)` is cheap enough to call after every token."""

    min_span: int = 160  # characters the periodic tail must cover
    min_repeats: int = 3  # …and at least this many periods
    max_period: int = 400
    key_len: int = 12  # the tail snippet whose earlier occurrences give candidate periods
    min_line: int = 12
    line_window: int = 16
    line_repeats: int = 6

    def looping(self, text: str) -> bool:
        return self._periodic_tail(text) or self._repeated_line(text)

    def _periodic_tail(self, text: str) -> bool:
        n, k = len(text), self.key_len
        if n < self.min_span + k:
            return False
        key = text[n - k:]
        lo = max(0, n - k - self.max_period)
        hi = n - 1  # an occurrence must end before the text does
        while True:
            j = text.rfind(key, lo, hi)
            if j < 0:
                return False
            p = n - k - j  # a candidate period, smallest first
            need = max(self.min_span, self.min_repeats * p)
            if need <= n and text[n - need:n - p] == text[n - need + p:]:
                return True
            hi = j + k - 1

    def _repeated_line(self, text: str) -> bool:
        if text.count("\n") < self.line_repeats:
            return False
        tail = text[-(self.line_window * 200):]
        lines = [ln.strip() for ln in tail.split("\n")[:-1]]  # the last line may still be growing
        lines = [ln for ln in lines if ln][-self.line_window:]
        if len(lines) < self.line_repeats or len(lines[-1]) < self.min_line:
            return False
        return lines.count(lines[-1]) >= self.line_repeats  # checked as each line ends: its own count


DEFAULT_GUARD = RepetitionGuard()


def loop_start(text: str, guard: RepetitionGuard = DEFAULT_GUARD) -> int | None:
    """Where the guard would have stopped `text` had it watched it being generated (the length
    of the text to keep), or None. For backends whose text arrives whole."""
    if len(text) < guard.min_span and text.count("\n") < guard.line_repeats:
        return None
    ends = sorted({*range(min(guard.min_span, len(text)), len(text), 8), len(text),
                   *(i + 1 for i, ch in enumerate(text) if ch == "\n")})
    for end in ends:
        if guard.looping(text[:end]):
            return end
    return None
