"""pal — program-aided reasoning (Gao et al. 2022), with self-repair and program voting.

The model writes a Python program whose `solution()` returns the answer; the program runs in
the sandbox (never in this process) and the value returned is the answer. Small models wrap
code in prose and rename the function, so the code is read leniently: fenced blocks first,
else the longest stretch that parses; a zero-argument function with another name is used
when `solution` is missing; a program with no function is read like a `pot` program.

Self-repair (self-debugging): when the program raises, times out or gives no answer, the
trimmed error goes back to the model, which returns a fixed program — up to `rounds` times.
A reply the model layer stopped as a loop (finish reason ``repetition``) is not repaired but
drawn again from the original prompt. Repair and retry rounds *sample* (`retry_temperature`,
and a seed of their own) so they do not walk the greedy path that failed once more.
With `samples` k > 1, k programs come from one batched request, each is run (and repaired),
and their answers are voted (program self-consistency) — by count, or weighted by each
program's token confidence (``confidence=lowest``, DeepConf) with an early stop (``settle``)
and DeepConf's online stop (``online``: programs after the warm-up end as soon as their sliding
window of token log-probabilities falls below the warm-up's floor; they are dropped, not repaired).
The returned value is rendered in the answer's form (a list of words as text, True as the
question's true-word, float noise removed: answers/program_values.py).
Exemplars: the built-in worked programs, or (``exemplars=POOL.jsonl``, e.g. from
`reasonlab bootstrap -s pal`) verified programs picked by procedure similarity.
"""

from __future__ import annotations

import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..answers import render_value, truth_words, vote_key
from ..context import RunContext
from ..exemplars import resolve, select, symbolic_programs
from ..models.base import FINISH_LOW_CONFIDENCE
from ..problem import Prediction, Problem
from ..prompts import answer_kind
from ..sandbox import Limits, SandboxResult, run_code
from .base import Options, Strategy, StrategyError, opt, register
from .confidence import (
    check_measure,
    check_online,
    check_rule,
    failed,
    sample_record,
    warmup_floor,
)
from .pal_exemplars import BUILTIN, SETS
from .program import (  # noqa: F401 - re-exported: pal is where users look for them
    Entry,
    build_program,
    clean_traceback,
    extract_code,
    find_entry,
    read_output,
    syntax_error,
)
from .self_consistency import Sample as VotePath
from .self_consistency import confidence_vote, round_sizes, tally, vote_settled, wave_sizes

EXEMPLARS = BUILTIN  # the default worked programs (tree imports them as PROGRAMS)

INSTRUCTION = ("Solve the problem by writing a Python program. Define a function solution() that "
               "computes the answer step by step with clearly named variables and returns it. "
               "Use only the standard library. Reply with the program in one ```python code block.")
REPAIR = ("Running your program failed:\n{error}\n\nFix the program. Reply with the complete corrected "
          "program in one ```python code block; solution() must return the answer.")
SIGN = ("Your program returned {value}, but the question asks for an amount that cannot be negative. Check "
        "which quantity is subtracted from which, and every other step; reply with the complete corrected "
        "program in one ```python code block.")
NO_CODE = "Your reply contained no Python program. Reply with a program in one ```python code block that defines solution()."

_NEGATIVES_POSSIBLE = re.compile(r"(?<![\w.])-\s?\$?\d|\bnegative\b|\bbelow zero\b|\bminus\b|\btemperature|"
                                 r"\bdegrees?\b|\bsea level\b|\bnet (?:change|loss|gain)\b", re.IGNORECASE)


def expects_non_negative(problem: Problem, kind: str) -> bool:
    """A number question whose text gives no hint that the answer may be negative (no negative
    literal, no temperature, no "below zero"): a word problem's count, price or time."""
    return kind == "number" and not _NEGATIVES_POSSIBLE.search(problem.render())


def sign_error(answer: str | None) -> str | None:
    """The repair message for a negative number answer, else None."""
    try:
        value = float(str(answer).replace(",", ""))
    except ValueError:
        return None
    return SIGN.format(value=answer) if value < 0 else None


# -- one program, run and repaired -----------------------------------------------------------
LOOP = "loop"  # the error of an attempt the model layer stopped as a repetition loop
LOW = "stopped below the confidence floor"  # the online stop ended it: abandoned, not repaired


@dataclass
class Attempt:
    """One program run (a round): what the model said, the code, what happened."""

    round: int
    reply: str
    code: str | None
    entry: str | None = None
    answer: str | None = None
    value: str | None = None  # the value as the program printed it (before rendering)
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    limit: str | None = None
    error: str | None = None
    seconds: float = 0.0
    finish: str = "stop"
    confidence: float | None = None
    tokens: int = 0
    temperature: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PALOptions(Options):
    max_tokens: int = opt(512, "token limit of each program")
    samples: int = opt(1, "number of programs sampled (one batched request); answers are voted")
    rounds: int = opt(2, "self-repair rounds: on an error, timeout or no answer the error goes back to the model")
    retry_temperature: float = opt(0.7, "temperature of repair and retry rounds (each with a seed of its own)")
    shots: int = opt(3, "worked program examples shown before the question")
    exemplars: str = opt("builtin", "builtin = four short worked programs; gsm8k = eight GSM8K-train programs "
                                    "(PAL paper format, use shots=8); or a pool .jsonl of verified programs "
                                    "(reasonlab bootstrap -s pal)")
    selection: str = opt("fixed", "with a pool: fixed = its first `shots`; similar = most similar by procedure")
    confidence: str = opt("none", "weight program votes by token confidence: none | lowest | mean | tail")
    window: int = opt(16, "tokens per sliding window of the lowest/tail confidence")
    keep: float = opt(1.0, "share of the most confident programs that vote (1 = all)")
    settle: float = opt(0.0, "with samples > 1: stop drawing programs once the vote (confidence-weighted, or "
                             "counts) is settled at this level under settle_rule (0 = draw all)")
    settle_rule: str = opt("safe", "safe = only when the remaining programs cannot overtake the leader; share = "
                                   "on the share alone (DeepConf); beta = P(leader is the majority) >= settle "
                                   "(Adaptive-Consistency)")
    sign_check: bool = opt(True, "a negative answer to a number question with no hint of negatives goes back "
                                 "for repair like an error (kept if no repair round fixes it)")
    warmup: int = opt(2, "with settle or online: programs in the first round; then one at a time with settle, "
                         "else the rest together (0 = half of k first)")
    online: bool = opt(False, "DeepConf online: the warm-up programs set a floor (the least confident one `keep` "
                              "keeps) and every later program stops as soon as `window` tokens average below it; "
                              "such a program is dropped, not repaired (needs confidence=lowest)")
    timeout_s: float = opt(5.0, "wall-clock limit of each program run, seconds")
    memory_mb: int = opt(512, "memory limit of each program run, MiB")
    unsafe_exec: bool = opt(False, "where no sandbox is available, run programs without isolation")
    workers: int = opt(2, "programs run in parallel")


@dataclass
class Program:
    """One sampled program and its repair rounds."""

    index: int
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def answer(self) -> str | None:
        return self.attempts[-1].answer if self.attempts else None


def program_error(a: Attempt, r: SandboxResult | None) -> str | None:
    """The feedback for a failed attempt, or None when it produced an answer."""
    if a.code is None:
        return a.error or "no program"
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

    def exemplar_pairs(self, problem: Problem) -> tuple[list[tuple[str, str]], dict[str, Any]]:
        """(question, program) pairs to show, and how they were chosen."""
        o = self.options
        if o.shots < 0:
            raise StrategyError(f"option shots must be 0 or more, got {o.shots}")
        if o.exemplars in ("builtin", "", "auto"):  # a symbolic question gets programs of its own form
            sym = symbolic_programs(problem.render(), o.shots)
            if sym is not None:
                return ([(ex.question, ex.solution) for ex in sym.exemplars],
                        {"set": sym.method, "selection": "similar", "ids": [ex.id for ex in sym.exemplars]})
        if o.exemplars in ("", "auto"):
            return BUILTIN[:o.shots], {"set": "builtin"}
        if o.exemplars in SETS:
            return SETS[o.exemplars][:o.shots], {"set": o.exemplars}
        if o.selection not in ("fixed", "similar"):
            raise StrategyError(f"option selection must be fixed or similar, got {o.selection!r}")
        name, pool = resolve(o.exemplars, answer_kind(problem), pool=True)
        pool = [ex for ex in pool if "def " in ex.solution or ex.extra.get("format") == "program"]
        if not pool:
            raise StrategyError(f"exemplar pool {name!r} holds no programs (make one with reasonlab bootstrap -s pal)")
        chosen = (pool[:o.shots] if o.selection == "fixed"
                  else select(problem.render(), pool, o.shots).exemplars)
        return ([(ex.question, ex.solution) for ex in chosen],
                {"set": name, "selection": o.selection, "ids": [ex.id for ex in chosen]})

    def messages(self, problem: Problem, pairs: list[tuple[str, str]] | None = None) -> list[dict[str, str]]:
        if pairs is None:
            pairs, _ = self.exemplar_pairs(problem)
        msgs: list[dict[str, str]] = [{"role": "system", "content": self.instruction}]
        for q, prog in pairs:
            msgs.append({"role": "user", "content": q})
            msgs.append({"role": "assistant", "content": self.exemplar_reply(self.exemplar_program(prog))})
        msgs.append({"role": "user", "content": problem.render()})
        return msgs

    def repair_message(self, error: str) -> str:
        if error.startswith(SIGN[:21]):
            return error
        return NO_CODE if error == "no program" else REPAIR.format(error=error)

    @staticmethod
    def check_sign(a: Attempt, non_negative: bool) -> Attempt:
        """With `non_negative`, a negative answer becomes the attempt's error (its answer is kept)."""
        if non_negative and a.error is None:
            a.error = sign_error(a.answer)
        return a

    # -- running ---------------------------------------------------------------------------------
    def limits(self) -> Limits:
        o = self.options
        return Limits(timeout_s=o.timeout_s, cpu_s=max(1, int(o.timeout_s)), memory_mb=o.memory_mb,
                      output_bytes=100_000)

    def execute(self, ctx: RunContext, completion: Any, rnd: int, sample: int,
                form: tuple[str, tuple[str, str]] = ("auto", ("True", "False")),
                temperature: float = 0.0) -> tuple[Attempt, SandboxResult | None]:
        """Run one reply's program; `form` = (answer kind, true/false words) the answer is rendered in."""
        o = self.options
        reply = completion if isinstance(completion, str) else completion.text
        conf, loop = (None, False) if isinstance(completion, str) else sample_record(
            completion, o.confidence if o.confidence != "none" else "lowest", o.window)
        code = extract_code(reply)
        a = Attempt(round=rnd, reply=reply, code=code, confidence=None if conf is None else round(conf, 6),
                    finish=getattr(completion, "finish_reason", "stop") or "stop",
                    tokens=getattr(completion, "completion_tokens", 0), temperature=temperature)
        if loop:
            a.error = LOW if a.finish == FINISH_LOW_CONFIDENCE else LOOP
            ctx.emit("program", {"sample": sample, "round": rnd, "code": code, "answer": None,
                                 "error": LOW if a.error == LOW else "stopped as a loop", "limit": None, "entry": None})
            return a, None
        if code is None:
            a.error = syntax_error(reply) or "no program"  # an unparseable block: the model gets its SyntaxError
            return a, None
        entry = find_entry(code, self.entry_preference)
        a.entry = f"{entry.name}()" if entry.kind == "function" else (entry.name or "stdout")
        marker = f"@@answer-{secrets.token_hex(6)}@@"
        r = run_code(build_program(code, entry, marker), self.limits(), unsafe=o.unsafe_exec)
        a.value, a.stdout = read_output(r.stdout, entry, marker)
        a.answer = render_value(a.value, *form) if r.ok else None
        a.stderr, a.exit_code, a.limit, a.seconds = r.stderr[-2000:], r.exit_code, r.limit, r.seconds
        a.error = program_error(a, r)
        if a.error is not None and (bad := syntax_error(reply)):  # only a fragment of the block was run
            a.error = f"{bad}\n(Only the lines that parse were run; that gave:)\n{a.error}"
        ctx.emit("program", {"sample": sample, "round": rnd, "code": code, "answer": a.answer,
                             "error": a.error, "limit": a.limit, "entry": a.entry})
        return a, r

    def repair(self, ctx: RunContext, base: list[dict[str, str]], program: Program, k: int,
               form: tuple[str, tuple[str, str]], non_negative: bool = False) -> None:
        """Up to `rounds` more attempts: a loop is drawn again from `base`; an error goes back for repair.

        Every round samples at `retry_temperature` with sample index round·k + index (a seed of its own).
        """
        o = self.options
        history = list(base)
        for a in program.attempts:
            history = self._extend(history, base, a)
        temperature = max(o.temperature, o.retry_temperature)
        for rnd in range(len(program.attempts), o.rounds + 1):
            last = program.attempts[-1]
            if last.error is None or last.error == LOW:
                return
            fresh = last.error == LOOP
            msgs = base if fresh else history
            c = ctx.generate(msgs, n=1, label=f"{'retry' if fresh else 'repair'} {rnd}", temperature=temperature,
                             max_tokens=o.max_tokens, sample_offset=rnd * k + program.index,
                             meta={"sample": program.index, "round": rnd})[0]
            a, _ = self.execute(ctx, c, rnd, program.index, form, temperature)
            program.attempts.append(self.check_sign(a, non_negative))
            history = self._extend(base if fresh else history, base, a)

    def _extend(self, history: list[dict[str, str]], base: list[dict[str, str]], a: Attempt) -> list[dict[str, str]]:
        """The conversation after attempt `a`; a looping reply is left out (the next round starts afresh)."""
        if a.error == LOOP:
            return list(base)
        out = [*history, {"role": "assistant", "content": a.reply}]
        if a.error:
            out.append({"role": "user", "content": self.repair_message(a.error)})
        return out

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        check_measure(o)
        k = max(1, o.samples)
        kind = answer_kind(problem)
        form = (kind, truth_words(problem.text, problem.choices, problem.meta))
        non_negative = o.sign_check and expects_non_negative(problem, kind)
        pairs, ex_info = self.exemplar_pairs(problem)
        base = self.messages(problem, pairs)
        temperature = o.temperature if (k == 1 or o.temperature > 0) else 0.7
        weighted = o.confidence != "none"
        check_rule(o)
        check_online(o)
        # all k at once; with settle, `warmup` then one at a time; with online alone, `warmup` then the rest
        sizes = ([k] if k == 1 or not (o.settle > 0 or o.online) else
                 round_sizes(k, 1 if o.warmup > 0 else 0, o.warmup) if o.settle > 0 else wave_sizes(k, 0, o.warmup))
        programs: list[Program] = []
        floor: float | None = None
        for size in sizes:
            start = len(programs)
            outs = ctx.generate(base, n=size, label="program", temperature=temperature, max_tokens=o.max_tokens,
                                sample_offset=start, min_confidence=floor, confidence_window=o.window)
            batch = [Program(start + j) for j in range(size)]
            with ThreadPoolExecutor(max_workers=max(1, min(o.workers, size))) as pool:
                first = list(pool.map(lambda c, i: self.execute(ctx, c, 0, i, form, temperature)[0],
                                      outs, [p.index for p in batch]))
            for p, a in zip(batch, first, strict=True):
                p.attempts.append(self.check_sign(a, non_negative))
                if o.rounds > 0:
                    self.repair(ctx, base, p, k, form, non_negative)
            programs += batch
            if o.online and start == 0:  # the warm-up's first attempts set the floor
                floor = warmup_floor([p.attempts[0].confidence for p in batch if not failed(p.attempts[0].finish)],
                                     o.keep)
            if o.settle > 0 and len(sizes) > 1:
                if vote_settled(self.vote_paths(programs, kind), k - len(programs), o.settle, o.settle_rule,
                                o.keep, weighted, floor):
                    break
        extra: dict[str, Any] = {"exemplars": ex_info}
        if len(sizes) > 1:
            extra["early_stop"] = {"drawn": len(programs), "saved": k - len(programs)}
        if o.online:
            extra["online"] = {"floor": None if floor is None else round(floor, 6),
                               "cut": sum(a.error == LOW for p in programs for a in p.attempts)}
        return self.finish(programs, kind, extra, floor)

    @staticmethod
    def vote_paths(programs: list[Program], kind: str) -> list[VotePath]:
        """One vote per program: its last attempt's answer, with that completion's confidence."""
        out = []
        for p in programs:
            last = p.attempts[-1]
            out.append(VotePath(index=p.index, text=last.code or "", answer=p.answer, strict=p.answer,
                                key=vote_key(p.answer, kind), confidence=last.confidence, finish=last.finish,
                                tokens=sum(a.tokens for a in p.attempts)))
        return out

    def finish(self, programs: list[Program], kind: str, extra: dict[str, Any] | None = None,
               floor: float | None = None) -> Prediction:
        o = self.options
        paths = self.vote_paths(programs, kind)
        vote = confidence_vote(paths, o.keep, floor) if o.confidence != "none" else tally(paths)
        best = next((p for p in programs if p.answer is not None and vote_key(p.answer, kind) == vote.winner), None)
        shown = best or programs[0]
        final = shown.attempts[-1]
        details: dict[str, Any] = {
            "program": final.code,
            "entry": final.entry,
            "rounds": [a.to_dict() for a in shown.attempts],
            "repairs": sum(len(p.attempts) - 1 for p in programs),
            "loops": sum(a.finish == "repetition" for p in programs for a in p.attempts),
            "attempts": sum(len(p.attempts) for p in programs),
            **(extra or {}),
        }
        if len(programs) > 1:
            details["samples"] = [{"index": p.index, "answer": p.answer, "rounds": [a.to_dict() for a in p.attempts]}
                                  for p in programs]
            details["votes"] = vote.counts
            details["share"] = vote.share
            details["paths"] = [v.summary() for v in paths]
            if o.confidence != "none":
                details["weights"] = vote.weights
        note = None
        if vote.answer is None:
            why = "stopped as a loop" if final.error == LOOP else (final.error or "").strip().splitlines()[-1:]
            note = "no program produced an answer" + (f": {why if isinstance(why, str) else why[0]}" if why else "")
        reasoning = final.code or final.reply
        if final.stdout:
            reasoning += f"\n\n# printed:\n{final.stdout}"
        return Prediction(answer=vote.answer, strict=vote.answer, reasoning=reasoning, details=details, note=note)
