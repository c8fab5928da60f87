"""How an answer looks in a terminal, and when a rewritten question is worth showing (here and in the app)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from rag.terms import content_terms
from rag.types import Answer


def understood_as(question: str, query: str) -> str | None:
    """The rewritten question when it means more than the question asked (it carries words of the
    conversation), else ``None``: a respelling or a dropped "um, can you tell me" is not worth showing.

    >>> understood_as("And what did Halvorsen say there?", "And what did Halvorsen say there? (Okonjo, Tampere)")
    'And what did Halvorsen say there? (Okonjo, Tampere)'
    >>> understood_as("um wat did okonjo say", "what did okonjo say") is None
    True
    """
    if not query or query.strip() == question.strip():
        return None
    added = set(content_terms(query)) - set(content_terms(question))
    return query.strip() if added else None


def print_answer(answer: Answer, console: Console | None = None, question: str | None = None) -> None:
    """The answer, each citation with its article, date and quote, and the parts left unanswered. ``question``
    is what the user asked: the rewritten query is shown only when it means more."""
    console = console or Console()
    shown = understood_as(question, answer.query) if question is not None else (
        answer.query if answer.trace.get("rewritten") else None)
    if shown:
        console.print(f"[dim]understood as:[/] {escape(shown)}")
    if answer.abstained:
        console.print(f"[yellow]{escape(answer.text)}[/]")
        for p in answer.passages[:3]:
            console.print(f"  [dim](not an answer) {escape(p.article.label)} · {p.article.file} "
                          f"[{p.chunk.start}:{p.chunk.end}][/]\n    [dim]{escape(p.chunk.text.strip()[:300])}[/]")
        return
    console.print(escape(answer.text))
    console.print()
    for c in answer.citations:
        a = c.article
        when = a.published.isoformat() if a.published else "date unknown"
        console.print(f"[bold][{c.n}][/] {escape(a.label)} · {when} · {a.file} · characters {c.start}–{c.end}")
        console.print(f"    [green]“{escape(c.quote)}”[/]")
    for part in answer.trace.get("unanswered_parts", []):
        console.print(f"[yellow]The articles don't answer “{escape(part)}”[/]")
