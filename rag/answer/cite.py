"""Citation: chosen sentences → the answer text with a ``[n]`` after each, and its verbatim ``Citation``s; or the
abstention that says the articles do not answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from index.annotate import Entity
from rag.answer.candidates import Candidate
from rag.condense import Query
from rag.types import Answer, Citation, Passage


def cited_answer(query: Query, chosen: Sequence[Candidate], passages: list[Passage],
                 lead: Entity | None = None, note: str = "") -> Answer:
    """The sentences, each followed by its ``[n]``; with a ``lead`` entity of the first sentence, the answer opens
    with it ("Tuesday — It passed the House on Tuesday 419-3. [1]") and its citation marks where it stands."""
    citations: list[Citation] = []
    parts = [note] if note else []
    for n, c in enumerate(chosen, start=1):
        span = lead if n == 1 else None
        citations.append(Citation(n, c.article, c.start, c.end, c.text,
                                  answer_start=c.start + span.start if span else None,
                                  answer_end=c.start + span.end if span else None))
        parts.append(f"{span.text(c.text)} — {c.text} [{n}]" if span else f"{c.text} [{n}]")
    return Answer(text=" ".join(parts), citations=citations, abstained=False, query=query.text, passages=passages)


def abstention(query: Query, passages: list[Passage], reason: str = "") -> Answer:
    """The answer when nothing supports one: say so, and show the closest passages as not an answer."""
    why = f" ({reason})" if reason else ""
    text = (
        f"The articles don't say. None of the stored articles answers “{query.question}”{why}; "
        "the closest passages are listed below, but they are not an answer."
    )
    answer = Answer(text=text, citations=[], abstained=True, query=query.text, passages=passages)
    answer.trace["abstain_reason"] = reason or "weak support"
    return answer
