"""A plain-text prompt format for models (and endpoints) that have no chat template.

Base models such as Gemma 3 270M have no chat template, and an OpenAI-compatible
``/completions`` endpoint takes raw text. Both get the conversation as a transcript::

    SYSTEM TEXT

    Question: first user message
    Answer: first assistant reply

    Question: last user message
    Answer:

The model continues after ``Answer:``; `PLAIN_STOPS` stop it before it invents the next turn.
"""

from __future__ import annotations

from .base import Message

PLAIN_STOPS: tuple[str, ...] = ("\nQuestion:", "\n\nQuestion", "<end_of_turn>", "<eos>")


def plain_prompt(messages: list[Message]) -> str:
    """Render chat messages as a Question/Answer transcript ending with an open ``Answer:``.

    Consecutive user messages merge into one question; a trailing assistant message is left
    open so the model continues it.
    """
    system: list[str] = []
    turns: list[list[str]] = []  # [question, answer]
    for m in messages:
        role, content = m.get("role", "user"), (m.get("content") or "").strip()
        if role == "system":
            system.append(content)
        elif role == "assistant":
            if not turns or turns[-1][1]:
                turns.append(["", content])
            else:
                turns[-1][1] = content
        elif turns and not turns[-1][1]:
            turns[-1][0] = f"{turns[-1][0]}\n{content}".strip()
        else:
            turns.append([content, ""])
    parts = [f"{s}\n\n" for s in system if s]
    for i, (q, a) in enumerate(turns):
        if q:
            parts.append(f"Question: {q}\n")
        last = i == len(turns) - 1
        parts.append(f"Answer: {a}".rstrip() if last else f"Answer: {a}\n\n")
    if not turns:
        parts.append("Answer:")
    return "".join(parts)
