"""The types that cross the question-answering stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from index.types import Chunk


@dataclass(frozen=True)
class ArticleInfo:
    """What a passage or citation says about the article it comes from."""

    doc_id: str
    file: str
    title: str | None
    source: str | None
    published: date | None

    @property
    def label(self) -> str:
        return self.title or f"Untitled ({self.file})"


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, its fused score and its 1-based rank."""

    chunk: Chunk
    article: ArticleInfo
    score: float
    rank: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "doc_id": self.chunk.doc_id,
            "file": self.article.file,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "score": round(self.score, 6),
            "text": self.chunk.text,
        }


@dataclass(frozen=True)
class Citation:
    """A verbatim quote: ``quote == article.text[start:end]`` (checked by ``rag.verify``).

    ``answer_start``/``answer_end``, when the answerer gives them, are the absolute offsets in the article
    of the span the answer leads with (a name, number or date) inside the quote; the UI highlights it."""

    n: int
    article: ArticleInfo
    start: int
    end: int
    quote: str
    answer_start: int | None = None
    answer_end: int | None = None

    def to_dict(self) -> dict[str, Any]:
        a = self.article
        return {
            "n": self.n,
            "doc_id": a.doc_id,
            "file": a.file,
            "title": a.title,
            "published": a.published.isoformat() if a.published else None,
            "start": self.start,
            "end": self.end,
            "quote": self.quote,
            "answer_start": self.answer_start,
            "answer_end": self.answer_end,
        }


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to a date range and/or to some sources (agencies or file names)."""

    since: date | None = None
    until: date | None = None
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.sources)


@dataclass
class Answer:
    """An answer with its citations; ``trace`` holds timings and retrieval scores for the UI and eval."""

    text: str
    citations: list[Citation]
    abstained: bool
    query: str
    passages: list[Passage] = field(default_factory=list)
    trace: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object printed by ``newsrag ask --json`` and returned by the chat API."""
        return {
            "answer": self.text,
            "abstained": self.abstained,
            "query": self.query,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings_ms": {k: round(v, 2) for k, v in self.trace.get("timings_ms", {}).items()},
        }


