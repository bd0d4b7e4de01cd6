"""react — reason and act with tools ("function ends"; Yao et al. 2022, Schick et al. 2023).

The model may call tools (calculator, python sandbox, dates, units, and any function a user
registers with `@reasonlab.tools.tool`); each result returns to the conversation; a step
budget bounds the loop. Two protocols:

* native: when the backend supports function calling (OpenAI `tools`), the tool schemas go
  with each request and `Completion.tool_calls` are executed; results go back as `tool` messages.
* text: otherwise the model writes one line ``Action: TOOL[{"arg": value}]`` and stops; we
  reply ``Observation: RESULT``; it ends with ``Final Answer: …``. A bare argument
  (``Action: calculator[3*4]``) is passed as the tool's only required parameter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..answers import extract, render_value
from ..context import RunContext
from ..models.base import normalize_tool_calls
from ..problem import Prediction, Problem
from ..prompts import answer_kind
from ..tools import Tool, ToolError, call_tool, list_tools
from .base import Options, Strategy, StrategyError, opt, register
from .few_shot_cot import complete_without_loops

DEFAULT_TOOLS = "calculator,python,date_add,date_diff,weekday,convert_units"
MAX_OBSERVATION = 2000

TEXT_PROTOCOL = """You answer questions step by step and may use tools.

Tools:
{tools}

To use a tool, write one line of the form
Action: TOOL_NAME[{{"argument": value}}]
and stop there. You will then see "Observation: " followed by the tool's result.
Use at most one Action per reply. When you know the answer, write the line
Final Answer: THE ANSWER

Example:
Question: A box holds 12 eggs. How many eggs are in 17 boxes?
Thought: I need 17 times 12.
Action: calculator[{{"expression": "17 * 12"}}]
Observation: 204
Thought: 17 boxes hold 204 eggs.
Final Answer: 204"""

NATIVE_SYSTEM = ("You answer questions step by step. Call the provided tools whenever they help "
                 "(arithmetic, running Python, dates, units). When you know the answer, reply with a "
                 "line 'Final Answer: ...'.")

_ACTION = re.compile(r"Action\s*:\s*`?([A-Za-z_][\w.-]*)`?\s*(?:\[|\(|\n\s*Action Input\s*:\s*)", re.IGNORECASE)
_FINAL = re.compile(r"Final Answer\s*:\s*(.+)", re.IGNORECASE)


@dataclass
class ParsedAction:
    tool: str
    arguments: dict[str, Any] | str
    text: str  # the reply up to and including the action
    start: int = 0  # where the action begins in the reply


def _balanced(text: str, start: int, open_ch: str, close_ch: str) -> int | None:
    """Index just past the bracket closing the one at `start` (quotes respected)."""
    depth, i, quote = 0, start, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == open_ch:
            depth += 1
        elif ch == close_ch:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def parse_action(text: str) -> ParsedAction | None:
    """The first `Action: tool[...]` (or `tool(...)`, or LangChain's `Action Input:`) in a reply."""
    m = _ACTION.search(text or "")
    if not m:
        return None
    name = m.group(1)
    rest_start = m.end()
    opener = text[m.end() - 1]
    if opener in "[(":
        close = "]" if opener == "[" else ")"
        end = _balanced(text, m.end() - 1, opener, close)
        raw = text[rest_start:end - 1] if end else text[rest_start:].split("\n")[0].rstrip("])")
        consumed = end or len(text)
    else:  # Action Input: {...} on the next line
        line_end = text.find("\n", rest_start)
        raw = text[rest_start:] if line_end < 0 else text[rest_start:line_end]
        if raw.strip().startswith("{"):
            end = _balanced(text, rest_start + raw.index("{"), "{", "}")
            if end:
                raw = text[rest_start:end]
        consumed = rest_start + len(raw)
    raw = raw.strip()
    args: dict[str, Any] | str
    try:
        parsed = json.loads(raw) if raw else {}
        args = parsed if isinstance(parsed, dict) else raw
    except json.JSONDecodeError:
        args = raw.strip("\"'`")
    return ParsedAction(name, args, text[:consumed], m.start())


def parse_final(text: str) -> str | None:
    matches = _FINAL.findall(text or "")
    return matches[-1].strip().strip("*`").strip() if matches else None


def bind_arguments(tool: Tool, args: dict[str, Any] | str) -> dict[str, Any]:
    """Arguments as a dict; a bare string goes to the tool's only required (or only) parameter."""
    if isinstance(args, dict):
        if "_raw" in args and len(args) == 1:
            args = str(args["_raw"])
        else:
            return args
    props = list(tool.parameters.get("properties", {}))
    required = tool.parameters.get("required", [])
    target = required[0] if len(required) == 1 else (props[0] if len(props) == 1 else None)
    if target is None:
        raise ToolError(f"tool {tool.name!r} needs JSON arguments: {json.dumps(tool.parameters['properties'])}")
    return {target: args}


def describe_tools(tools: list[Tool]) -> str:
    lines = []
    for t in tools:
        params = ", ".join(f'"{k}": {v.get("type", "string")}' for k, v in t.parameters.get("properties", {}).items())
        lines.append(f"- {t.name}[{{{params}}}]: {t.description}")
    return "\n".join(lines)


@dataclass
class ReActOptions(Options):
    tools: str = opt(DEFAULT_TOOLS, "comma-separated tool names the model may call")
    max_steps: int = opt(6, "step budget: model turns (each may call tools) before a final answer is demanded")
    native: str = opt("auto", "function-calling protocol: auto (native when the backend supports it) | on | off")


@register
class ReAct(Strategy):
    name = "react"
    description = "Reason and act: the model calls tools (calculator, python sandbox, dates, units); results return to it."
    Options = ReActOptions

    def selected_tools(self) -> list[Tool]:
        known = list_tools()
        names = [n.strip() for n in self.options.tools.split(",") if n.strip()]
        missing = [n for n in names if n not in known]
        if missing:
            raise StrategyError(f"react: unknown tool(s) {missing} (known: {', '.join(known)})")
        return [known[n] for n in names]

    def use_native(self, ctx: RunContext) -> bool:
        mode = str(self.options.native).lower()
        if mode in ("on", "true", "yes", "1"):
            return True
        if mode in ("off", "false", "no", "0"):
            return False
        try:
            return bool(ctx.model.info().supports_tools)
        except Exception:  # noqa: BLE001 - a backend whose info() fails just gets the text protocol
            return False

    def run_tool(self, ctx: RunContext, tools: dict[str, Tool], name: str, args: Any, step: int) -> dict[str, Any]:
        record: dict[str, Any] = {"step": step, "tool": name, "arguments": args}
        try:
            if name not in tools:
                raise ToolError(f"unknown tool {name!r}; available: {', '.join(tools)}")
            bound = bind_arguments(tools[name], args)
            record["arguments"] = bound
            out = call_tool(name, bound)
            record["observation"] = out if len(out) <= MAX_OBSERVATION else out[:MAX_OBSERVATION] + "…"
        except ToolError as e:
            record["error"] = str(e)
            record["observation"] = f"Error: {e}"
        ctx.emit("tool", record)
        return record

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        tools = {t.name: t for t in self.selected_tools()}
        if self.use_native(ctx):
            return self.solve_native(ctx, problem, tools)
        return self.solve_text(ctx, problem, tools)

    # -- plain-text protocol --------------------------------------------------------------------
    def solve_text(self, ctx: RunContext, problem: Problem, tools: dict[str, Tool]) -> Prediction:
        o = self.options
        kind = answer_kind(problem)
        messages = [{"role": "system", "content": TEXT_PROTOCOL.format(tools=describe_tools(list(tools.values())))},
                    {"role": "user", "content": f"Question: {problem.render()}"}]
        steps: list[dict[str, Any]] = []
        transcript: list[str] = []
        for step in range(max(1, o.max_steps)):
            reply, _ = complete_without_loops(ctx, messages, label=f"step {step}", temperature=o.temperature,
                                              max_tokens=o.max_tokens, retries=1, stop=["Observation:"])
            action = parse_action(reply)
            final = parse_final(reply)
            final_at = reply.lower().find("final answer")
            if final is not None and (action is None or final_at < action.start):
                transcript.append(reply)
                return self.finish(final, transcript, steps, kind, "text")
            if action is None:
                transcript.append(reply)
                ex = extract(reply, kind)
                if ex.strict:
                    return self.finish(ex.strict, transcript, steps, kind, "text")
                messages += [{"role": "assistant", "content": reply},
                             {"role": "user", "content": "Continue: write an Action line to use a tool, or "
                                                         "'Final Answer: ...' if you know the answer."}]
                steps.append({"step": step, "tool": None, "observation": None, "thought": reply})
                continue
            record = self.run_tool(ctx, tools, action.tool, action.arguments, step)
            record["thought"] = action.text
            steps.append(record)
            transcript += [action.text, f"Observation: {record['observation']}"]
            messages += [{"role": "assistant", "content": action.text},
                         {"role": "user", "content": f"Observation: {record['observation']}"}]
        return self.out_of_steps(ctx, messages, transcript, steps, kind, "text")

    # -- native function calling ------------------------------------------------------------------
    def solve_native(self, ctx: RunContext, problem: Problem, tools: dict[str, Tool]) -> Prediction:
        o = self.options
        kind = answer_kind(problem)
        schemas = [t.schema() for t in tools.values()]
        messages: list[dict[str, Any]] = [{"role": "system", "content": NATIVE_SYSTEM},
                                          {"role": "user", "content": problem.render()}]
        steps: list[dict[str, Any]] = []
        transcript: list[str] = []
        for step in range(max(1, o.max_steps)):
            c = ctx.generate(messages, label=f"step {step}", temperature=o.temperature,
                             max_tokens=o.max_tokens, tools=schemas)[0]
            calls = c.tool_calls or []
            if not calls:
                transcript.append(c.text)
                answer = parse_final(c.text) or extract(c.text, kind).flexible
                return self.finish(answer, transcript, steps, kind, "native")
            wire = []
            for j, call in enumerate(normalize_tool_calls(calls) or []):
                wire.append((str(call.get("id") or f"call_{step}_{j}"), call["name"], call["arguments"]))
            messages.append({"role": "assistant", "content": c.text or "", "tool_calls": [
                {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
                for cid, name, args in wire]})
            if c.text:
                transcript.append(c.text)
            for cid, name, args in wire:
                record = self.run_tool(ctx, tools, name, args, step)
                steps.append(record)
                transcript.append(f"{name}({json.dumps(record['arguments'])}) -> {record['observation']}")
                messages.append({"role": "tool", "tool_call_id": cid, "name": name, "content": record["observation"]})
        return self.out_of_steps(ctx, messages, transcript, steps, kind, "native")

    # -- ending -------------------------------------------------------------------------------------
    def out_of_steps(self, ctx: RunContext, messages: list[dict[str, Any]], transcript: list[str],
                     steps: list[dict[str, Any]], kind: str, protocol: str) -> Prediction:
        """The step budget is spent: one last call without tools demands the answer."""
        messages = [*messages, {"role": "user", "content": "The step budget is used up. Reply now with "
                                                           "'Final Answer: ...' and nothing else."}]
        reply = ctx.complete(messages, label="final", temperature=0.0, max_tokens=64)
        transcript.append(reply)
        answer = parse_final(reply) or extract(reply, kind).flexible
        pred = self.finish(answer, transcript, steps, kind, protocol)
        pred.note = "step budget exhausted; answer demanded"
        pred.details["budget_exhausted"] = True
        return pred

    def finish(self, answer: str | None, transcript: list[str], steps: list[dict[str, Any]], kind: str,
               protocol: str) -> Prediction:
        answer = render_value(answer, kind) if answer is not None else None  # a tool's list/bool/float value
        strict = answer
        if answer is not None and kind in ("number", "choice"):
            ex = extract(f"The answer is {answer}", kind)
            strict = ex.strict or answer
        return Prediction(answer=strict, strict=strict, reasoning="\n".join(t for t in transcript if t),
                          details={"protocol": protocol, "steps": steps,
                                   "tool_calls": sum(1 for s in steps if s.get("tool"))})
