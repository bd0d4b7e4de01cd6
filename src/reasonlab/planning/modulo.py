"""LLM-Modulo (Kambhampati et al. 2024): the model proposes plans, a sound validator checks them,
critiques go back, and the loop repeats for up to N rounds.

`run_loop(ctx, planning, LoopOptions(...))` drives it through a `RunContext` (cache, trace,
budgets apply). Three parts of the framework beyond "regenerate from the critique", each
switchable (`LoopOptions.plain()` turns all three off: the paper's loop):

- **well-formed steps** (`grammar`): a GBNF grammar built from the PDDL constrains every plan
  line to an action of the domain on the problem's objects, in the prompt's words (backends
  without grammars ignore it; the strict parser then names each unreadable line);
- **prefix-keeping back-prompts** (`prefix`, the reformulator): the executable prefix of the best
  attempt is kept; the next prompt states the state it reaches in the task's words, the failing
  step's critique, and asks for the rest of the plan only. An attempt whose goals held part-way
  is also tried cut at that point (the validator decides);
- **several candidates per round** (`candidates` = k): k plans from one batched request, all
  validated; the first valid one is returned, else the best (fewest unmet goals after its
  executable prefix, then the longest prefix) is critiqued.

Optionally (`applicable`, a critic that knows the simulator): the grammar's first line is one of
the actions applicable where the attempt starts (the initial state, or the kept prefix's end),
and the back-prompt lists them, so every round with prefix keeping gains at least one step.

With `rounds=1` it is the *autonomous* mode. **Soundness by construction**: `Outcome.valid` is
true only when the validator accepted exactly the returned plan; no other path sets it. A
completion stopped by the model layer's degeneration guard (finish reason `repetition`) is a
failed candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..context import RunContext
from ..errors import InputError
from .grammar import plan_grammar
from .parse import ParsedPlan, parse_plan
from .pddl import GroundAction
from .render import INSTRUCTION, PLAN_END, PLAN_START, Vocabulary, join_words, plan_lines, state_words
from .simulate import Trace, applicable, initial_state, simulate, unmet_goals
from .task import PlanningTask
from .validate import Verdict, validate

HISTORY = ("last", "full")


@dataclass
class LoopOptions:
    rounds: int = 15
    max_tokens: int = 256
    temperature: float = 0.0  # first round with one candidate
    retry_temperature: float = 0.7  # later rounds, and every round with several candidates
    history: str = "last"  # plain back-prompts: "last" attempt + critique, or the "full" history
    grammar: bool = True
    prefix: bool = True
    candidates: int = 3
    max_steps: int = 16  # most lines the grammar allows per attempt
    label: str = "plan"
    applicable: bool = False  # the first step of each attempt is one of the actions applicable where it starts

    def plain(self) -> LoopOptions:
        """The same options with the three additions off (the paper's loop)."""
        return LoopOptions(self.rounds, self.max_tokens, self.temperature, self.retry_temperature, self.history,
                           False, False, 1, self.max_steps, self.label)


@dataclass
class Candidate:
    output: str
    finish_reason: str
    parsed: ParsedPlan
    attempt: list[GroundAction]  # kept prefix + this candidate's steps (what was validated)
    verdict: Verdict | None  # None when the output could not be read as a plan
    critique: str
    trace: Trace | None = None
    trimmed: bool = False  # the attempt was cut where its goals first held

    @property
    def valid(self) -> bool:
        return bool(self.verdict and self.verdict.valid)

    def score(self, planning: PlanningTask) -> tuple[int, int]:
        """Higher is better: fewest unmet goals after the executable prefix, then its length."""
        if self.trace is None:
            return (-10**6, -1)
        return (-len(unmet_goals(planning.task.strips, self.trace.state)), self.trace.executable)

    def to_dict(self) -> dict[str, Any]:
        return {"output": self.output, "finish_reason": self.finish_reason, "parsed": self.parsed.to_dict(),
                "attempt": [a.pddl() for a in self.attempt], "verdict": self.verdict.to_dict() if self.verdict else None,
                "critique": self.critique, "valid": self.valid, "trimmed": self.trimmed}


@dataclass
class Round:
    index: int  # 1-based
    candidates: list[Candidate]
    chosen: int  # the candidate that was returned (valid) or critiqued
    prefix: list[GroundAction] = field(default_factory=list)  # kept from earlier rounds, given to this one
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def best(self) -> Candidate:
        return self.candidates[self.chosen]

    def to_dict(self) -> dict[str, Any]:
        b = self.best
        return {"round": self.index, "output": b.output, "parsed": b.parsed.to_dict(),
                "attempt": [a.pddl() for a in b.attempt], "verdict": b.verdict.to_dict() if b.verdict else None,
                "critique": b.critique, "valid": b.valid, "prefix": [a.pddl() for a in self.prefix],
                "chosen": self.chosen, "candidates": [c.to_dict() for c in self.candidates],
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


@dataclass
class Outcome:
    valid: bool
    plan: list[GroundAction] | None  # the validated plan; None unless valid
    rounds: list[Round] = field(default_factory=list)
    status: str = "no_valid_plan"  # "valid" | "no_valid_plan"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def rounds_used(self) -> int:
        return len(self.rounds)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": "modulo", "valid": self.valid, "status": self.status, "rounds_used": self.rounds_used,
                "plan": [a.pddl() for a in self.plan] if self.plan else None, "options": self.options,
                "rounds": [r.to_dict() for r in self.rounds]}


def read_critique(parsed: ParsedPlan, vocab: Vocabulary) -> str | None:
    """A critique for output that cannot be validated as it stands, or None if it can."""
    if parsed.errors:
        lines = "; ".join(str(e) for e in parsed.errors[:5])
        more = f" (and {len(parsed.errors) - 5} more)" if len(parsed.errors) > 5 else ""
        example = next(iter(vocab.view.actions))
        return (f"I could not read these lines of your plan as actions: {lines}{more}. Write each step "
                f"exactly in the wording of the actions above (for example '{_sample_action(vocab, example)}'), "
                "one per line.")
    if not parsed.actions:
        return "I could not find a plan in your answer. Write the plan one action per line, ending with " \
               f"{PLAN_END}."
    return None


def _sample_action(vocab: Vocabulary, name: str) -> str:
    objs = vocab.view.objects
    n = len(vocab.view.actions[name].params)
    args = tuple(objs[i % len(objs)] for i in range(n)) if objs else ()
    return vocab.action(GroundAction(name, args))


def back_prompt(planning: PlanningTask, critique: str) -> str:
    """The paper's back-prompt: the critique and a request for a new, complete plan."""
    return (f"{critique}\n\nPlease write a new, complete plan for the same problem, one action per line, "
            f"ending with {PLAN_END}.\n\n{planning.statement()}")


def continue_prompt(planning: PlanningTask, prefix: list[GroundAction], trace: Trace, critique: str,
                    options: list[GroundAction] | None = None) -> str:
    """The reformulator: the task restated from the state the kept prefix reaches."""
    vocab, view = planning.vocab, planning.task.strips
    parts = [vocab.domain_description(), INSTRUCTION]
    ex = planning.example
    if ex is not None:
        ex_vocab = type(vocab)(ex.task.strips)
        parts.append(f"{_statement(ex_vocab, ex.task.strips.init, ex.task.strips.goal)}\n"
                     f"{plan_lines(ex.plan, ex_vocab)}\n{PLAN_END}")
    note = f"My last attempt was checked: {critique}"
    if prefix:
        note += (f"\nI keep the {len(prefix)} step(s) that work and have already performed them: "
                 f"{join_words([vocab.action(a) for a in prefix])}. The conditions below are the state they "
                 "reach; the plan continues from there with the remaining steps only.")
    if options:
        note += ("\nFrom there, the actions I can perform first are: "
                 f"{join_words([vocab.action(a) for a in options])}.")
    parts.append(note)
    parts.append(_statement(vocab, trace.state, view.goal))
    return "\n\n".join(parts)


def _statement(vocab: Vocabulary, state: Any, goal: Any) -> str:
    return (f"[STATEMENT]\nAs initial conditions I have that {state_words(vocab, state)}.\n"
            f"My goal is to have that {join_words([vocab.literal(g) for g in goal])}.\n\n"
            f"My plan is as follows:\n\n{PLAN_START}")


def _candidate(planning: PlanningTask, prefix: list[GroundAction], text: str, finish: str,
               trim: bool) -> Candidate:
    vocab, view = planning.vocab, planning.task.strips
    parsed = parse_plan(text, vocab, truncated=finish in ("length", "repetition"))
    if finish == "repetition":  # the degeneration guard stopped it: a failed candidate
        return Candidate(text, finish, parsed, list(prefix), None,
                         "Your answer kept repeating itself and was stopped. Write each step once, then "
                         f"{PLAN_END}.")
    problem = read_critique(parsed, vocab)
    if problem is not None:
        return Candidate(text, finish, parsed, list(prefix), None, problem)
    attempt = [*prefix, *parsed.actions]
    verdict = validate(planning.task, attempt, vocab)
    trace = simulate(view, attempt)
    cand = Candidate(text, finish, parsed, attempt, verdict, verdict.critique, trace)
    if trim and not verdict.valid and trace.goal_reached_at:  # the goals held part-way: try it cut there
        cut = attempt[: trace.goal_reached_at]
        v2 = validate(planning.task, cut, vocab)
        if v2.valid:
            cand.attempt, cand.verdict, cand.critique, cand.trimmed = cut, v2, v2.critique, True
            cand.trace = simulate(view, cut)
    if parsed.cut_off and not cand.valid:
        cand.critique += " (Your answer was cut off at the length limit; keep the plan short.)"
    return cand


def run_loop(ctx: RunContext, planning: PlanningTask, opts: LoopOptions | None = None) -> Outcome:
    """Generate → validate → critique → regenerate, up to `opts.rounds` rounds."""
    o = opts or LoopOptions()
    if o.rounds < 1:
        raise InputError(f"rounds must be at least 1, got {o.rounds}")
    if o.candidates < 1:
        raise InputError(f"candidates must be at least 1, got {o.candidates}")
    if o.history not in HISTORY:
        raise InputError(f"history must be one of {', '.join(HISTORY)}, got {o.history!r}")
    grammar = plan_grammar(planning.vocab, planning.arguments, o.max_steps) if o.grammar else None
    view = planning.task.strips
    grounded = planning.ground_actions() if o.applicable else []
    now = applicable(view, grounded, initial_state(view))  # where the next attempt starts (option applicable)
    first = {"role": "user", "content": planning.first_prompt()}
    messages: list[dict[str, str]] = [first]
    out = Outcome(valid=False, plan=None, options={"grammar": o.grammar, "prefix": o.prefix,
                                                   "candidates": o.candidates, "rounds": o.rounds,
                                                   "applicable": o.applicable})
    seen: dict[tuple[GroundAction, ...], int] = {}
    prefix: list[GroundAction] = []
    k = o.candidates
    for r in range(1, o.rounds + 1):
        temp = o.temperature if (r == 1 and k == 1) else o.retry_temperature
        round_grammar = (plan_grammar(planning.vocab, planning.arguments, o.max_steps,
                                      first=[planning.vocab.action(a) for a in now]) if now and o.grammar else grammar)
        comps = ctx.generate(messages, n=k, label=f"{o.label}-round-{r}", temperature=temp, max_tokens=o.max_tokens,
                             stop=[PLAN_END, "[STATEMENT]"], sample_offset=(r - 1) * k, grammar=round_grammar,
                             meta={"round": r, "prefix": len(prefix)})
        cands = [_candidate(planning, prefix, c.text, c.finish_reason, o.prefix) for c in comps]
        for c in cands:
            if c.verdict is not None and not c.valid:
                key = tuple(c.attempt)
                if key in seen:
                    c.critique += f" (You proposed this same plan in round {seen[key]}.)"
                seen.setdefault(key, r)
        valid = [i for i, c in enumerate(cands) if c.valid]
        chosen = valid[0] if valid else max(range(k), key=lambda i: cands[i].score(planning))
        rnd = Round(r, cands, chosen, list(prefix), comps[0].prompt_tokens if comps else 0,
                    sum(c.completion_tokens for c in comps))
        out.rounds.append(rnd)
        ctx.emit("plan_round", rnd.to_dict())
        best = rnd.best
        if best.valid:  # the only place a plan is declared valid: the validator accepted `attempt`
            out.valid, out.plan, out.status = True, list(best.attempt), "valid"
            break
        if r == o.rounds:
            break
        if o.prefix and best.trace is not None and best.trace.executable >= len(prefix):
            prefix = best.attempt[: best.trace.executable]
            now = applicable(view, grounded, best.trace.state)
            messages = [{"role": "user", "content": continue_prompt(planning, prefix, best.trace, best.critique, now)}]
        elif o.prefix and prefix:  # an unreadable answer: restate from the same kept prefix (`now` holds)
            trace = simulate(view, prefix)
            messages = [{"role": "user", "content": continue_prompt(planning, prefix, trace, best.critique, now)}]
        else:
            reply = {"role": "assistant", "content": best.output}
            feedback = {"role": "user", "content": back_prompt(planning, best.critique)}
            messages = [*messages, reply, feedback] if o.history == "full" else [first, reply, feedback]
    return out
