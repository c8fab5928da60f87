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


@dataclass(frozen=True)
class SentenceSupport:
    """How one answer sentence fared in ``rag.verify``: kept, or dropped with the reasons; ``score`` is its support
    (0 to 1, see ``rag.support``), ``lexical`` and ``dense`` the closeness to the sentences it was checked against;
    ``cites`` are its citation numbers in the answer when kept, the source numbers it gave when dropped."""

    text: str
    kept: bool
    score: float
    lexical: float
    dense: float
    cites: tuple[int, ...] = ()
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "kept": self.kept, "score": round(self.score, 4),
                "lexical": round(self.lexical, 4), "dense": round(self.dense, 4), "cites": list(self.cites),
                "reasons": list(self.reasons)}


@dataclass
class Answer:
    """An answer with its citations; ``trace`` holds timings and retrieval scores for the UI and eval."""

    text: str
    citations: list[Citation]
    abstained: bool
    query: str
    passages: list[Passage] = field(default_factory=list)
    trace: dict[str, Any] = field(default_factory=dict)
    #: Written by an LLM (``rag.llm``): its ``[n]`` name sources (passages), which ``rag.verify`` maps to sentences.
    generated: bool = False
    #: Every sentence the backend wrote, kept or dropped, with its support (``rag.verify``).
    sentences: list[SentenceSupport] = field(default_factory=list)
    #: Why an LLM's answer was replaced by the extractive one (one line for the user), if it was.
    fallback: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object printed by ``newsrag ask --json`` and returned by the chat API."""
        return {
            "answer": self.text,
            "abstained": self.abstained,
            "query": self.query,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings_ms": {k: round(v, 2) for k, v in self.trace.get("timings_ms", {}).items()},
            "generated": self.generated,
            "sentences": [s.to_dict() for s in self.sentences],
            "fallback": self.fallback,
        }


