"""Conversations kept in the browser (``gr.BrowserState``): pure functions over plain JSON.

The stored value is a list of conversations, most recent first::

    {"id": "3f2a9c1e", "title": "What did Okonjo say in Tampere?", "updated": "2026-11-24T10:15:00",
     "messages": [{"role": "user", "content": "…"}, {"role": "assistant", "content": "<div …>"}],
     "turns": [{"question": "What did Okonjo say in Tampere?", "markdown": "## What did …"}]}

``messages`` is what the chatbot shows (the answers' HTML with their citation markers), ``turns`` what a
follow-up needs (the earlier questions) and what the Markdown export prints (each answer with its
citations). Both are bounded: a browser's storage is small.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

#: Conversations kept, most recent first; older ones are dropped.
MAX_CONVERSATIONS = 30
#: Turns kept per conversation (a question and its answer), the latest.
MAX_TURNS = 60
TITLE_CHARS = 60

Conversation = dict[str, Any]


def new_id() -> str:
    return uuid.uuid4().hex[:8]


def title_of(turns: list[dict[str, str]]) -> str:
    """A conversation is named by its first question, shortened.

    >>> title_of([{"question": "What did Okonjo say in Tampere?", "markdown": ""}])
    'What did Okonjo say in Tampere?'
    >>> title_of([])
    'New conversation'
    """
    if not turns:
        return "New conversation"
    first = " ".join(turns[0]["question"].split())
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def clean(saved: Any) -> list[Conversation]:
    """What the browser gave back, as a list of well-formed conversations (anything else is dropped: the
    storage may hold an older format, or nothing)."""
    if not isinstance(saved, list):
        return []
    out = []
    for conv in saved:
        if (isinstance(conv, dict) and isinstance(conv.get("id"), str) and isinstance(conv.get("messages"), list)
                and isinstance(conv.get("turns"), list)):
            out.append(conv)
    return out[:MAX_CONVERSATIONS]


def save(saved: Any, conv_id: str | None, messages: list[dict[str, Any]], turns: list[dict[str, str]]
         ) -> tuple[str | None, list[Conversation]]:
    """Store the conversation ``conv_id`` (a new one when ``None``) with its messages and turns, most recent
    first. An empty conversation is not stored."""
    convs = clean(saved)
    if not turns:
        return conv_id, convs
    conv_id = conv_id or new_id()
    entry: Conversation = {
        "id": conv_id, "title": title_of(turns), "updated": datetime.now().isoformat(timespec="seconds"),
        "messages": [_plain(m) for m in messages][-2 * MAX_TURNS :], "turns": list(turns)[-MAX_TURNS:],
    }
    rest = [c for c in convs if c["id"] != conv_id]
    return conv_id, [entry, *rest][:MAX_CONVERSATIONS]


def delete(saved: Any, conv_id: str | None) -> list[Conversation]:
    return [c for c in clean(saved) if c["id"] != conv_id]


def find(saved: Any, conv_id: str | None) -> Conversation | None:
    return next((c for c in clean(saved) if c["id"] == conv_id), None)


def choices(saved: Any) -> list[tuple[str, str]]:
    """(label, id) pairs for a dropdown: "What did Okonjo say in Tampere? · 3 questions"."""
    out = []
    for c in clean(saved):
        n = len(c["turns"])
        out.append((f"{c.get('title') or title_of(c['turns'])} · {n} question{'s' if n != 1 else ''}", c["id"]))
    return out


def to_markdown(conv: Conversation | None) -> str:
    """The conversation as a Markdown document: each question, its answer and the citations it rests on."""
    if not conv or not conv.get("turns"):
        return "# newsrag conversation\n\n(no questions yet)\n"
    head = [f"# {conv.get('title') or title_of(conv['turns'])}", "",
            f"A newsrag conversation, exported {datetime.now().strftime('%Y-%m-%d %H:%M')}. Each [n] cites the "
            "article, its date and the exact characters it quotes.", ""]
    return "\n".join(head) + "\n" + "\n".join(t["markdown"] for t in conv["turns"]) + "\n"


def _plain(message: Any) -> dict[str, Any]:
    """A chatbot message as JSON the browser can store (Gradio may hand back message objects)."""
    if isinstance(message, dict):
        return {"role": message.get("role"), "content": _content(message.get("content"))}
    return {"role": getattr(message, "role", "assistant"), "content": _content(getattr(message, "content", ""))}


def _content(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content or "")
