"""pot — program of thoughts (Chen et al. 2022): the model writes a straight-line program that
stores the result in `answer` (or prints it); the sandbox runs it. Shares pal's code reading,
self-repair and program voting (options `rounds`, `samples`)."""

from __future__ import annotations

import textwrap

from .base import register
from .pal import PAL, PALOptions

INSTRUCTION = ("Solve the problem by writing a Python program. Compute the result step by step with "
               "clearly named variables and store the final result in a variable named answer. "
               "Use only the standard library. Reply with the program in one ```python code block.")
REPAIR = ("Running your program failed:\n{error}\n\nFix the program. Reply with the complete corrected "
          "program in one ```python code block; it must store the result in `answer`.")
NO_CODE = "Your reply contained no Python program. Reply with a program in one ```python code block that sets answer."


def as_straight_line(program: str) -> str:
    """A `def solution(): … return x` exemplar rewritten as top-level code ending in `answer = x`."""
    body = program.split("\n", 1)[1]
    lines = textwrap.dedent(body).splitlines()
    if lines and lines[-1].startswith("return "):
        lines[-1] = "answer = " + lines[-1][len("return "):]
    return "\n".join(lines)


@register
class PoT(PAL):
    name = "pot"
    description = "Program of thoughts: the model's program sets `answer` (or prints it); the sandbox runs it."
    Options = PALOptions
    entry_preference = "variable"
    instruction = INSTRUCTION

    def exemplar_program(self, program: str) -> str:
        return as_straight_line(program)

    def repair_message(self, error: str) -> str:
        return NO_CODE if error == "no program" else REPAIR.format(error=error)
