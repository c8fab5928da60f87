"""Retrieve: query (+ filters) → ranked ``Passage``s.

Dense retrieval is small-to-big: the query is matched against the stored sentence vectors and each
chunk scores as its best sentence (a 600-character chunk's own vector blurs the one sentence that
answers). BM25 (llama-index's ``BM25Retriever``) ranks the same chunks by words. The two are fused
by llama-index's ``QueryFusionRetriever`` in distribution-based score mode, BM25 weighted above the
small MiniLM model (measured on the eval set, with and without 1,160 distractor articles: see the
README); near-duplicate chunks (the same wire story stored twice) are then collapsed to the best one.
A follow-up question ("Did he say anything about European allies?") stays on the conversation's
article: its chunks get a bonus over the fused scores (``PREFER_BONUS``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np

from index.lexical import LexicalIndex
from index.store import SERVER_MAX_AGE, Store
from index.types import Chunk
from rag.types import ArticleInfo, Filters, Passage

#: Each retriever proposes this many candidates per passage finally kept. A wider pool also steadies the
#: score distributions that distribution-based fusion normalises by (recall@5 with 1,160 distractor
#: articles: 0.867 with 4, 0.911 with 8 or 16; the seeds alone: 0.956 with each).
_POOL = 8
#: Sentences fetched per chunk candidate by the dense retriever (several sentences share a chunk).
_SENTENCES_PER_CHUNK = 5
#: Weights of the dense and BM25 rankings in the fusion.
DENSE_WEIGHT, LEXICAL_WEIGHT = 0.4, 0.6
#: Added to the fused score of a chunk from the article a conversation is about (fused scores run ~0 to 1.2;
#: recall@5 with distractors 0.911 -> 0.933 for any bonus from 0.2 to 0.5).
PREFER_BONUS = 0.3


def sentence_retriever(store: Store, top_k: int) -> Any:
    """A llama-index retriever: chunks ranked by their best-matching stored sentence vector."""
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle

    class SentenceToChunkRetriever(BaseRetriever):
        def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
            (best,) = store.chunks_by_best_sentence([np.asarray(query_bundle.embedding)], top_k * _SENTENCES_PER_CHUNK)
            ids = list(best)[:top_k]
            nodes = store.chunk_nodes(ids) if ids else []
            return sorted((NodeWithScore(node=n, score=best[n.node_id]) for n in nodes),
                          key=lambda n: -(n.score or 0.0))

    return SentenceToChunkRetriever()


def to_metadata_filters(filters: Filters) -> Any:
    """Our ``Filters`` as llama-index ``MetadataFilters`` (understood by Chroma and by BM25)."""
    if not filters:
        return None
    from llama_index.core.vector_stores import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters

    parts: list[Any] = []
    if filters.since:
        parts.append(MetadataFilter(key="published_ord", operator=FilterOperator.GTE, value=filters.since.toordinal()))
    if filters.until:
        parts.append(MetadataFilter(key="published_ord", operator=FilterOperator.LTE, value=filters.until.toordinal()))
    if filters.until and not filters.since:  # an unknown date is stored as 0: it must not pass "until"
        parts.append(MetadataFilter(key="published_ord", operator=FilterOperator.GT, value=0))
    if filters.sources:
        names = list(filters.sources)
        parts.append(MetadataFilters(
            filters=[MetadataFilter(key="source", operator=FilterOperator.IN, value=names),
                     MetadataFilter(key="file", operator=FilterOperator.IN, value=names)],
            condition=FilterCondition.OR,
        ))
    return MetadataFilters(filters=parts, condition=FilterCondition.AND)


def node_to_passage(node: Any, score: float, rank: int) -> Passage:
    """A retrieved llama-index node as our ``Passage`` (its metadata was written by ``index.store``)."""
    m = node.metadata
    doc_id = node.ref_doc_id
    chunk = Chunk(
        chunk_id=node.node_id, doc_id=doc_id, text=node.get_content(), start=int(m["start"]),
        end=int(m["end"]), sentences=tuple(tuple(s) for s in json.loads(m["sentences"])),
    )
    article = ArticleInfo(
        doc_id=doc_id, file=m["file"], title=m["title"] or None, source=m["source"] or None,
        published=date.fromisoformat(m["published"]) if m["published"] else None,
    )
    return Passage(chunk=chunk, article=article, score=float(score), rank=rank)


@lru_cache(maxsize=4096)
def shingles(text: str, n: int = 5) -> frozenset[tuple[str, ...]]:
    """Word n-grams of ``text``, lower-cased.

    >>> sorted(shingles("A b c", n=2))
    [('a', 'b'), ('b', 'c')]
    """
    words = re.findall(r"\w+", text.lower())
    if len(words) < n:
        return frozenset({tuple(words)})
    return frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def collapse_near_duplicates(passages: Iterable[Passage], threshold: float = 0.8,
                             limit: int | None = None) -> list[Passage]:
    """Keep the best-ranked of passages whose word 5-grams overlap (Jaccard) by ``threshold`` or more;
    stop once ``limit`` are kept (read no further: ``passages`` may be made as they are read)."""
    kept: list[tuple[Passage, frozenset[tuple[str, ...]]]] = []
    for passage in passages:
        if limit is not None and len(kept) == limit:
            break
        grams = shingles(passage.chunk.text)
        if any(len(grams & g) / max(1, len(grams | g)) >= threshold for _, g in kept):
            continue
        kept.append((passage, grams))
    return [p for p, _ in kept]


class HybridRetriever:
    """Sentence-level dense + BM25, fused by distribution-based scores, over one ``Store``."""

    def __init__(self, store: Store, lexical: LexicalIndex, embed_model: Any,
                 embed_query: Callable[[str], np.ndarray]) -> None:
        self.store = store
        self.lexical = lexical
        self.embed_model = embed_model
        self.embed_query = embed_query
        self._index: Any = None
        self._index_generation = -1  # the store's client the index was built on
        self._fusions: dict[tuple[int, int] | None, Any] = {}

    def retrieve(self, query: str, k: int, filters: Filters | None = None,
                 prefer: frozenset[str] = frozenset()) -> list[Passage]:
        """The ``k`` best passages for ``query``; chunks of the articles in ``prefer`` (those a conversation
        is about) get ``PREFER_BONUS`` added to their fused score."""
        with self.store.reading():  # Chroma's files are not written meanwhile; another process's commits are seen
            return self._retrieve(query, k, filters, prefer)

    def _retrieve(self, query: str, k: int, filters: Filters | None, prefer: frozenset[str]) -> list[Passage]:
        from llama_index.core import QueryBundle, VectorStoreIndex
        from llama_index.core.llms import MockLLM
        from llama_index.core.retrievers import QueryFusionRetriever
        from llama_index.core.retrievers.fusion_retriever import FUSION_MODES

        if self._index is None or self._index_generation != self.store.generation:
            self._index = VectorStoreIndex.from_vector_store(self.store.vector_store, embed_model=self.embed_model)
            self._index_generation, self._fusions = self.store.generation, {}
        pool = max(k * _POOL, 10)
        metadata_filters = to_metadata_filters(filters or Filters())
        fresh = self.lexical.refresh(max_age=SERVER_MAX_AGE)  # another process may have changed the store
        # Without filters the same retrievers serve every query until the BM25 index is rebuilt (building
        # them costs ~1 ms a query).
        key = (pool, id(self.lexical.index)) if metadata_filters is None else None
        fusion = self._fusions.get(key)
        if fusion is None:
            # A filter can exclude most of the nearest sentences: then the chunks' own vectors, filtered in Chroma.
            dense = (self._index.as_retriever(similarity_top_k=pool, filters=metadata_filters) if metadata_filters
                     else sentence_retriever(self.store, pool))
            retrievers, weights = [dense], [DENSE_WEIGHT]
            bm25 = self.lexical.retriever(pool, metadata_filters)
            if bm25 is not None:
                retrievers.append(bm25)
                weights.append(LEXICAL_WEIGHT)
            fusion = QueryFusionRetriever(
                retrievers, mode=FUSION_MODES.DIST_BASED_SCORE, retriever_weights=weights, similarity_top_k=pool,
                num_queries=1, use_async=False,
                llm=MockLLM(),  # never called: with num_queries=1 the query is not rewritten by an LLM
            )
            if key:
                self._fusions = {key: fusion}  # only the current index's
        results = fusion.retrieve(QueryBundle(query, embedding=self.embed_query(query).tolist()))
        return self._passages(results, k, fresh, prefer)

    def _passages(self, results: list[Any], k: int, fresh: bool, prefer: frozenset[str]) -> list[Passage]:
        """The fused results as the ``k`` best distinct passages, ranked from 1; chunks of articles that are not
        complete (being written, or left half-written by a killed process) are never among them."""
        complete = self.store.complete_ids()
        results = [r for r in results if r.node.ref_doc_id in complete]
        if not fresh:  # on a server, BM25 may lag a delete by another process
            alive = self.store.existing([r.node.node_id for r in results])
            results = [r for r in results if r.node.node_id in alive]
        if prefer:
            results = sorted(results, key=lambda r: -((r.score or 0.0) + PREFER_BONUS * (r.node.ref_doc_id in prefer)))
        passages = collapse_near_duplicates((node_to_passage(r.node, r.score or 0.0, i + 1)
                                             for i, r in enumerate(results)), limit=k)
        return [Passage(p.chunk, p.article, p.score, i + 1) for i, p in enumerate(passages)]
