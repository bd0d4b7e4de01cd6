"""Reading a program out of a model reply, and running it for its answer (shared by pal, pot, tree).

Small models wrap code in prose and rename the function, so the code is read leniently: fenced
blocks first, else the longest stretch that parses; a zero-argument function with another name
is used when `solution` is missing; a program with no function is read from a variable or its
printout. `build_program` appends a few lines that print the answer after a random marker, and
`read_output` finds it again.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..answers.normalize import NUMBER_RE

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_ANSWER_NAMES = ("answer", "ans", "result", "final_answer", "solution_value", "total", "res")
_FUNC_NAMES = ("solve", "answer", "main", "compute", "calculate", "get_answer", "find_answer")


# -- reading code out of a reply -----------------------------------------------------------------
def _parses(code: str) -> bool:
    try:
        ast.parse(code)
        return True
    except (SyntaxError, ValueError):
        return False


def _longest_parsing_span(lines: list[str]) -> str | None:
    """The longest run of lines that parses as Python and contains at least one statement of code."""
    best: str | None = None
    starts = [i for i, ln in enumerate(lines)
              if re.match(r"\s*(def |import |from |class |[A-Za-z_][A-Za-z_0-9]*\s*(=|\+=|-=|\*=|/=)|print\(|for |if |while |return )", ln)]
    for i in starts:
        for j in range(len(lines), i, -1):
            chunk = "\n".join(lines[i:j]).strip()
            if best is not None and len(chunk) <= len(best):
                break
            if chunk and _parses(chunk) and _has_code(chunk):
                best = chunk
                break
    return best


def _has_code(code: str) -> bool:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return any(not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)) for n in tree.body)


def extract_code(text: str) -> str | None:
    """The Python program in a model reply: a fenced block if any, else the longest span that parses."""
    blocks = [(lang.lower(), body.strip()) for lang, body in _FENCE.findall(text or "")]
    blocks = [(lang, body) for lang, body in blocks if body and lang in ("", "python", "py", "python3")]
    if blocks:
        for pred in (lambda b: "def solution" in b, lambda b: "def " in b, lambda b: True):
            chosen = [b for _, b in blocks if pred(b)]
            if chosen:
                code = max(chosen, key=len)
                if _parses(code):
                    return code
                span = _longest_parsing_span(code.splitlines())
                if span:
                    return span
    span = _longest_parsing_span((text or "").replace("```", "").splitlines())
    return span


def syntax_error(text: str) -> str | None:
    """Why the reply's largest fenced Python block does not parse (None when there is no such block or
    it parses), for the repair message: a model must see its SyntaxError, not "no program"."""
    blocks = [body.strip() for lang, body in _FENCE.findall(text or "")
              if body.strip() and lang.lower() in ("", "python", "py", "python3")]
    if not blocks:
        return None
    code = max(blocks, key=len)
    try:
        ast.parse(code)
    except SyntaxError as e:
        lines = code.splitlines()
        where = f" in line {e.lineno}: {lines[e.lineno - 1].strip()[:200]}" if e.lineno and 0 < e.lineno <= len(lines) else ""
        return f"SyntaxError: {e.msg}{where}"
    except ValueError as e:  # e.g. a NUL byte in the source
        return f"the program cannot be read: {e}"
    return None


@dataclass
class Entry:
    """How the answer is read from a program: call a function, or read a variable / the printout."""

    kind: str  # "function" | "variable" | "stdout"
    name: str | None = None
    renamed: bool = False


def find_entry(code: str, prefer: str = "function") -> Entry:
    """Where the answer comes from: solution(), a renamed zero-argument function, `answer`, or stdout."""
    tree = ast.parse(code)
    funcs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    top_assigned = {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign))
                    for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
    callable_funcs = [f for f in funcs if not isinstance(f, ast.AsyncFunctionDef) and _no_required_args(f)]
    if prefer == "variable":
        for name in _ANSWER_NAMES:
            if name in top_assigned:
                return Entry("variable", name)
    if any(f.name == "solution" for f in callable_funcs):
        return Entry("function", "solution")
    by_name = {f.name: f for f in callable_funcs}
    for name in _FUNC_NAMES:
        if name in by_name:
            return Entry("function", name, renamed=True)
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    uncalled = [f for f in callable_funcs if f.name not in called]
    if prefer == "function" and (uncalled or callable_funcs):
        return Entry("function", (uncalled or callable_funcs)[-1].name, renamed=True)
    for name in _ANSWER_NAMES:
        if name in top_assigned:
            return Entry("variable", name)
    return Entry("stdout")


def _no_required_args(f: ast.FunctionDef) -> bool:
    a = f.args
    return len(a.posonlyargs) + len(a.args) - len(a.defaults) <= 0 and all(
        d is not None for d in a.kw_defaults)


HARNESS = '''

def __rl_show(v):
    import fractions, decimal
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return repr(v)
        if v == int(v) and abs(v) < 1e16:
            return str(int(v))
        return "%.10g" % v
    if isinstance(v, (int, fractions.Fraction, decimal.Decimal, str)):
        return str(v)
    return repr(v)
'''


def build_program(code: str, entry: Entry, marker: str) -> str:
    """The model's code plus a few lines that print the answer after a random marker."""
    if entry.kind == "function":
        tail = f"print({marker!r} + __rl_show({entry.name}()))\n"
    elif entry.kind == "variable":
        tail = f"print({marker!r} + __rl_show({entry.name}))\n"
    else:
        return code + "\n"
    return code.rstrip() + "\n" + HARNESS + "\nimport sys as __rl_sys\n__rl_sys.stdout.flush()\n" + tail


def read_output(stdout: str, entry: Entry, marker: str) -> tuple[str | None, str]:
    """(answer, the program's own printout without the marker line)."""
    answer = None
    kept = []
    for line in stdout.splitlines():
        if line.startswith(marker):
            answer = line[len(marker):].strip()
        else:
            kept.append(line)
    printed = "\n".join(kept).strip()
    if entry.kind == "stdout":
        lines = [ln.strip() for ln in kept if ln.strip()]
        if lines:
            last = lines[-1]
            nums = NUMBER_RE.findall(last)
            answer = last if not nums or len(last) < 40 else nums[-1]
    if answer in ("None", ""):
        answer = None
    return answer, printed


def clean_traceback(text: str) -> str:
    """Drop the frames of the lines we appended (the answer harness) from a traceback."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines():
        if "__rl_" in line or "@@answer-" in line:
            if out and out[-1].lstrip().startswith('File "'):
                out.pop()
            skipping = True
            continue
        if skipping and set(line.strip()) <= set("^~"):
            continue
        skipping = False
        out.append(line)
    return "\n".join(out)
