"""tree — Tree of Thoughts (Yao et al. 2023): beam search over partial solutions, one step at a time.

A *state* is the question plus the steps written so far. Each level, every state in the beam is
expanded into `expand` candidate next steps (one batched, sampled request per state; a step is
one line), each candidate is scored, and the `beam` best states go on (beam = 1 with
expand = 1 is greedy step-by-step CoT; a wide beam is breadth-first search).

Modes: ``text`` — steps of a written solution ending in "The answer is …"; ``code`` — lines of
the body of ``def solution():``; the state is complete at a ``return``.

Scoring (`scoring`):
- ``logprob`` — the step's mean token log-probability (`Completion.token_logprobs`; free);
- ``self``    — the model judges the partial solution: P("yes") / (P("yes") + P("no")) to
  "Is this a correct way to continue?" from `ctx.logprobs` (one scoring call per candidate);
- ``execute`` — code mode: the program so far runs in the sandbox; a step that raises is pruned
  (a verifier no model can fool); a complete program returns the answer. Survivors are ranked
  by log-probability.
A state's score is the mean of its steps' scores. ``auto`` = execute in code mode, logprob in text.

Budget: the search stops expanding once `call_budget` model calls or `token_budget` generated
tokens are spent; then the best unfinished state is completed by one greedy call. The answer
is the vote of the complete states, each weighted by exp(score).

`details.tree` (also emitted as the event ``tree`` after each level) has the shape documented in
docs/strategies.md: ``{"mode", "scoring", "nodes": [{"id", "parent", "depth", "step", "score",
"step_score", "status", "answer", "error"}], "best": [node ids root→leaf], "levels", "budget"}``.
"""

from __future__ import annotations

import math
import secrets
import textwrap
from dataclasses import dataclass, field
from typing import Any

from ..answers import extract, render_value, truth_words, vote_key
from ..context import RunContext
from ..exemplars import resolve, select
from ..models.base import NotSupported
from ..problem import Prediction, Problem
from ..prompts import answer_kind
from ..sandbox import Limits, run_code
from .base import Options, Strategy, StrategyError, opt, register
from .confidence import confidence, failed
from .pal import EXEMPLARS as PROGRAMS
from .program import Entry, build_program, extract_code, read_output

MODES = ("text", "code")
SCORINGS = ("auto", "logprob", "self", "execute")
TEXT_TASK = ("Solve the problem step by step, one short step per line. Write the last line as "
             "'The answer is N.'")
CODE_TASK = ("Solve the problem with a Python function solution() that computes the answer step by step "
             "with clearly named variables and returns it.")
NEXT_TEXT = "Write only the next step (one line)."
NEXT_CODE = "Write only the next line of the function body (indented by 4 spaces)."
JUDGE = "Is the last step correct and useful for solving the problem? Answer yes or no."


@dataclass
class TreeOptions(Options):
    mode: str = opt("text", "text = steps of a written solution; code = lines of solution() run in the sandbox")
    scoring: str = opt("auto", "auto | logprob | self | execute (code mode; prunes steps that fail)")
    beam: int = opt(3, "states kept per level (beam width)")
    expand: int = opt(3, "candidate next steps sampled per state")
    depth: int = opt(8, "most steps per solution")
    temperature: float = opt(0.7, "sampling temperature of candidate steps")
    max_tokens: int = opt(80, "token limit of one step")
    finish_tokens: int = opt(320, "token limit of the call that completes an unfinished state")
    call_budget: int = opt(60, "budget: model calls (generation and scoring) before the search stops")
    token_budget: int = opt(6000, "budget: generated tokens before the search stops")
    exemplars: str = opt("builtin", "builtin; or a pool .jsonl (reasonlab bootstrap) to show similar solved problems")
    shots: int = opt(2, "worked examples shown")
    timeout_s: float = opt(5.0, "code mode: limit of each program run, seconds")
    unsafe_exec: bool = opt(False, "where no sandbox is available, run programs without isolation")


@dataclass
class Node:
    id: int
    parent: int | None
    depth: int
    step: str
    step_score: float = 0.0
    score: float = 0.0
    status: str = "open"  # open | kept | pruned | complete | failed
    answer: str | None = None
    error: str | None = None
    steps: list[str] = field(default_factory=list)  # the steps root→here

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "parent": self.parent, "depth": self.depth, "step": self.step,
                "score": round(self.score, 4), "step_score": round(self.step_score, 4), "status": self.status,
                "answer": self.answer, "error": self.error}


def body_code(steps: list[str]) -> str:
    """The function body written so far, each line indented at least 4 spaces."""
    out = []
    for s in steps:
        out.append(s if s.startswith((" ", "\t")) else "    " + s.strip())
    return "\n".join(out)


@register
class Tree(Strategy):
    name = "tree"
    description = "Tree of Thoughts: beam search over steps scored by log-probability, self-evaluation or execution."
    Options = TreeOptions

    # -- prompts --------------------------------------------------------------------------------
    def examples(self, problem: Problem) -> list[tuple[str, str]]:
        o = self.options
        if o.exemplars in ("builtin", "", "auto"):
            if o.mode == "code":
                return [(q, p) for q, p in PROGRAMS[:o.shots]]
            _, pool = resolve("auto", answer_kind(problem))
            return [(ex.question, ex.solution) for ex in pool[:o.shots]]
        _, pool = resolve(o.exemplars, answer_kind(problem), pool=True)
        if o.mode == "code":
            pool = [ex for ex in pool if "def " in ex.solution]
        return [(ex.question, ex.solution) for ex in select(problem.render(), pool, o.shots).exemplars]

    def messages(self, problem: Problem, steps: list[str], examples: list[tuple[str, str]],
                 finish: bool = False) -> list[dict[str, str]]:
        code = self.options.mode == "code"
        msgs: list[dict[str, str]] = [{"role": "system", "content": CODE_TASK if code else TEXT_TASK}]
        for q, sol in examples:
            msgs += [{"role": "user", "content": q},
                     {"role": "assistant", "content": f"```python\n{sol}\n```" if code else sol}]
        content = problem.render()
        if steps:
            so_far = ("```python\ndef solution():\n" + body_code(steps) + "\n```") if code else "\n".join(steps)
            content += f"\n\n{'The program so far' if code else 'Steps so far'}:\n{so_far}"
        if finish:
            content += "\n\n" + ("Complete the program; reply with the whole program in one ```python block."
                                 if code else "Continue to the end and write 'The answer is N.'")
        else:
            content += "\n\n" + (NEXT_CODE if code else NEXT_TEXT)
        msgs.append({"role": "user", "content": content})
        return msgs

    # -- steps ------------------------------------------------------------------------------------
    @staticmethod
    def clean_step(text: str, code: bool) -> str:
        t = text.replace("```python", "").replace("```", "")
        lines = [ln for ln in t.split("\n") if ln.strip()]
        if not lines:
            return ""
        line = lines[0].rstrip()
        if code and line.strip().startswith("def solution"):
            line = lines[1].rstrip() if len(lines) > 1 else ""
        return line if code else line.strip()

    def run_program(self, steps: list[str], complete: bool, form: tuple[str, tuple[str, str]]) -> tuple[bool, str | None, str | None]:
        """(ran, answer, error) of the code so far: a partial body runs as top-level code."""
        o = self.options
        if complete:
            code = "def solution():\n" + body_code(steps) + "\n"
            marker = f"@@answer-{secrets.token_hex(6)}@@"
            entry = Entry("function", "solution")
            prog = build_program(code, entry, marker)
        else:
            if steps and steps[-1].rstrip().endswith(":"):
                return True, None, None  # an open block: nothing to run yet
            prog = textwrap.dedent(body_code(steps)) + "\n"
        r = run_code(prog, Limits(timeout_s=o.timeout_s, cpu_s=max(1, int(o.timeout_s)), memory_mb=256,
                                  output_bytes=20_000), unsafe=o.unsafe_exec)
        if not r.ok:
            lines = r.error_summary(300).strip().splitlines()
            return False, None, f"stopped by the {r.limit} limit" if r.limit else (lines[-1] if lines else "failed")
        if not complete:
            return True, None, None
        value, _ = read_output(r.stdout, entry, marker)
        return True, render_value(value, *form), None

    def judge(self, ctx: RunContext, problem: Problem, steps: list[str]) -> float:
        msgs = [{"role": "user", "content": f"Problem: {problem.render()}\n\nSolution so far:\n"
                 + "\n".join(steps) + f"\n\n{JUDGE}"}]
        yes = sum(ctx.logprobs(msgs, "yes", label="judge"))
        no = sum(ctx.logprobs(msgs, "no", label="judge"))
        return 1.0 / (1.0 + math.exp(max(-50.0, min(50.0, no - yes))))

    # -- search -----------------------------------------------------------------------------------
    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        if o.mode not in MODES or o.scoring not in SCORINGS:
            raise StrategyError(f"option mode must be text or code and scoring one of {', '.join(SCORINGS)}")
        if o.scoring == "execute" and o.mode != "code":
            raise StrategyError("scoring=execute needs mode=code")
        if o.beam < 1 or o.expand < 1 or o.depth < 1:
            raise StrategyError("options beam, expand and depth must be at least 1")
        code = o.mode == "code"
        scoring = o.scoring if o.scoring != "auto" else ("execute" if code else "logprob")
        kind = answer_kind(problem)
        form = (kind, truth_words(problem.text, problem.choices, problem.meta))
        examples = self.examples(problem)
        calls0 = len(ctx.calls)
        nodes = [Node(0, None, 0, "", status="kept")]
        beam = [nodes[0]]
        levels = 0
        spent = {"calls": 0, "tokens": 0}

        def over_budget(need: int = 0) -> bool:
            spent["calls"] = len(ctx.calls) - calls0
            spent["tokens"] = sum(c.completion_tokens for c in ctx.calls[calls0:] if c.kind == "generate")
            return spent["calls"] + need > o.call_budget or spent["tokens"] >= o.token_budget

        judge_ok = scoring == "self"
        for depth in range(1, o.depth + 1):
            if not beam or over_budget(o.expand):
                break
            children: list[Node] = []
            for parent in beam:
                if over_budget(o.expand):
                    break
                outs = ctx.generate(self.messages(problem, parent.steps, examples), n=o.expand,
                                    label=f"expand d{depth}", temperature=o.temperature, max_tokens=o.max_tokens,
                                    sample_offset=parent.id * o.expand, stop=None if code else ["\n"],
                                    meta={"node": parent.id})
                seen: set[str] = set()
                for c in outs:
                    step = self.clean_step(c.text, code)
                    if not step or step in seen:
                        continue
                    seen.add(step)
                    n = Node(len(nodes), parent.id, depth, step, steps=[*parent.steps, step])
                    nodes.append(n)
                    lp = confidence(c.token_logprobs, "mean")
                    n.step_score = math.exp(lp) if lp is not None else 0.5
                    if failed(c.finish_reason):
                        n.status, n.error = "failed", "stopped as a loop"
                        continue
                    self.score(ctx, problem, n, parent, code, scoring, form, kind, judge_ok)
                    if scoring == "self" and n.error == "judge unavailable":
                        judge_ok = False
                    children.append(n)
            live = [n for n in children if n.status == "open"]
            if not live:  # every candidate finished or failed: the last beam is what is left to complete
                levels = depth
                break
            live.sort(key=lambda n: (-n.score, n.id))
            for n in live[o.beam:]:
                n.status = "pruned"
            beam = live[:o.beam]
            for n in beam:
                n.status = "kept"
            levels = depth
            ctx.emit("tree", self.tree(nodes, [], scoring, levels, spent))
            if sum(n.status == "complete" and n.answer is not None for n in nodes) >= o.beam:
                break  # as many finished solutions as the beam holds: enough to vote
        complete = [n for n in nodes if n.status == "complete" and n.answer is not None]
        if not complete and beam:
            best_open = max(beam, key=lambda n: (n.score, -n.id))
            complete = [self.finish_state(ctx, problem, best_open, nodes, examples, code, form, kind)]
            complete = [n for n in complete if n.answer is not None]
        over_budget()
        return self.conclude(nodes, complete, kind, scoring, levels, spent)

    def score(self, ctx: RunContext, problem: Problem, n: Node, parent: Node, code: bool, scoring: str,
              form: tuple[str, tuple[str, str]], kind: str, judge_ok: bool) -> None:
        """Score a new state; mark it complete (with its answer) or failed."""
        if code:
            done = n.step.strip().startswith("return")
            ran, answer, error = self.run_program(n.steps, done, form)
            if scoring == "execute" and not ran:
                n.status, n.error = "failed", error
                return
            if done:
                n.status, n.answer = ("complete", answer) if answer is not None else ("failed", None)
                n.error = error if answer is None else None
        else:
            ex = extract(n.step, kind)
            if ex.strict:
                n.status, n.answer = "complete", ex.strict
        s = n.step_score
        if scoring == "self" and judge_ok:
            try:
                s = self.judge(ctx, problem, n.steps)
            except NotSupported:
                n.error = "judge unavailable"
        n.step_score = s
        n.score = (parent.score * (n.depth - 1) + s) / n.depth

    def finish_state(self, ctx: RunContext, problem: Problem, n: Node, nodes: list[Node],
                     examples: list[tuple[str, str]], code: bool, form: tuple[str, tuple[str, str]], kind: str) -> Node:
        """Complete an unfinished state with one greedy call; the result is a new leaf."""
        c = ctx.generate(self.messages(problem, n.steps, examples, finish=True), n=1, label="finish",
                         temperature=0.0, max_tokens=self.options.finish_tokens, meta={"node": n.id})[0]
        leaf = Node(len(nodes), n.id, n.depth + 1, c.text.strip(), score=n.score, step_score=n.score,
                    steps=[*n.steps, c.text.strip()])
        nodes.append(leaf)
        if failed(c.finish_reason):
            leaf.status, leaf.error = "failed", "stopped as a loop"
            return leaf
        if code:
            prog = extract_code(c.text) or ""
            head, sep, body = prog.partition("def solution():")
            lines = [ln for ln in (body if sep else prog).split("\n") if ln.strip()]
            full = lines if sep else [*n.steps, *lines]
            leaf.steps = [*n.steps] if sep and not lines else full
            _, leaf.answer, leaf.error = self.run_program(leaf.steps, True, form)
        else:
            leaf.answer = extract(c.text, kind).flexible
        leaf.status = "complete" if leaf.answer is not None else "failed"
        return leaf

    def tree(self, nodes: list[Node], best: list[int], scoring: str, levels: int, spent: dict[str, int]) -> dict[str, Any]:
        o = self.options
        return {"mode": o.mode, "scoring": scoring, "nodes": [n.to_dict() for n in nodes], "best": best,
                "levels": levels, "budget": {"call_budget": o.call_budget, "token_budget": o.token_budget,
                                             **spent}}

    def conclude(self, nodes: list[Node], complete: list[Node], kind: str, scoring: str, levels: int,
                 spent: dict[str, int]) -> Prediction:
        weights: dict[str, float] = {}
        first: dict[str, Node] = {}
        for n in sorted(complete, key=lambda n: (-n.score, n.id)):
            key = vote_key(n.answer, kind)
            if key is None:
                continue
            weights[key] = weights.get(key, 0.0) + math.exp(n.score)
            first.setdefault(key, n)
        if not weights:
            return Prediction(answer=None, reasoning="", note="no state of the tree reached an answer",
                              details={"tree": self.tree(nodes, [], scoring, levels, spent)})
        winner = max(weights, key=lambda k: (weights[k], first[k].score, -first[k].id))
        leaf = first[winner]
        path: list[int] = []
        cur: Node | None = leaf
        while cur is not None:
            path.append(cur.id)
            cur = nodes[cur.parent] if cur.parent is not None else None
        path.reverse()
        reasoning = ("def solution():\n" + body_code(leaf.steps)) if self.options.mode == "code" else "\n".join(leaf.steps)
        return Prediction(answer=leaf.answer, strict=leaf.answer, reasoning=reasoning, details={
            "tree": self.tree(nodes, path, scoring, levels, spent),
            "votes": {k: round(v, 4) for k, v in weights.items()}, "complete": len(complete)})
