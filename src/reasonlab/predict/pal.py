"""pal — program-aided reasoning (Gao et al. 2022), with self-repair and program voting.

The model writes a Python program whose `solution()` returns the answer; the program runs in
the sandbox (never in this process) and the value returned is the answer. Small models wrap
code in prose and rename the function, so the code is read leniently: fenced blocks first,
else the longest stretch that parses; a zero-argument function with another name is used
when `solution` is missing; a program with no function is read like a `pot` program.

Self-repair (self-debugging): when the program raises, times out or gives no answer, the
trimmed error goes back to the model, which returns a fixed program — up to `rounds` times.
With `samples` k > 1, k programs come from one batched request, each is run (and repaired),
and their answers are voted (program self-consistency).
"""

from __future__ import annotations

import ast
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..answers import vote_key
from ..answers.normalize import NUMBER_RE
from ..context import RunContext
from ..prompts import answer_kind
from ..result import Prediction, Problem
from ..sandbox import Limits, SandboxResult, run_code
from .base import Options, Strategy, opt, register
from .self_consistency import Path, tally

# Worked examples written for this project: (question, program).
EXEMPLARS: list[tuple[str, str]] = [
    ("A baker makes 48 rolls. She sells 3 bags of 8 rolls each and gives away 5 rolls. "
     "How many rolls does she have left?",
     "def solution():\n"
     "    rolls_made = 48\n"
     "    rolls_sold = 3 * 8\n"
     "    rolls_given = 5\n"
     "    rolls_left = rolls_made - rolls_sold - rolls_given\n"
     "    return rolls_left"),
    ("A train travels 150 km in 2.5 hours. At the same speed, how far does it travel in 4 hours?",
     "def solution():\n"
     "    speed = 150 / 2.5  # km per hour\n"
     "    distance = speed * 4\n"
     "    return distance"),
    ("Tom has twice as many marbles as Ana. Together they have 36 marbles. How many marbles does Tom have?",
     "def solution():\n"
     "    # ana + 2 * ana = 36\n"
     "    ana = 36 / 3\n"
     "    tom = 2 * ana\n"
     "    return tom"),
    ("A shirt costs $40. It is on sale for 25% off, and then a $3 coupon is applied. What is the final price?",
     "def solution():\n"
     "    price = 40\n"
     "    sale_price = price * (1 - 0.25)\n"
     "    final_price = sale_price - 3\n"
     "    return final_price"),
]

INSTRUCTION = ("Solve the problem by writing a Python program. Define a function solution() that "
               "computes the answer step by step with clearly named variables and returns it. "
               "Use only the standard library. Reply with the program in one ```python code block.")
REPAIR = ("Running your program failed:\n{error}\n\nFix the program. Reply with the complete corrected "
          "program in one ```python code block; solution() must return the answer.")
NO_CODE = "Your reply contained no Python program. Reply with a program in one ```python code block that defines solution()."

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


# -- one program, run and repaired -----------------------------------------------------------
@dataclass
class Attempt:
    """One program run (a round): what the model said, the code, what happened."""

    round: int
    reply: str
    code: str | None
    entry: str | None = None
    answer: str | None = None
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    limit: str | None = None
    error: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PALOptions(Options):
    max_tokens: int = opt(512, "token limit of each program")
    samples: int = opt(1, "number of programs sampled (one batched request); answers are voted")
    rounds: int = opt(2, "self-repair rounds: on an error, timeout or no answer the error goes back to the model")
    shots: int = opt(3, "worked program examples shown before the question (0-4)")
    timeout_s: float = opt(5.0, "wall-clock limit of each program run, seconds")
    memory_mb: int = opt(512, "memory limit of each program run, MiB")
    unsafe_exec: bool = opt(False, "where no sandbox is available, run programs without isolation")
    workers: int = opt(2, "programs run in parallel")


@dataclass
class Sample:
    index: int
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def answer(self) -> str | None:
        return self.attempts[-1].answer if self.attempts else None


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


def program_error(a: Attempt, r: SandboxResult | None) -> str | None:
    """The feedback for a failed attempt, or None when it produced an answer."""
    if a.code is None:
        return "no program"
    if r is None:
        return a.error
    if r.limit:
        return f"The program was stopped by the {r.limit.replace('_', ' ')} limit" + (
            f".\n{clean_traceback(r.error_summary(800))}" if r.stderr.strip() else ".")
    if not r.ok:
        return clean_traceback(r.error_summary(1200))
    if a.answer is None:
        if a.entry == "stdout":
            return "The program ran but printed nothing and defined no solution() function."
        return f"The program ran but {a.entry} gave no answer (it returned None)."
    return None


@register
class PAL(Strategy):
    name = "pal"
    description = "Program-aided: the model writes solution(); the sandbox runs it; errors go back for repair."
    Options = PALOptions
    entry_preference = "function"
    instruction = INSTRUCTION

    # -- prompts -------------------------------------------------------------------------------
    def exemplar_reply(self, program: str) -> str:
        return f"```python\n{program}\n```"

    def exemplar_program(self, program: str) -> str:
        return program

    def messages(self, problem: Problem) -> list[dict[str, str]]:
        shots = max(0, min(self.options.shots, len(EXEMPLARS)))
        msgs: list[dict[str, str]] = [{"role": "system", "content": self.instruction}]
        for q, prog in EXEMPLARS[:shots]:
            msgs.append({"role": "user", "content": q})
            msgs.append({"role": "assistant", "content": self.exemplar_reply(self.exemplar_program(prog))})
        msgs.append({"role": "user", "content": problem.render()})
        return msgs

    def repair_message(self, error: str) -> str:
        return NO_CODE if error == "no program" else REPAIR.format(error=error)

    # -- running ---------------------------------------------------------------------------------
    def limits(self) -> Limits:
        o = self.options
        return Limits(timeout_s=o.timeout_s, cpu_s=max(1, int(o.timeout_s)), memory_mb=o.memory_mb,
                      output_bytes=100_000)

    def execute(self, ctx: RunContext, reply: str, rnd: int, sample: int) -> tuple[Attempt, SandboxResult | None]:
        code = extract_code(reply)
        a = Attempt(round=rnd, reply=reply, code=code)
        if code is None:
            a.error = "no program"
            return a, None
        entry = find_entry(code, self.entry_preference)
        a.entry = f"{entry.name}()" if entry.kind == "function" else (entry.name or "stdout")
        marker = f"@@answer-{secrets.token_hex(6)}@@"
        r = run_code(build_program(code, entry, marker), self.limits(), unsafe=self.options.unsafe_exec)
        a.answer, a.stdout = read_output(r.stdout, entry, marker)
        if not r.ok:
            a.answer = None
        a.stderr, a.exit_code, a.limit, a.seconds = r.stderr[-2000:], r.exit_code, r.limit, r.seconds
        a.error = program_error(a, r)
        ctx.emit("program", {"sample": sample, "round": rnd, "code": code, "answer": a.answer,
                             "error": a.error, "limit": a.limit, "entry": a.entry})
        return a, r

    def repair(self, ctx: RunContext, problem: Problem, sample: Sample) -> None:
        """Feed the last error back and run the fixed program, up to `rounds` times."""
        o = self.options
        history = self.messages(problem)
        for a in sample.attempts:
            history += [{"role": "assistant", "content": a.reply}]
            if a.error:
                history += [{"role": "user", "content": self.repair_message(a.error)}]
        for rnd in range(len(sample.attempts), o.rounds + 1):
            last = sample.attempts[-1]
            if last.error is None:
                return
            reply = ctx.complete(history, label=f"repair {rnd}", temperature=o.temperature,
                                 max_tokens=o.max_tokens, meta={"sample": sample.index, "round": rnd})
            a, _ = self.execute(ctx, reply, rnd, sample.index)
            sample.attempts.append(a)
            history += [{"role": "assistant", "content": reply}]
            if a.error:
                history += [{"role": "user", "content": self.repair_message(a.error)}]

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        k = max(1, o.samples)
        temperature = o.temperature if (k == 1 or o.temperature > 0) else 0.7
        replies = [c.text for c in ctx.generate(self.messages(problem), n=k, label="program",
                                                temperature=temperature, max_tokens=o.max_tokens)]
        samples = [Sample(i) for i in range(k)]
        with ThreadPoolExecutor(max_workers=max(1, min(o.workers, k))) as pool:
            first = list(pool.map(lambda i: self.execute(ctx, replies[i], 0, i)[0], range(k)))
        for s, a in zip(samples, first, strict=True):
            s.attempts.append(a)
        for s in samples:
            if o.rounds > 0:
                self.repair(ctx, problem, s)
        return self.finish(problem, samples)

    def finish(self, problem: Problem, samples: list[Sample]) -> Prediction:
        kind = answer_kind(problem)
        paths = [Path(index=s.index, text=(s.attempts[-1].code or ""), answer=s.answer, strict=s.answer,
                      key=vote_key(s.answer, kind)) for s in samples]
        vote = tally(paths)
        answer = vote.answer
        best = next((s for s in samples if s.answer is not None and vote_key(s.answer, kind) == vote.winner), None)
        shown = best or samples[0]
        final = shown.attempts[-1]
        details: dict[str, Any] = {
            "program": final.code,
            "entry": final.entry,
            "rounds": [a.to_dict() for a in shown.attempts],
            "repairs": sum(len(s.attempts) - 1 for s in samples),
        }
        if len(samples) > 1:
            details["samples"] = [{"index": s.index, "answer": s.answer, "rounds": [a.to_dict() for a in s.attempts]}
                                  for s in samples]
            details["votes"] = vote.counts
            details["share"] = vote.share
        note = None
        if answer is None:
            note = "no program produced an answer" + (f": {final.error.splitlines()[-1]}" if final.error else "")
        reasoning = final.code or final.reply
        if final.stdout:
            reasoning += f"\n\n# printed:\n{final.stdout}"
        return Prediction(answer=answer, strict=answer, reasoning=reasoning, details=details, note=note)
