"""Read a model's plan back into grounded actions — tolerant of formatting, never guessing.

The plan is the text up to "[PLAN END]" (anything after it is set aside and reported). Each
non-empty line loses its numbering or bullet ("1.", "Step 2:", "-") and is matched against the
vocabulary's action wordings and the PDDL form ("(unstack a b)", "unstack(a, b)"). A line that
mentions an action word but matches nothing is an *error* (it becomes part of the critique); a
line with no action word at all is *commentary* and is listed as ignored. Nothing is dropped
without a record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .pddl import GroundAction
from .render import PLAN_END, PLAN_START, Vocabulary

_BULLET = re.compile(r"^\s*(?:(?:step|action)\s*\d+\s*[:.)\-]?|\d+\s*[.):\-]|[-*•>]+|#+)\s*", re.IGNORECASE)
_MARKUP = re.compile(r"[*`_]{2,}|`")


def strip_bullet(line: str) -> str:
    """A line without its numbering, bullet, markup and trailing punctuation."""
    line = _MARKUP.sub("", line).strip()
    return _BULLET.sub("", line).strip().rstrip(".;:,!").strip()


@dataclass
class LineError:
    line_no: int  # 1-based, within the model's output
    text: str

    def __str__(self) -> str:
        return f"line {self.line_no} {self.text!r}"


@dataclass
class ParsedPlan:
    actions: list[GroundAction] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # commentary lines (no action word)
    trailing: str = ""  # text after [PLAN END]
    ended: bool = False  # an explicit [PLAN END] was seen
    cut_off: str = ""  # an unfinished last line (the output hit its token limit), not read

    @property
    def ok(self) -> bool:
        """Every action line was read, and there is at least one action."""
        return bool(self.actions) and not self.errors

    def to_dict(self) -> dict:
        return {"actions": [a.pddl() for a in self.actions], "errors": [str(e) for e in self.errors],
                "ignored": self.ignored, "ended": self.ended, "trailing": self.trailing[:500],
                "cut_off": self.cut_off}


def plan_region(text: str) -> tuple[str, str, bool, int]:
    """(plan text, text after [PLAN END], whether it ended, line offset of the plan text)."""
    end = text.upper().find(PLAN_END)
    head, trailing = (text[:end], text[end + len(PLAN_END):]) if end >= 0 else (text, "")
    offset = 0
    start = head.upper().rfind(PLAN_START)
    if start >= 0:  # the model repeated the marker: read after its last copy
        offset = head[: start + len(PLAN_START)].count("\n")
        head = head[start + len(PLAN_START):]
    return head, trailing, end >= 0, offset


def parse_plan(text: str, vocab: Vocabulary, truncated: bool = False) -> ParsedPlan:
    """Grounded actions in `text`, with every line that could not be read recorded.

    truncated: the output stopped at its token limit; an unfinished last line (no newline after
    it, no [PLAN END]) is then set aside as `cut_off` instead of being read.
    """
    body, trailing, ended, offset = plan_region(text or "")
    out = ParsedPlan(trailing=trailing.strip(), ended=ended)
    keywords = vocab.keywords()
    lines = body.splitlines()
    if truncated and not ended and lines and not body.endswith("\n"):
        out.cut_off = lines.pop().strip()
    for i, raw in enumerate(lines, start=1 + offset):
        line = _MARKUP.sub("", raw).strip()
        if not line:
            continue
        line = _BULLET.sub("", line).strip().rstrip(".;:,!").strip()
        if not line:
            continue
        act = vocab.read_action(line)
        if act is not None:
            out.actions.append(act)
            continue
        words = set(vocab.clean_line(line).split())
        if words & keywords or line.startswith("("):
            out.errors.append(LineError(i, raw.strip()))
        else:
            out.ignored.append(raw.strip())
    return out
