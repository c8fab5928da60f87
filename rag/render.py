"""How an answer looks in a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from rag.types import Answer


def print_answer(answer: Answer, console: Console | None = None) -> None:
    console = console or Console()
    if answer.trace.get("rewritten"):
        console.print(f"[dim]standalone query:[/] {escape(answer.query)}")
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
        console.print(f"[bold][{c.n}][/] {escape(a.label)} · {when} · {a.file} · chars {c.start}–{c.end}")
        console.print(f"    [green]“{escape(c.quote)}”[/]")
    for part in answer.trace.get("unanswered_parts", []):
        console.print(f"[yellow]The articles don't answer “{escape(part)}”[/]")
    total = answer.trace.get("timings_ms", {}).get("total")
    if total is not None:
        console.print(f"[dim]{total:.0f} ms[/]")
