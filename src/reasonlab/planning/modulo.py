"""LLM-Modulo (Kambhampati et al. 2024): the model proposes a plan, a sound validator checks it,
its critique goes back to the model, and the loop repeats for up to N rounds.

`run_loop(ctx, setup, rounds)` drives the loop through a `RunContext` (so the cache, trace and
budgets apply). With `rounds=1` it is the *autonomous* mode: one attempt, still validated so it
can be scored. **Soundness by construction**: `Outcome.valid` is true only when the validator's
verdict on the returned plan was valid; no other path sets it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..context import RunContext
from ..errors import InputError
from ..result import Problem
from .parse import ParsedPlan, parse_plan
from .pddl import GroundAction, Task
from .render import PLAN_END, Example, Vocabulary, prompt, statement, vocabulary
from .validate import Verdict, validate

HISTORY = ("last", "full")


@dataclass
class Setup:
    """Everything a planning strategy needs: the task, its wording, and the one-shot example."""

    task: Task
    vocab: Vocabulary
    example: Example | None = None

    def first_prompt(self) -> str:
        return prompt(self.task, self.vocab, self.example)


@dataclass
class Round:
    index: int  # 1-based
    output: str
    parsed: ParsedPlan
    verdict: Verdict | None  # None when the output could not be read as a plan
    critique: str
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"round": self.index, "output": self.output, "parsed": self.parsed.to_dict(),
                "verdict": self.verdict.to_dict() if self.verdict else None, "critique": self.critique,
                "valid": bool(self.verdict and self.verdict.valid),
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


@dataclass
class Outcome:
    valid: bool
    plan: list[GroundAction] | None  # the validated plan; None unless valid
    rounds: list[Round] = field(default_factory=list)
    status: str = "no_valid_plan"  # "valid" | "no_valid_plan"

    @property
    def rounds_used(self) -> int:
        return len(self.rounds)

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "status": self.status, "rounds_used": self.rounds_used,
                "plan": [a.pddl() for a in self.plan] if self.plan else None,
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


def back_prompt(setup: Setup, critique: str) -> str:
    return (f"{critique}\n\nPlease write a new, complete plan for the same problem, one action per line, "
            f"ending with {PLAN_END}.\n\n{statement(setup.task, setup.vocab)}")


def run_loop(ctx: RunContext, setup: Setup, rounds: int = 15, *, max_tokens: int = 256,
             temperature: float = 0.0, retry_temperature: float = 0.7, history: str = "last",
             label: str = "plan") -> Outcome:
    """Generate → validate → critique → regenerate, up to `rounds` attempts."""
    if rounds < 1:
        raise InputError(f"rounds must be at least 1, got {rounds}")
    if history not in HISTORY:
        raise InputError(f"history must be one of {', '.join(HISTORY)}, got {history!r}")
    first = {"role": "user", "content": setup.first_prompt()}
    messages: list[dict[str, str]] = [first]
    out = Outcome(valid=False, plan=None)
    seen: dict[tuple[GroundAction, ...], int] = {}
    for k in range(1, rounds + 1):
        temp = temperature if k == 1 else retry_temperature
        comp = ctx.generate(messages, n=1, label=f"{label}-round-{k}", temperature=temp, max_tokens=max_tokens,
                            stop=[PLAN_END, "[STATEMENT]"], sample_offset=k - 1, meta={"round": k})[0]
        text = comp.text
        parsed = parse_plan(text, setup.vocab, truncated=comp.finish_reason == "length")
        critique = read_critique(parsed, setup.vocab)
        verdict = None
        if critique is None:
            verdict = validate(setup.task, parsed.actions, setup.vocab)
            critique = verdict.critique
            key = tuple(parsed.actions)
            if not verdict.valid and key in seen:
                critique += f" (You proposed this same plan in round {seen[key]}.)"
            seen.setdefault(key, k)
        if parsed.cut_off and not (verdict and verdict.valid):
            critique += " (Your answer was cut off at the length limit; keep the plan short.)"
        rnd = Round(k, text, parsed, verdict, critique, comp.prompt_tokens, comp.completion_tokens)
        out.rounds.append(rnd)
        ctx.emit("plan_round", rnd.to_dict())
        if verdict is not None and verdict.valid:  # the only place a plan is declared valid
            out.valid, out.plan, out.status = True, list(parsed.actions), "valid"
            break
        if k == rounds:
            break
        reply = {"role": "assistant", "content": text}
        feedback = {"role": "user", "content": back_prompt(setup, critique)}
        messages = [*messages, reply, feedback] if history == "full" else [first, reply, feedback]
    return out


# -- Problems that carry a planning task (for strategies and the evaluation harness) ---------

def make_problem(task: Task, vocab_style: str = "auto", example: Example | None = None,
                 meta: dict[str, Any] | None = None) -> Problem:
    """A `Problem` whose meta carries the PDDL (and example) a planning strategy needs."""
    vocab = vocabulary(task, vocab_style)
    m: dict[str, Any] = {
        "planning": True, "domain_pddl": task.domain_text, "problem_pddl": task.problem_text,
        "domain_label": task.domain_label, "problem_label": task.problem_label, "task_name": task.name,
        "vocabulary": vocab.kind,
    }
    if example is not None:
        m["example"] = {"domain_pddl": example.task.domain_text, "problem_pddl": example.task.problem_text,
                        "plan": [a.pddl() for a in example.plan], "name": example.task.name}
    m.update(meta or {})
    return Problem(text=statement(task, vocab), kind="plan", language="en", meta=m)


def setup_from_problem(problem: Problem) -> Setup:
    """Rebuild the task, vocabulary and example from a Problem made by `make_problem`."""
    m = problem.meta or {}
    if not m.get("domain_pddl") or not m.get("problem_pddl"):
        raise InputError("planning strategies need a planning problem (PDDL in the problem's meta): "
                         "use `reasonlab plan` or a planning dataset (blocksworld:N, pddl:DIR)")
    task = Task(m["domain_pddl"], m["problem_pddl"], m.get("domain_label", "domain.pddl"),
                m.get("problem_label", "problem.pddl"), name=m.get("task_name", ""))
    style = m.get("vocabulary", "auto")
    vocab = vocabulary(task, style)
    example = None
    ex = m.get("example")
    if ex:
        ex_task = Task(ex.get("domain_pddl", task.domain_text), ex["problem_pddl"], "example-domain.pddl",
                       "example-problem.pddl", name=ex.get("name", "example"))
        ex_vocab = vocabulary(ex_task, style)
        plan = [_read_pddl_action(s, ex_vocab) for s in ex["plan"]]
        example = Example(ex_task, plan)
    return Setup(task, vocab, example)


def _read_pddl_action(text: str, vocab: Vocabulary) -> GroundAction:
    name, *args = text.strip().strip("()").split()
    if name not in vocab.view.actions:
        raise InputError(f"example plan names an unknown action: {text!r}")
    return GroundAction(name, tuple(args))
