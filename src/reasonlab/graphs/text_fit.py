"""Fit text into diagram labels: shorten or wrap at word boundaries, marking cuts with "…"."""

from __future__ import annotations

import textwrap


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word boundary with "…" when too long."""
    t = " ".join(str(text).split())
    if len(t) <= limit:
        return t
    cut = t[: limit - 1]
    if " " in cut and not t[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]  # do not end inside a word
    return cut.rstrip(" ,;:") + "…"


def wrap(text: str, width: int, max_lines: int) -> list[str]:
    """Word-wrapped lines (at most `max_lines`); the last one ends in "…" when text was left out."""
    t = " ".join(str(text).split())
    if not t:
        return []
    lines = [shorten(line, width) for line in textwrap.wrap(t, width, break_long_words=False,
                                                            break_on_hyphens=False)]
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    last = kept[-1]
    while len(last) + 1 > width and " " in last:
        last = last.rsplit(" ", 1)[0]
    kept[-1] = (last[: width - 1] if len(last) + 1 > width else last).rstrip(" ,;:.…") + "…"
    return kept
