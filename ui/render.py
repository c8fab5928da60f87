"""How answers, citations and articles look in the browser: pure functions from our types to HTML.

Every piece of article or answer text goes through ``html.escape``: an article containing
``<script>`` shows the tag as text and never runs it. Citation markers are ``<a class="nr-cite">``
elements whose ``href`` is ``#nr-cite:doc_id:start:end`` (the chatbot's sanitizer drops ``data-*``
attributes, so the key rides in the link; ``:key_start:key_end`` follow when the answer's key span
is known); the page script in ``ui.page`` turns a click on one into a call that opens the article
beside the chat.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from rag.render import understood_as
from rag.types import Answer, Citation, Passage
from rag.verify import split_claims

_MARKER = re.compile(r"\[(\d+)\]")
#: HTML's special characters, and those the chatbot's Markdown would read as formatting, as entities.
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in "\\`*_~#|[]$'"} | {
    ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;"}
#: Longest snippet of a passage shown in "what was searched" and "closest passages".
SNIPPET_CHARS = 280


def when(published: date | None) -> str:
    return published.isoformat() if published else "date unknown"


class CiteKey(NamedTuple):
    """What a citation marker opens: an article, the quoted span, and optionally the answer's key span in it."""

    doc_id: str
    start: int
    end: int
    key_start: int | None = None
    key_end: int | None = None


def cite_key(doc_id: str, start: int, end: int, key_start: int | None = None, key_end: int | None = None) -> str:
    """The value a citation marker carries: ``"doc_id:start:end"``, plus ``":key_start:key_end"`` when the
    answer's key span lies inside the quote (parsed back by :func:`parse_cite`)."""
    base = f"{doc_id}:{start}:{end}"
    if key_start is not None and key_end is not None and start <= key_start < key_end <= end:
        return f"{base}:{key_start}:{key_end}"
    return base


def parse_cite(value: str) -> CiteKey:
    """``"abc:10:42"`` → ``CiteKey("abc", 10, 42)``; ``"abc:10:42:20:24"`` also names the key span.
    Raises ``ValueError`` on anything else.

    >>> parse_cite("abc:10:42:20:24")
    CiteKey(doc_id='abc', start=10, end=42, key_start=20, key_end=24)
    """
    parts = value.strip().split(":")
    if len(parts) not in (3, 5) or not parts[0]:
        raise ValueError(f"no article in {value!r}")
    return CiteKey(parts[0], *(int(n) for n in parts[1:]))


def text(value: str) -> str:
    """Escape text for HTML *and* for the chatbot's Markdown, so it is always shown literally."""
    return value.translate(_ENTITIES)


def marker(n: int | str, doc_id: str, start: int, end: int, title: str = "", key_start: int | None = None,
           key_end: int | None = None, shown: str | None = None) -> str:
    """A clickable ``[n]`` (or ``shown``) that opens ``[start:end)`` of the article in the source panel."""
    key = html.escape(cite_key(doc_id, start, end, key_start, key_end), quote=True)
    return (f'<a class="nr-cite" href="#nr-cite:{key}" data-cite="{key}" title="{html.escape(title, quote=True)}">'
            f"{text(shown) if shown is not None else f'[{n}]'}</a>")


def passage_marker(p: Passage) -> str:
    """A retrieved passage's link: "#2", so it is never taken for the answer's citation [2]."""
    return marker(p.rank, p.article.doc_id, p.chunk.start, p.chunk.end, p.article.label, shown=f"#{p.rank}")


def citation_marker(c: Citation) -> str:
    return marker(c.n, c.article.doc_id, c.start, c.end, c.article.label, c.answer_start, c.answer_end)


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
        out.append(citation_marker(c) if c else text(m.group(0)))
        pos = m.end()
    out.append(text(answer_text[pos:]))
    return "".join(out)


def meta_line(title: str, published: date | None, source: str | None = None) -> str:
    """"Title · 2021-07-22 · IANS": what a reader checks first; the file name only where there is no title."""
    parts = [text(title), text(when(published))]
    if source:
        parts.append(text(source))
    return " · ".join(parts)


def citation_list(citations: Sequence[Citation]) -> str:
    items = []
    for c in citations:
        a = c.article
        items.append(f"<li>{citation_marker(c)} {meta_line(a.label, a.published, a.source)}</li>")
    return f'<ol class="nr-citations">{"".join(items)}</ol>' if items else ""


def rewritten(answer: Answer, question: str | None = None) -> str:
    """"Understood as: …" above an answer whose question was read with the conversation's words."""
    if question is None:
        if not answer.trace.get("rewritten"):
            return ""
        shown: str | None = answer.query
    else:
        shown = understood_as(question, answer.query)
    if not shown:
        return ""
    return f'<div class="nr-query">Understood as: <em>{text(shown)}</em></div>\n\n'


def _snippet(passage: Passage) -> str:
    snippet = " ".join(passage.chunk.text.split())
    return snippet[:SNIPPET_CHARS] + ("…" if len(snippet) > SNIPPET_CHARS else "")


def closest_passages(passages: Sequence[Passage], limit: int = 3) -> str:
    items = []
    for p in passages[:limit]:
        a = p.article
        items.append(f'<li><span class="nr-not-answer">not an answer</span> '
                     f'{passage_marker(p)} {meta_line(a.label, a.published)}'
                     f'<br><span class="nr-snippet">{text(_snippet(p))}</span></li>')
    if not items:
        return ""
    return f'<div class="nr-closest">Closest passages:<ul>{"".join(items)}</ul></div>'


def searched(answer: Answer) -> str:
    """A collapsed "What was searched" section: the query and every retrieved passage with its score, each
    clickable like a citation (it opens the passage in the source panel)."""
    if not answer.passages:
        return ""
    cited = {(c.article.doc_id, c.start) for c in answer.citations}
    items = []
    for p in answer.passages:
        a, ch = p.article, p.chunk
        used = any(doc == a.doc_id and ch.start <= start < ch.end for doc, start in cited)
        badge = '<span class="nr-used">cited</span> ' if used else ""
        items.append(f'<li>{badge}{passage_marker(p)} {meta_line(a.label, a.published)} · '
                     f'<span class="nr-score">score {p.score:.2f}</span>'
                     f'<br><span class="nr-snippet">{text(_snippet(p))}</span></li>')
    n = len(answer.passages)
    return (f'\n\n<details class="nr-searched"><summary>What was searched: {n} passage{"s" if n != 1 else ""} '
            f'for “{text(answer.query)}”</summary><ol>{"".join(items)}</ol></details>')


def answer_html(answer: Answer, upto: int | None = None, question: str | None = None) -> str:
    """The chat message for ``answer``; ``upto`` shows only the first sentences (streaming). ``question`` is
    what the user typed: "Understood as" is shown only when the query means more than it."""
    head = rewritten(answer, question)
    if answer.abstained:
        return (f'{head}<div class="nr-abstain"><strong>Not answered.</strong> {text(answer.text)}</div>\n\n'
                f"{closest_passages(answer.passages)}{searched(answer)}")
    pieces = split_sentences(answer.text)
    done = upto is None or upto >= len(pieces)
    body = answer_body("".join(pieces if done else pieces[:upto]), answer.citations)
    tail = (f"\n\n{citation_list(answer.citations)}{unanswered_parts(answer)}{searched(answer)}" if done
            else " …")
    return f"{head}<div class=\"nr-answer\">{body}</div>{tail}"


def unanswered_parts(answer: Answer) -> str:
    """The parts of a several-part question the articles do not answer, said under the answer to the rest."""
    parts = answer.trace.get("unanswered_parts", [])
    return "".join(f'\n\n<div class="nr-abstain">The articles don\'t answer “{text(p)}”</div>' for p in parts)


def error_html(message: str) -> str:
    return f'<div class="nr-abstain"><strong>Error.</strong> {text(message)}</div>'


def _highlighted(body: str, start: int | None, end: int | None, key_start: int | None, key_end: int | None) -> str:
    """The article text, escaped, with ``[start:end)`` in a ``<mark>`` and the key span in it in ``<strong>``."""
    if start is None or end is None or not 0 <= start < end <= len(body):
        return html.escape(body)
    inner = html.escape(body[start:end])
    if key_start is not None and key_end is not None and start <= key_start < key_end <= end:
        inner = (f"{html.escape(body[start:key_start])}<strong class=\"nr-key\">"
                 f"{html.escape(body[key_start:key_end])}</strong>{html.escape(body[key_end:end])}")
    return f"{html.escape(body[:start])}<mark id=\"nr-mark\">{inner}</mark>{html.escape(body[end:])}"


def source_html(article: Any, start: int | None = None, end: int | None = None, key_start: int | None = None,
                key_end: int | None = None, key: str = "") -> str:
    """An article beside the chat: title and date above, its text below in a box that scrolls on its own,
    the span ``[start:end)`` in a ``<mark>`` (and the answer's key span inside it in bold). ``key`` is the
    citation that opened it, which the page script checks before it scrolls to the mark."""
    meta = [html.escape(when(article.published)), f"source: {html.escape(article.source or 'unknown')}"]
    if article.title:  # an untitled article's label already names its file
        meta.append(f"<code>{html.escape(article.file)}</code>")
    shown = _highlighted(article.text, start, end, key_start, key_end)
    return (f'<div class="nr-source" data-key="{html.escape(key, quote=True)}"><div class="nr-source-head">'
            f'<h3>{html.escape(article.label)}</h3>'
            f'<div class="nr-meta">{" · ".join(meta)}</div></div>'
            f'<div class="nr-scroll" tabindex="0"><div class="nr-text">{shown}</div></div></div>')


SOURCE_PLACEHOLDER = ('<div class="nr-source nr-empty">Click a citation marker such as [1] to open the article '
                      "here with the quoted passage highlighted.</div>")
LIBRARY_PLACEHOLDER = ('<div class="nr-source nr-empty">Click a row of the table to preview the article here, edit its '
                       "title, source and date, or delete it.</div>")


# -- Markdown, for a conversation's export ----------------------------------------------------------


def answer_markdown(question: str, answer: Answer) -> str:
    """One turn of a conversation as Markdown: the question, the answer with its ``[n]`` markers, and each
    citation with its article, date, span and verbatim quote."""
    out = [f"## {question.strip()}", ""]
    shown = understood_as(question, answer.query)
    if shown:
        out += [f"*Understood as: {shown}*", ""]
    if answer.abstained:
        out += [f"**Not answered.** {answer.text}", ""]
    else:
        out += [answer.text, ""]
    for c in answer.citations:
        a = c.article
        out.append(f"[{c.n}] {a.label} · {when(a.published)} · {a.source or 'source unknown'} · `{a.file}`, "
                   f"characters {c.start}–{c.end}")
        out.append("")
        out.append("> " + " ".join(c.quote.split()))
        out.append("")
    for part in answer.trace.get("unanswered_parts", []):
        out += [f"The articles don't answer “{part}”.", ""]
    return "\n".join(out)
