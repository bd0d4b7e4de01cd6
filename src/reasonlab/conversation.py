"""Chat messages in, a Problem out: validate an OpenAI `messages` list or a ChatGLM-style history.

Strategies answer one question. The conversation's last user message is that question; earlier
turns (and any system message) go before it as context, so follow-up questions make sense.
The `chat` strategy (strategies/chat.py) sends the conversation to the model as it is.
"""

from __future__ import annotations

from typing import Any

from .errors import InputError
from .problem import Problem


class ConversationError(InputError):
    """A malformed `messages` list; the message is user-facing."""


def message_text(content: Any) -> str:
    """Text of an OpenAI message `content`: a string or a list of {"type": "text"} parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                parts.append(part["text"])
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise ConversationError(f"only text message parts are supported (got {kind!r})")
        return "\n".join(parts)
    raise ConversationError("message content must be a string or a list of text parts")


def normalise_messages(raw: Any) -> list[dict[str, str]]:
    """Validated [{"role", "content"}] with string contents; the last message must be the user's."""
    if not isinstance(raw, list) or not raw:
        raise ConversationError("'messages' must be a non-empty list")
    out: list[dict[str, str]] = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict):
            raise ConversationError(f"messages[{i}] must be an object")
        role = m.get("role")
        if role == "developer":
            role = "system"
        if role not in ("system", "user", "assistant", "tool"):
            raise ConversationError(f"messages[{i}].role must be system, user or assistant (got {role!r})")
        out.append({"role": role, "content": message_text(m.get("content"))})
    if out[-1]["role"] != "user":
        raise ConversationError("the last message must come from the user")
    if not out[-1]["content"].strip():
        raise ConversationError("the last user message is empty")
    return out


def problem_from_messages(messages: list[dict[str, str]]) -> Problem:
    """The last user message as the question, with earlier turns as context before it."""
    question = messages[-1]["content"]
    earlier = messages[:-1]
    lang_probe = Problem(text=question)
    meta = {"messages": messages}
    if not earlier:
        return Problem(text=question, meta=meta)
    lines = []
    for m in earlier:
        who = {"system": "Instructions", "user": "User", "assistant": "Assistant"}.get(m["role"], m["role"])
        lines.append(f"{who}: {m['content']}")
    if lang_probe.language == "zh":
        text = "此前的对话：\n" + "\n".join(lines) + f"\n\n问题：{question}"
    else:
        text = "Conversation so far:\n" + "\n".join(lines) + f"\n\nQuestion: {question}"
    return Problem(text=text, language=lang_probe.language, meta=meta)


def messages_from_history(prompt: str, history: Any) -> list[dict[str, str]]:
    """ChatGLM-style [[question, answer], ...] history plus a prompt, as chat messages."""
    if history is None:
        history = []
    if not isinstance(history, list):
        raise ConversationError("'history' must be a list of [question, answer] pairs")
    out: list[dict[str, str]] = []
    for i, pair in enumerate(history):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            raise ConversationError(f"history[{i}] must be a [question, answer] pair of strings")
        out += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
    if not isinstance(prompt, str) or not prompt.strip():
        raise ConversationError("'prompt' must be a non-empty string")
    out.append({"role": "user", "content": prompt})
    return out
