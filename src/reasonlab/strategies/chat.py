"""`chat`: no reasoning strategy — the conversation goes to the model as it is."""

from __future__ import annotations

from dataclasses import dataclass

from ..context import RunContext
from ..problem import Prediction, Problem
from .base import Options, Strategy, opt, register

CHAT = "chat"


@dataclass
class ChatOptions(Options):
    max_tokens: int = opt(512, "token limit of the reply")
    top_p: float = opt(1.0, "nucleus sampling")
    stop: list = opt([], "stop strings")


@register
class Chat(Strategy):
    """Plain chat: the conversation goes to the model unchanged; the reply is the answer."""

    name = CHAT
    description = "No reasoning strategy: send the conversation to the model as it is."
    Options = ChatOptions

    def solve(self, ctx: RunContext, problem: Problem) -> Prediction:
        o = self.options
        messages = problem.meta.get("messages") or [{"role": "user", "content": problem.text}]
        text = ctx.complete(messages, label="chat", temperature=o.temperature, max_tokens=o.max_tokens,
                            top_p=o.top_p, stop=list(o.stop) or None)
        return Prediction(answer=text.strip() or None, strict=None, reasoning=text)
