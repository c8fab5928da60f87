"""``newsrag ask`` with a generative backend: the tokens as they come, each sentence marked once it is checked,
then the verified answer (``rag.render.print_answer``) and the sentences that were dropped, with their scores."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from rag.llm.stream import Checked, Event, Token
from rag.types import Answer, SentenceSupport

NOT_SUPPORTED = "not supported by the sources"


def follow(events: Iterable[Event | Answer], console: Console | None = None) -> Answer:
    """Show a streamed answer live (on a terminal; elsewhere only its end) and return the final ``Answer``."""
    console = console or Console()
    text = Text(style="dim")
    checked: list[SentenceSupport] = []

    def view() -> Group:
        lines = [verdict_line(s) for s in checked]
        return Group(text, *lines)

    with Live(view(), console=console, transient=True, auto_refresh=False,
              redirect_stdout=False, redirect_stderr=False) as live:
        for event in events:
            if isinstance(event, Answer):
                answer = event
            elif isinstance(event, Token):
                text.append(event.text)
                live.update(view(), refresh=True)
            elif isinstance(event, Checked):
                checked.append(event.sentence)
                live.update(view(), refresh=True)
    return answer


def verdict_line(s: SentenceSupport) -> Text:
    mark = Text("✓ ", style="green") if s.kept else Text("✗ ", style="red")
    line = Text.assemble(mark, (f"{s.score:.2f} ", "dim"), s.text)
    if not s.kept:
        line.append(f"  ({NOT_SUPPORTED}: {'; '.join(s.reasons)})", style="red")
    return line


def print_checks(answer: Answer, console: Console | None = None) -> None:
    """What the verifier did to a generated answer: each sentence it dropped, marked, with its support score."""
    console = console or Console()
    dropped = [s for s in answer.sentences if not s.kept]
    if not (answer.generated or answer.fallback) or not dropped:
        return
    console.print(f"[red]{len(dropped)} generated sentence{'s' if len(dropped) > 1 else ''} {NOT_SUPPORTED}, "
                  "left out:[/]")
    for s in dropped:
        console.print(f"  [red]✗[/] [dim]{s.score:.2f}[/] {escape(s.text)} [dim]({escape('; '.join(s.reasons))})[/]")
