"""Candidates: retrieved passages → the sentences an answer may quote, each with what it leans on.

Every sentence of every retrieved chunk is a candidate, quoted from the chunk text (and so verbatim from the
article), with the sentence before it (from the article when it lies in the chunk before), its named entities
(found at ingestion, ``index.annotate``) and the rank and score of the passage it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from index.annotate import Entity
from rag.types import ArticleInfo, Passage

_SENTENCE_BREAK = re.compile(r"(?<=[.!?\"”])\s+|\n+")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage: ``text == article_text[start:end]``."""

    article: ArticleInfo
    start: int
    end: int
    text: str
    #: The rank (from 1) and fused retrieval score of the passage it comes from.
    rank: int
    score: float
    #: The sentence before it in the article ("" for the first).
    before: str
    entities: tuple[Entity, ...]
    #: Its place in the article: 0 for the first sentence (the headline, in most news text).
    index: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.article.doc_id, self.start)


Entities = Callable[[list[str]], dict[tuple[str, int], tuple[Entity, ...]]]


def candidates_of(passages: list[Passage], entities: Entities,
                  article_text: Callable[[str], str] | None = None) -> list[Candidate]:
    """Every sentence of the passages, in passage order, each once (a sentence two passages share is the
    better-ranked one's)."""
    found = entities([p.chunk.chunk_id for p in passages])
    out: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for p in passages:
        c = p.chunk
        texts = [c.text[s - c.start : e - c.start] for s, e in c.sentences]
        previous = ""
        if c.start > 0 and article_text is not None:
            head = article_text(p.article.doc_id)[max(0, c.start - 600) : c.start].rstrip()
            previous = _SENTENCE_BREAK.split(head)[-1] if head else ""
        befores = [previous, *texts[:-1]]
        for i, ((s, e), text, before) in enumerate(zip(c.sentences, texts, befores, strict=True)):
            key = (p.article.doc_id, s)
            if key in seen:
                continue
            seen.add(key)
            index = i if c.start == 0 else i + 1  # a chunk that does not open the article never holds sentence 0
            out.append(Candidate(p.article, s, e, text, p.rank, p.score, before, found.get(key, ()), index))
    return out
