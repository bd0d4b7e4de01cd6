"""What one node does — ask the model, evaluate an expression, call a tool, decide a condition —
shared by the graph scheduler and the flowchart interpreter. The model is reached only through
the RunContext (`ctx.complete`), so every call is traced, cached and cancellable."""

from __future__ import annotations

from typing import Any

from ..context import RunContext
from .bookkeeping import RunBook
from .expr import evaluate
from .node_answers import parse_answer
from .outcome import NodeFailed, NodeRun
from .spec import Cond, Node
from .templates import render, render_text, template_refs
from .values import format_value

DEFAULT_MAX_TOKENS = 256

INSTRUCTIONS = {
    "number": "Think briefly, then finish with: The answer is <number>.",
    "text": "Answer briefly, then finish with: The answer is <answer>.",
    "yesno": "Reply with yes or no.",
    "choice": "Finish with: The answer is <letter>.",
    "raw": "",
}


class StepRunner:
    """Runs single nodes on a RunContext, recording into a RunBook.

    temperature/max_tokens: defaults for ask steps that set none; label_prefix: call labels
    read "<prefix>:<node id>".
    """

    def __init__(self, ctx: RunContext, book: RunBook, *, temperature: float = 0.0,
                 max_tokens: int = DEFAULT_MAX_TOKENS, label_prefix: str = "node") -> None:
        self.ctx, self.book = ctx, book
        self.temperature, self.max_tokens, self.label_prefix = temperature, max_tokens, label_prefix

    def ask_model(self, n: Node, nr: NodeRun, prompt: str, kind: str, iteration: int | None) -> Any:
        """One model call for node `n`; the reply is read by answer kind (node_answers.parse_answer)."""
        instr = INSTRUCTIONS.get(kind, "") if n.instruct else ""
        content = f"{prompt}\n\n{instr}" if instr else prompt
        messages = ([{"role": "system", "content": str(n.system)}] if n.system else []) + \
            [{"role": "user", "content": content}]
        nr.prompt = content
        before = len(self.ctx.calls)
        text = self.ctx.complete(
            messages, label=f"{self.label_prefix}:{n.id}",
            temperature=self.temperature if n.temperature is None else n.temperature,
            max_tokens=n.max_tokens or (16 if kind == "yesno" else self.max_tokens),
            meta={"node": n.id, "iteration": iteration})
        nr.calls += [c.id for c in self.ctx.calls[before:] if c.meta.get("node") == n.id]
        nr.raw = text
        answer, note = parse_answer(text, kind)
        nr.note = note
        return answer

    def cond(self, c: Cond, env: dict[str, Any], n: Node, nr: NodeRun, iteration: int | None) -> bool:
        """A branch or loop-exit condition: an expression, or a yes/no question to the model."""
        if c.expr is not None:
            return bool(evaluate(c.expr, env))
        return bool(self.ask_model(n, nr, render_text(c.ask or "", env), "yesno", iteration))

    def basic(self, n: Node, env: dict[str, Any], prefix: str, nr: NodeRun, iteration: int | None) -> Any:
        """The value of an ask / compute (one expression) / tool node in an environment."""
        if n.kind == "ask":
            prompt = render_text(n.ask or "", env)
            nr.asked = prompt
            return self.ask_model(n, nr, f"{prefix}\n\n{prompt}" if prefix else prompt, n.answer, iteration)
        if n.kind == "compute" and isinstance(n.compute, str):
            return evaluate(n.compute, env)
        if n.kind == "tool":
            from ..tools import call_tool

            args = {k: (render(v, env) if isinstance(v, str) else v) for k, v in n.args.items()}
            nr.prompt = f"{n.tool}({args})"
            out = call_tool(n.tool or "", args)
            nr.raw = out
            return out
        raise NodeFailed(n.id, f"node {n.id!r}: cannot run a {n.kind} node here")

    def with_facts(self, n: Node, env: dict[str, Any], deps: list[str]) -> tuple[dict[str, Any], str]:
        """Bind {facts} — the answers of dependencies the prompt does not name, as lines — and
        return it as a prefix too when the prompt has no {facts} of its own."""
        if n.kind != "ask":
            return env, ""
        named = set(template_refs(n.ask or ""))
        records = self.book.nodes
        hidden = [d for d in deps if d not in named and d in records]
        if not hidden and "facts" not in named:
            return env, ""
        lines = []
        for d in hidden:
            src = self.book.by_id.get(d)
            title = ((src.label if src else None) or records[d].asked
                     or (f"{d} = {src.title()}" if src is not None and src.kind != "loop" else d)).strip()
            lines.append(f"- {title.splitlines()[0] if title else d} → {format_value(env.get(d))}")
        facts = "Known so far:\n" + "\n".join(lines) if lines else ""
        return {**env, "facts": facts}, ("" if "facts" in named else facts)
