"""A generated answer in the chat: its tokens as they stream, each sentence marked once it is checked, and, under
the final answer, the support score of every sentence the LLM wrote, those not supported marked so.

Pure functions from our types to HTML; all text goes through ``render.text`` (escaped for HTML and Markdown), so a
link or image an article or a model slips into a sentence shows as text and never loads.
"""

from __future__ import annotations

from rag.llm.stream import Checked, Event, Token
from rag.support import links_in
from rag.types import Answer, SentenceSupport
from ui import render

NOT_SUPPORTED = "not supported by the sources"


def shown(text: str) -> str:
    """Text a model wrote, escaped, with any link or image in it left out (a bare address could be auto-linked)."""
    for link in links_in(text):
        text = text.replace(link, "(link left out)")
    return render.text(text)


def verdict_html(s: SentenceSupport) -> str:
    if s.kept:
        return f"<li>✓ <small>support {s.score:.2f}</small> {shown(s.text)}</li>"
    why = shown("; ".join(s.reasons))
    return (f"<li>✗ <small>support {s.score:.2f}</small> <em>{NOT_SUPPORTED}:</em> {shown(s.text)} "
            f"<small>({why})</small></li>")


class LiveAnswer:
    """What the chat shows while an answer streams: checked sentences, then the text still being written."""

    def __init__(self) -> None:
        self.pending = ""
        self.checked: list[SentenceSupport] = []

    def add(self, event: Event) -> str:
        if isinstance(event, Token):
            self.pending += event.text
        elif isinstance(event, Checked):
            self.checked.append(event.sentence)
            self.pending = ""
        return self.html()

    def html(self) -> str:
        done = "".join(verdict_html(s) for s in self.checked)
        return (f'<div class="nr-streaming"><ul>{done}</ul>'
                f"<p><em>{shown(self.pending.strip()) or '…'}</em></p></div>")


def checks_html(answer: Answer) -> str:
    """Under a generated answer (or the extractive one that replaced it): why it was replaced, and every sentence
    the LLM wrote with its support score."""
    if not (answer.generated or answer.fallback):
        return ""
    note = (f"<p><strong>The LLM's answer was not used:</strong> {render.text(answer.fallback)}. "
            "The answer above is extractive.</p>") if answer.fallback else ""
    rows = "".join(verdict_html(s) for s in answer.sentences)
    listed = f"<details><summary>Checked against the sources</summary><ul>{rows}</ul></details>" if rows else ""
    return f'<div class="nr-checks">{note}{listed}</div>'
