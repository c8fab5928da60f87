"""How answers, citations and articles look in the browser: pure functions from our types to HTML.

Every piece of article or answer text goes through ``html.escape``: an article containing
``<script>`` shows the tag as text and never runs it. Citation markers are ``<a class="nr-cite">``
elements whose ``href`` is ``#nr-cite:doc_id:start:end`` (the chatbot's sanitizer drops ``data-*``
attributes, so the key rides in the link); the page script in ``ui.app`` turns a click on
one into a call that opens the article beside the chat.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from rag.types import Answer, Citation, Passage
from rag.verify import split_claims

_MARKER = re.compile(r"\[(\d+)\]")
#: HTML's special characters, and those the chatbot's Markdown would read as formatting, as entities.
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in "\\`*_~#|[]$'"} | {
    ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;"}


def when(published: date | None) -> str:
    return published.isoformat() if published else "date unknown"


def cite_key(doc_id: str, start: int, end: int) -> str:
    """The value a citation marker carries: ``"doc_id:start:end"`` (parsed back by :func:`parse_cite`)."""
    return f"{doc_id}:{start}:{end}"


def parse_cite(value: str) -> tuple[str, int, int]:
    """``"abc:10:42"`` → ``("abc", 10, 42)``; raises ``ValueError`` on anything else."""
    doc_id, start, end = value.strip().rsplit(":", 2)
    if not doc_id:
        raise ValueError(f"no article in {value!r}")
    return doc_id, int(start), int(end)


def text(value: str) -> str:
    """Escape text for HTML *and* for the chatbot's Markdown, so it is always shown literally."""
    return value.translate(_ENTITIES)


def marker(n: int | str, doc_id: str, start: int, end: int, title: str = "") -> str:
    key = html.escape(cite_key(doc_id, start, end), quote=True)
    return (f'<a class="nr-cite" href="#nr-cite:{key}" data-cite="{key}" title="{html.escape(title, quote=True)}">'
            f"[{n}]</a>")


def split_sentences(answer_text: str) -> list[str]:
    """Pieces of an answer that each end with their citation markers, for streaming.

    >>> split_sentences("A said x. [1] B said y. [2]")
    ['A said x. [1]', ' B said y. [2]']
    """
    return [body + marks for body, marks in split_claims(answer_text)] or [answer_text]


def answer_body(answer_text: str, citations: Sequence[Citation]) -> str:
    """The answer text with each ``[n]`` turned into a clickable marker (unknown numbers stay text)."""
    by_n = {c.n: c for c in citations}
    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(answer_text):
        out.append(text(answer_text[pos : m.start()]))
        c = by_n.get(int(m.group(1)))
        out.append(marker(c.n, c.article.doc_id, c.start, c.end, c.article.label) if c else text(m.group(0)))
        pos = m.end()
    out.append(text(answer_text[pos:]))
    return "".join(out)


def citation_list(citations: Sequence[Citation]) -> str:
    items = []
    for c in citations:
        a = c.article
        items.append(f'<li>{marker(c.n, a.doc_id, c.start, c.end, a.label)} {text(a.label)} · {when(a.published)} · '
                     f'<code>{text(a.file)}</code></li>')
    return f'<ol class="nr-citations">{"".join(items)}</ol>' if items else ""


def rewritten(answer: Answer) -> str:
    if not answer.trace.get("rewritten"):
        return ""
    return f'<div class="nr-query">Standalone query: <em>{text(answer.query)}</em></div>\n\n'


def closest_passages(passages: Sequence[Passage], limit: int = 3) -> str:
    items = []
    for p in passages[:limit]:
        a, ch = p.article, p.chunk
        snippet = ch.text.strip()
        snippet = snippet[:280] + ("…" if len(snippet) > 280 else "")
        items.append(f'<li><span class="nr-not-answer">not an answer</span> '
                     f'{marker(p.rank, a.doc_id, ch.start, ch.end, a.label)} {text(a.label)} · {when(a.published)}'
                     f'<br><span class="nr-snippet">{text(snippet)}</span></li>')
    if not items:
        return ""
    return f'<div class="nr-closest">Closest passages:<ul>{"".join(items)}</ul></div>'


def answer_html(answer: Answer, upto: int | None = None) -> str:
    """The chat message for ``answer``; ``upto`` shows only the first sentences (streaming)."""
    head = rewritten(answer)
    if answer.abstained:
        return (f'{head}<div class="nr-abstain"><strong>Not answered.</strong> {text(answer.text)}</div>\n\n'
                f"{closest_passages(answer.passages)}")
    pieces = split_sentences(answer.text)
    done = upto is None or upto >= len(pieces)
    body = answer_body("".join(pieces if done else pieces[:upto]), answer.citations)
    tail = f"\n\n{citation_list(answer.citations)}{unanswered_parts(answer)}" if done else " …"
    return f"{head}<div class=\"nr-answer\">{body}</div>{tail}"


def unanswered_parts(answer: Answer) -> str:
    """The parts of a several-part question the articles do not answer, said under the answer to the rest."""
    parts = answer.trace.get("unanswered_parts", [])
    return "".join(f'\n\n<div class="nr-abstain">The articles don\'t answer “{text(p)}”</div>' for p in parts)


def error_html(message: str) -> str:
    return f'<div class="nr-abstain"><strong>Error.</strong> {text(message)}</div>'


def source_html(article: Any, start: int | None = None, end: int | None = None) -> str:
    """An article beside the chat, its text shown as text, the span ``[start:end)`` in a ``<mark>``."""
    body = article.text
    meta = (f"{html.escape(when(article.published))} · source: {html.escape(article.source or 'unknown')} · "
            f"<code>{html.escape(article.file)}</code>")
    if start is not None and end is not None and 0 <= start < end <= len(body):
        shown = (f"{html.escape(body[:start])}<mark id=\"nr-mark\">{html.escape(body[start:end])}</mark>"
                 f"{html.escape(body[end:])}")
    else:
        shown = html.escape(body)
    return (f'<div class="nr-source"><h3>{html.escape(article.label)}</h3><div class="nr-meta">{meta}</div>'
            f'<div class="nr-text">{shown}</div></div>')


SOURCE_PLACEHOLDER = ('<div class="nr-source nr-empty">Click a citation marker such as [1] to open the article '
                      "here with the quoted passage highlighted.</div>")
