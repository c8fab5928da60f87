"""Answer: query + passages → ``Answer`` with numbered, verbatim citations.

Backends share one interface (``AnswerBackend.answer``) and the code that turns chosen sentences
into cited text and abstentions. The default backend is extractive and needs no LLM: it scores
every sentence of the retrieved passages and answers with the best ones, each followed by ``[n]``.

A sentence's *support* blends three signals, each in [0, 1]:
- ``dense``: cosine between the query and the sentence vector (stored at ingest time);
- ``lexical``: the IDF-weighted share of the query's content words that the sentence contains;
- ``focus``: the same share over everything retrieved from the sentence's article, so a sentence
  from the article about the place or person the question names beats a look-alike from another.
Words carried over from earlier turns of a conversation weigh less than the question's own words.
When the best support is under ``abstain_below`` the answer abstains (docs/abstention.md shows how
the threshold was chosen on the eval set).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.condense import Query
from rag.errors import NotFoundError
from rag.terms import content_terms, term_set
from rag.types import Answer, ArticleInfo, Citation, Passage

W_DENSE, W_LEXICAL, W_FOCUS = 0.45, 0.25, 0.30
#: Added to a sentence that holds what the question asks for (a date for "when", a quote for "say").
W_CUE = 0.08
CONTEXT_WEIGHT = 0.35
#: The answer's first sentence is the best one that has the expected cue, among those this close to the top.
PRIMARY_MARGIN = 0.15
#: Further sentences must be this close to the first one, from an article as much on topic.
MAX_SENTENCES = 3
MARGIN = 0.10
FOCUS_MARGIN = 0.15


class AnswerBackend(Protocol):
    name: str

    def answer(self, query: Query, passages: list[Passage]) -> Answer: ...


_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
#: What a question asks for (by its wording) → how a sentence that gives it looks.
CUES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "date": (
        re.compile(r"^\s*(when|since when|until when)\b|\b(what|which) (date|day|year|month|time)\b", re.I),
        re.compile(rf"\b({_WEEKDAYS}|{_MONTHS})\b|\b(1[89]|20)\d\d\b|\b(last|next|this) (year|month|week)\b|"
                   r"\b(yesterday|today|tomorrow|days? (back|ago))\b|\b\d{1,2}:\d\d\b", re.I),
    ),
    "number": (
        re.compile(r"\bhow (many|much)\b|\b(vote|votes|count|tally|margin|number|percentage)\b|\bby how\b", re.I),
        re.compile(r"\d"),
    ),
    "speech": (
        re.compile(r"\b(say|said|says|tell|told|describe|described|call|called|react|respond|comment|tweet|tweeted|"
                   r"quote|claim|warn|stated?)\b", re.I),
        re.compile(r"[\"“”]|\b(said|says|told|tweeted|stated|described|quoted|asking|added)\b", re.I),
    ),
}


def expected_cues(question: str) -> tuple[str, ...]:
    """What kinds of answer the question's wording asks for.

    >>> expected_cues("When did the House pass the bill?"), expected_cues("What did Lavrov say in Manila?")
    (('date',), ('speech',))
    """
    return tuple(name for name, (asks, _) in CUES.items() if asks.search(question))


def has_cue(cue: str, text: str) -> bool:
    return bool(CUES[cue][1].search(text))


#: Cues an answer cannot do without: "when" is not answered by a sentence without a date.
REQUIRED_CUES = ("date", "number")


def names_in(question: str) -> list[str]:
    """Capitalised words after the first: the people, places and bodies the question is about.

    >>> names_in("What did Lavrov say in Bonn about North Korea?")
    ['Lavrov', 'Bonn', 'North', 'Korea']
    """
    words = re.findall(r"[A-Za-z0-9][\w'.-]*", question)[1:]
    return [w.strip(".'") for w in words if w[0].isupper() and content_terms(w.replace("-", " "))]


def mentions(name: str, terms: frozenset[str]) -> bool:
    return set(content_terms(name.replace("-", " ").replace(".", ""))) <= terms


def article_terms(text: str) -> frozenset[str]:
    """Words of an article for name checks ("U.S." counts as "US")."""
    return term_set(text.replace(".", ""))


@dataclass(frozen=True)
class Sentence:
    """A candidate answer sentence: an absolute span of an article, with its scores."""

    article: ArticleInfo
    start: int
    end: int
    text: str
    rank: int
    dense: float = 0.0
    lexical: float = 0.0
    focus: float = 0.0
    cue: float = 0.0

    @property
    def support(self) -> float:
        return W_DENSE * self.dense + W_LEXICAL * self.lexical + W_FOCUS * self.focus + W_CUE * self.cue


def sentences_of(passages: list[Passage]) -> list[Sentence]:
    """Every sentence of the passages, quoted from the chunk text (and so verbatim from the article)."""
    out = []
    for p in passages:
        for s, e in p.chunk.sentences:
            out.append(Sentence(p.article, s, e, p.chunk.text[s - p.chunk.start : e - p.chunk.start], p.rank))
    return out


def weighted_terms(query: Query) -> dict[str, float]:
    """Content words of the query with their weights: the question's own 1.0, carried context less."""
    weights = {t: 1.0 for t in content_terms(query.question)}
    for word in query.context:
        for t in content_terms(word):
            weights.setdefault(t, CONTEXT_WEIGHT)
    return weights


def coverage(weights: dict[str, float], idf: dict[str, float], present: frozenset[str]) -> float:
    """IDF-weighted share of the query's terms found in ``present``.

    >>> coverage({"manila": 1.0, "lavrov": 1.0}, {"manila": 3.0, "lavrov": 1.0}, frozenset({"manila"}))
    0.75
    """
    total = sum(w * idf.get(t, 0.0) for t, w in weights.items())
    if total == 0:
        return 0.0
    return sum(w * idf.get(t, 0.0) for t, w in weights.items() if t in present) / total


def idf_weights(df: dict[str, int], n_docs: int) -> dict[str, float]:
    """BM25's IDF; a word no chunk contains gets the IDF of the rarest possible word."""
    n = max(n_docs, 1)
    return {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) if f else math.log(1 + (n + 0.5) / 0.5) for t, f in df.items()}


def score(sentences: list[Sentence], query_vector: np.ndarray, vectors: dict[tuple[str, int], np.ndarray],
          weights: dict[str, float], idf: dict[str, float], passages: list[Passage],
          cues: tuple[str, ...] = ()) -> list[Sentence]:
    """The sentences with their scores filled in, best support first."""
    by_article: dict[str, set[str]] = {}
    for p in passages:
        by_article.setdefault(p.article.doc_id, set()).update(term_set(p.chunk.text))
    focus = {doc: coverage(weights, idf, frozenset(terms)) for doc, terms in by_article.items()}
    scored = []
    for s in sentences:
        vector = vectors.get((s.article.doc_id, s.start))
        dense = float(np.clip(vector @ query_vector, 0.0, 1.0)) if vector is not None else 0.0
        lexical = coverage(weights, idf, term_set(s.text)) if weights else dense
        cue = sum(has_cue(c, s.text) for c in cues) / len(cues) if cues else 0.0
        scored.append(Sentence(s.article, s.start, s.end, s.text, s.rank, dense, lexical,
                               focus[s.article.doc_id] if weights else dense, cue))
    return sorted(scored, key=lambda s: (-s.support, s.rank, s.start))


def select(scored: list[Sentence], threshold: float) -> list[Sentence]:
    """The sentences that answer, or none (abstain).

    The first is the best-supported sentence that has the kind of answer the question asks for
    (a date for "when", a quote for "what did … say"), among those close to the top; the others
    must be close to it and come from articles as much on topic. Returned in reading order:
    articles by their first chosen sentence, sentences by position.
    """
    if not scored or scored[0].support < threshold:
        return []
    pool = [s for s in scored if s.support >= max(threshold, scored[0].support - PRIMARY_MARGIN)]
    best = max(pool, key=lambda s: (s.cue, s.support))
    chosen = [best]
    for s in scored:
        if len(chosen) == MAX_SENTENCES:
            break
        if s is best or s.cue < best.cue:
            continue
        if s.support >= max(threshold, best.support - MARGIN) and s.focus >= best.focus - FOCUS_MARGIN:
            chosen.append(s)
    return reading_order(chosen)


def reading_order(chosen: list[Sentence]) -> list[Sentence]:
    """Articles in the order they were first chosen; within an article, sentences by position."""
    order = {s.article.doc_id: i for i, s in reversed(list(enumerate(chosen)))}
    return sorted(chosen, key=lambda s: (order[s.article.doc_id], s.start))


def cited_answer(query: Query, chosen: list[Sentence], passages: list[Passage]) -> Answer:
    """Answer text with a ``[n]`` after each sentence, and the matching citations."""
    citations: list[Citation] = []
    parts = []
    for s in chosen:
        n = len(citations) + 1
        citations.append(Citation(n, s.article, s.start, s.end, s.text))
        parts.append(f"{s.text} [{n}]")
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


class ExtractiveBackend:
    """Answers with verbatim sentences of the retrieved passages; no LLM."""

    name = "extractive"

    def __init__(self, embed_query: Callable[[str], np.ndarray],
                 sentence_vectors: Callable[[list[str]], dict[tuple[str, int], np.ndarray]],
                 document_frequency: Callable[[list[str]], tuple[dict[str, int], int]],
                 article_text: Callable[[str], str], threshold: float) -> None:
        self.embed_query = embed_query
        self.sentence_vectors = sentence_vectors
        self.document_frequency = document_frequency
        self.article_text = article_text
        self.threshold = threshold
        self._terms: dict[str, frozenset[str]] = {}  # doc_id is a content hash: never stale

    def terms_of(self, doc_id: str) -> frozenset[str]:
        if doc_id not in self._terms:
            self._terms[doc_id] = article_terms(self.article_text(doc_id))
        return self._terms[doc_id]

    def cover_names(self, question: str, chosen: list[Sentence],
                    scored: list[Sentence]) -> tuple[list[Sentence], list[str]]:
        """Make the answer's articles mention every name the question gives, taking in the best sentence
        of another article for a name the chosen ones lack; return the names nothing covers."""
        chosen = list(chosen)
        missing = []
        for name in names_in(question):
            if any(mentions(name, self.terms_of(s.article.doc_id)) for s in chosen):
                continue
            extra = next((s for s in scored if s.support >= self.threshold and s not in chosen
                          and mentions(name, self.terms_of(s.article.doc_id))), None)
            if extra is None or len(chosen) >= MAX_SENTENCES + 1:
                missing.append(name)
            else:
                chosen.append(extra)
        return reading_order(chosen), missing

    def answer(self, query: Query, passages: list[Passage]) -> Answer:
        if not passages:
            return abstention(query, passages)
        weights = weighted_terms(query)
        df, n_docs = self.document_frequency(list(weights))
        vectors = self.sentence_vectors([p.chunk.chunk_id for p in passages])
        cues = expected_cues(query.question)
        scored = score(sentences_of(passages), self.embed_query(query.text), vectors, weights,
                       idf_weights(df, n_docs), passages, cues)
        chosen = select(scored, self.threshold)
        reason = ""
        if chosen:
            chosen, missing = self.cover_names(query.question, chosen, scored)
            lacking = [c for c in cues if c in REQUIRED_CUES and not any(has_cue(c, s.text) for s in chosen)]
            if missing:
                reason = f"nothing retrieved about this mentions {', '.join(missing)}"
            elif lacking:
                reason = f"no passage about this gives a {lacking[0]}"
            if reason:
                chosen = []
        answer = cited_answer(query, chosen, passages) if chosen else abstention(query, passages, reason)
        answer.trace["support"] = [
            {"doc_id": s.article.doc_id, "start": s.start, "end": s.end, "support": round(s.support, 4),
             "dense": round(s.dense, 4), "lexical": round(s.lexical, 4), "focus": round(s.focus, 4), "cue": s.cue}
            for s in scored[:8]
        ]
        answer.trace["best_support"] = round(scored[0].support, 4) if scored else 0.0
        answer.trace["threshold"] = self.threshold
        return answer


#: The answer backends by name. Each factory takes the pipeline that owns it.
BACKENDS: dict[str, Callable[..., AnswerBackend]] = {}


def register(name: str, factory: Callable[..., AnswerBackend]) -> None:
    BACKENDS[name] = factory


def make_backend(name: str, pipeline: object) -> AnswerBackend:
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise NotFoundError(f"Unknown answer backend {name!r}; choose one of: {', '.join(sorted(BACKENDS))}.") from None
    return factory(pipeline)
