"""graph: the model draws a graph of sub-questions with dependencies (JSON), which is validated and
executed — each node asked with the main question and the answers it depends on, independent
nodes concurrently — and the final node's answer is the answer (MISSION.md §2).

One call draws the graph (label "plan"). An unusable reply (no JSON, unknown references, a cycle,
no nodes…) is repaired once by showing the model the problem (label "repair"); if that fails
too, or the graph fails at run time, the strategy falls back to zero-shot CoT and records why in
`Prediction.note`, in `details["graph"]["fallback"]` and in the plan call's `meta["fallback"]`.
`details["graph"]` holds nodes, edges, per-node answers, states and timings; after an unusable
drawing, the drawing itself with the validator's messages on the offending nodes (docs/graphs.md).

With `constrained` (the default) the plan and repair calls carry a GBNF grammar of the expected
JSON (`graphs/grammar.py`); backends that support grammars (the embedded llama.cpp model, a
llama.cpp server) can then only produce JSON of that shape, others ignore it. The calls' meta
says `constrained: true`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..context import RunContext
from ..graphs.drawn import DrawnError, spec_from_reply
from ..graphs.executor import Executor, bind_inputs
from ..graphs.grammar import flow_grammar, graph_grammar
from ..graphs.node_answers import read_reply
from ..graphs.outcome import GraphRun
from ..graphs.values import format_value
from ..problem import Prediction, Problem
from ..prompts import answer_kind
from .base import Options, Strategy, opt, register
from .zero_shot_cot import ZeroShotCoT

PLAN = (
    "Break the problem below into a few simple sub-questions that can be answered one at a time. "
    "A sub-question may use the answers of earlier ones: list their ids in \"after\". The last "
    "sub-question must ask for the final answer to the whole problem. Do not answer them.\n"
    "Reply with JSON only, in this form:\n"
    '{{"nodes": [{{"id": "a", "ask": "...", "after": []}}, {{"id": "b", "ask": "...", "after": ["a"]}}], '
    '"output": "b"}}\n\nProblem: {problem}'
)

EXAMPLE_Q = ("Elsa has 5 apples. Anna has 2 more apples than Elsa. How many apples do they have "
             "together?")
EXAMPLE_A = json.dumps({"nodes": [
    {"id": "anna", "ask": "How many apples does Anna have?", "after": []},
    {"id": "total", "ask": "How many apples do Elsa and Anna have together?", "after": ["anna"]},
], "output": "total"})

REPAIR = ("That plan cannot be used: {error}\nReply with the corrected JSON only, in the same form.")


@dataclass
class GraphOptions(Options):
    max_tokens: int = opt(192, "token limit of each node's answer")
    plan_tokens: int = opt(320, "token limit of the call that draws the graph")
    max_nodes: int = opt(8, "a graph with more nodes than this is rejected (then repaired)")
    repair: bool = opt(True, "on an invalid graph, show the model the problem once before falling back")
    concurrency: int = opt(4, "most nodes asked at the same time")
    max_steps: int = opt(64, "step budget of the run")
    example: bool = opt(True, "show one worked decomposition before the question")
    constrained: bool = opt(True, "constrain the plan call's output to the plan's JSON shape with a grammar "
                                  "(where the backend supports grammars)")


def plan_messages(prompt: str, problem: Problem, example: tuple[str, str] | None) -> list[dict[str, str]]:
    msgs: list[dict[str, str]] = []
    if example:
        msgs += [{"role": "user", "content": prompt.format(problem=example[0])},
                 {"role": "assistant", "content": example[1]}]
    msgs.append({"role": "user", "content": prompt.format(problem=problem.render())})
    return msgs


def draw_and_run(strategy: Strategy, ctx: RunContext, problem: Problem, mode: str, prompt: str,
                 example: tuple[str, str] | None) -> Prediction:
    """Shared by `graph` and `flow`: plan → (repair) → validate → execute, or fall back to CoT."""
    o = strategy.options
    kind = answer_kind(problem)
    msgs = plan_messages(prompt, problem, example if o.example else None)
    grammar = None
    if o.constrained:
        grammar = (graph_grammar if mode == "graph" else flow_grammar)(o.max_nodes)
    attempts: list[dict[str, Any]] = []
    spec = norm = None
    reason = ""
    for attempt in range(2 if o.repair else 1):
        label = "plan" if attempt == 0 else "repair"
        text = ctx.complete(msgs, label=label, temperature=o.temperature, max_tokens=o.plan_tokens,
                            grammar=grammar, meta={"mode": mode, "constrained": grammar is not None})
        plan_call = ctx.calls[-1] if ctx.calls else None
        try:
            spec, norm = spec_from_reply(text, mode, answer_kind=kind, max_nodes=o.max_nodes,
                                         node_tokens=o.max_tokens)
            attempts.append({"label": label, "reply": text, "error": None})
            break
        except DrawnError as e:
            reason = str(e)
            attempts.append({"label": label, "reply": text, "error": reason, "issues": e.issues,
                             "drawing": e.drawing})
            if plan_call is not None:
                plan_call.meta["invalid"] = reason
            ctx.emit("graph_invalid", {"mode": mode, "attempt": attempt, "error": reason, "issues": e.issues,
                                       "drawing": e.drawing})
            msgs = [*msgs, {"role": "assistant", "content": text},
                    {"role": "user", "content": REPAIR.format(error=reason)}]
    if spec is None:
        return _fallback(strategy, ctx, problem, mode, f"the drawn {mode} was unusable: {reason}", attempts)
    ctx.emit("graph", {"mode": mode, "spec": norm})
    inputs = bind_inputs(spec, {"question": problem.render()})
    run = Executor(ctx, concurrency=o.concurrency, max_steps=o.max_steps, temperature=o.temperature,
                   max_tokens=o.max_tokens).run(spec, inputs)
    details = {"graph": {**run.to_dict(), "mode": mode, "source": "model", "spec": norm, "attempts": attempts}}
    if run.status != "ok":
        return _fallback(strategy, ctx, problem, mode, f"the {mode} failed while running: {run.error}", attempts,
                         run)
    return _answer(run, kind, details)


def _answer(run: GraphRun, kind: str, details: dict[str, Any]) -> Prediction:
    """The output node's answer; `strict` only when the model's reply stated it explicitly (read as
    every node is: its first answer statement that is not a hedge)."""
    node = run.nodes.get(run.output_node) if run.output_node else None
    raw = node.raw if node is not None and node.raw is not None else format_value(run.answer)
    reading = read_reply(raw or "", kind)
    value = run.answer
    if isinstance(value, str) and kind == "number":
        answer = read_reply(value, "number").flexible or value.strip()
    else:
        answer = format_value(value).strip() if value is not None else None
    return Prediction(answer=answer or None, strict=reading.strict, reasoning=raw or "", details=details)


def _fallback(strategy: Strategy, ctx: RunContext, problem: Problem, mode: str, reason: str,
              attempts: list[dict[str, Any]], run: GraphRun | None = None) -> Prediction:
    o = strategy.options
    plan = next((c for c in ctx.calls if c.label == "plan"), None)
    if plan is not None:
        plan.meta["fallback"] = reason
    ctx.emit("fallback", {"strategy": strategy.name, "reason": reason})
    pred = ZeroShotCoT(temperature=o.temperature, max_tokens=max(o.max_tokens, 256)).solve(ctx, problem)
    pred.note = f"fell back to zero-shot CoT: {reason}"
    graph: dict[str, Any] = run.to_dict() if run is not None else _invalid_drawing(attempts)
    graph.update({"mode": mode, "source": "model", "fallback": reason, "attempts": attempts})
    pred.details = {**pred.details, "graph": graph}
    return pred


def _invalid_drawing(attempts: list[dict[str, Any]]) -> dict[str, Any]:
    """The last drawing the model made (nodes marked invalid with the validator's message), so a
    page can show what was drawn and what was wrong; {"valid": False} alone when nothing could be read."""
    last = next((a for a in reversed(attempts) if a.get("drawing")), None)
    if last is None:
        return {"valid": False, "nodes": [], "edges": [], "issues": attempts[-1]["issues"] if attempts else []}
    return {"valid": False, "kind": last["drawing"]["kind"], "nodes": last["drawing"]["nodes"],
            "edges": last["drawing"]["edges"], "issues": last["issues"], "attempt": last["label"]}


@register
class GraphStrategy(Strategy):
    name = "graph"
    description = ("The model draws a graph of sub-questions with dependencies (JSON); it is validated "
                   "(repaired once) and run node by node; falls back to zero-shot CoT.")
    Options = GraphOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        return draw_and_run(self, ctx, problem, "graph", PLAN, (EXAMPLE_Q, EXAMPLE_A))
