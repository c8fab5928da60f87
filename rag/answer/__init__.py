"""Answer: query + passages → ``Answer`` with numbered, verbatim citations.

The default backend is extractive and needs no LLM. Every sentence of the retrieved passages is a candidate
(``candidates``); each gets a row of general signals (``features``: embedding similarity, IDF word overlap,
answer-type match from named entities, someone's words for "what did … say", retrieval rank, …) that a logistic
model learned on the dev corpora turns into the probability that it is evidence (``model``). The answer quotes
the likeliest sentence and those close behind it (``select``), leading with the entity the question asks for
when it has one; it abstains when the learned answerability of the question is under the threshold calibrated on
the dev corpora's unanswerable questions (``abstain``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from index.annotate import Entity
from rag.answer.abstain import QUESTION_FEATURES, question_features
from rag.answer.backends import BACKENDS, AnswerBackend, make_backend, register
from rag.answer.candidates import Candidate, candidates_of
from rag.answer.cite import abstention, cited_answer
from rag.answer.features import FEATURES, Context, featurize, idf_weights, question_names
from rag.answer.model import AnswerModel, load_model
from rag.answer.question import Question, analyse
from rag.answer.select import lead_span, reading_order, select
from rag.condense import Query
from rag.types import Answer, Passage

__all__ = ["BACKENDS", "AnswerBackend", "ExtractiveBackend", "Scored", "abstention", "cited_answer", "make_backend",
           "register"]

#: Articles whose text the backend keeps in memory (the sentence before a passage is read from it).
ARTICLE_CACHE = 512


@dataclass(frozen=True)
class Scored:
    """One question (or part) scored: its candidates, their features and probabilities, and its answerability."""

    question: Question
    candidates: list[Candidate]
    features: np.ndarray
    p: np.ndarray
    question_row: np.ndarray
    answerable: float


class ExtractiveBackend:
    """Answers with verbatim sentences of the retrieved passages, chosen by a learned model; no LLM."""

    name = "extractive"

    def __init__(self, embed_query: Callable[[str], np.ndarray],
                 sentence_vectors: Callable[[list[str]], dict[tuple[str, int], np.ndarray]],
                 sentence_entities: Callable[[list[str]], dict[tuple[str, int], tuple[Entity, ...]]],
                 document_frequency: Callable[[list[str]], tuple[dict[str, int], int]],
                 article_text: Callable[[str], str], model: AnswerModel | None = None,
                 threshold: float | None = None) -> None:
        self.embed_query = embed_query
        self.sentence_vectors = sentence_vectors
        self.sentence_entities = sentence_entities
        self.document_frequency = document_frequency
        # doc_id is a content hash, so a cached text is never stale
        self.text_of: Callable[[str], str] = lru_cache(maxsize=ARTICLE_CACHE)(article_text)
        self.model = model or load_model()
        self.threshold = self.model.threshold if threshold is None else threshold

    def score(self, query: Query, passages: list[Passage]) -> Scored:
        """Every candidate sentence of ``passages`` scored for ``query``."""
        q = analyse(query.question, query.context)
        candidates = candidates_of(passages, self.sentence_entities, self.text_of)
        df, n_docs = self.document_frequency(list(q.terms))
        chunk_ids = [p.chunk.chunk_id for p in passages]
        ctx = Context(self.embed_query(query.text), self.sentence_vectors(chunk_ids), idf_weights(df, n_docs),
                      query.follows, frozenset(doc for doc, _ in query.follows))
        x = featurize(q, candidates, ctx)
        p = self.model.sentence.probability(x, FEATURES) if len(candidates) else np.zeros(0)
        row = question_features(q, x, p)
        answerable = float(self.model.answerable.probability(row[None, :], QUESTION_FEATURES)[0])
        return Scored(q, candidates, x, p, row, answerable)

    def answer(self, query: Query, passages: list[Passage]) -> Answer:
        if not passages:
            return abstention(query, passages)
        whole = self.score(query, passages)
        if not whole.candidates:
            return abstention(query, passages)
        if whole.answerable < self.threshold:
            answer = abstention(query, passages)
        else:
            picked = select(whole.candidates, whole.p, self.model)  # the likeliest first
            best = whole.candidates[picked[0]]
            chosen = [whole.candidates[i] for i in reading_order(whole.candidates, picked)]
            chosen.insert(0, chosen.pop(chosen.index(best)))  # the sentence the answer leads with comes first
            lead = lead_span(whole.question, best, question_names(whole.question.text, whole.candidates))
            answer = cited_answer(query, chosen, passages, lead)
        order = np.argsort(-whole.p)[:8]
        answer.trace["support"] = [
            {"doc_id": whole.candidates[i].article.doc_id, "start": whole.candidates[i].start,
             "end": whole.candidates[i].end, "p": round(float(whole.p[i]), 4)} for i in order]
        answer.trace["answerable"] = round(whole.answerable, 4)
        answer.trace["threshold"] = round(self.threshold, 4)
        return answer
