"""The BM25 index that follows the Chroma store it belongs to.

llama-index's ``BM25Retriever`` (bm25s) is built from the store's own chunks (those of complete
articles) and persisted under ``data_dir/bm25/<collection>/<fingerprint>/``. Whenever no cache is
named by the store's current fingerprint (another process ingested, a file was deleted), it is
rebuilt from Chroma, so lexical and dense retrieval always see the same chunks.

A cache folder is written whole into a temporary folder beside it and renamed into place, only by
the holder of the library's writer lock (a reader that rebuilds keeps its index in memory unless the
lock is free), so a reader never loads a half-written cache and two processes never write one folder.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import Any

from index import faults
from index.store import Store

_TMP = ".tmp-"


class LexicalIndex:
    def __init__(self, store: Store, directory: Path) -> None:
        self.store = store
        self.directory = directory
        self._bm25: Any = None
        self._fingerprint: str | None = None
        self._checked = 0.0
        self._version: str | None = None

    def refresh(self, max_age: float = 0.0) -> bool:
        """Load the cached index when it matches the store; otherwise rebuild and persist it. True when the index
        is known to match the store now.

        An embedded store says cheaply whether anything wrote to it (``Store.version``), so it is checked on every
        call. A server cannot: there a check made less than ``max_age`` seconds ago is trusted (queries pass two
        seconds), and False says so.
        """
        version, now = self.store.version(), time.monotonic()
        if self._bm25 is not None:
            if version is not None and version == self._version:
                return True
            if version is None and max_age and now - self._checked < max_age:
                return False
        self._checked, self._version = now, version  # read before the fingerprint: a write meanwhile is seen next time
        current = self.store.fingerprint(max_age)  # on a server, a manifest no older than the check asked for
        if self._bm25 is not None and self._fingerprint == current:
            return True
        self._bm25, self._fingerprint = self._load(current), current
        if self._bm25 is None and not current.endswith("-0"):
            self._bm25 = self._build()
        return True

    @property
    def index(self) -> Any:
        """The current bm25s index (``None`` before the first refresh or for an empty store); a rebuild
        replaces it with another object."""
        return self._bm25

    def retriever(self, top_k: int, filters: Any = None) -> Any:
        """A ``BM25Retriever`` over the current chunks, or ``None`` when the store is empty."""
        if self._bm25 is None:
            self.refresh()
        if self._bm25 is None:
            return None
        try:
            return _matching_bm25_retriever()(existing_bm25=self._bm25, similarity_top_k=top_k, filters=filters)
        except ValueError:  # every chunk filtered out
            return None

    def _load(self, fingerprint: str) -> Any:
        folder = self.directory / fingerprint
        if not folder.is_dir():
            return None
        import bm25s

        try:
            return bm25s.BM25.load(str(folder), load_corpus=True)
        except Exception:  # removed meanwhile by a writer, or damaged: rebuilt, not trusted
            return None

    def document_frequency(self, token_ids: list[str]) -> tuple[dict[str, int], int]:
        """How many chunks contain each (stemmed) token, and how many chunks there are."""
        if self._bm25 is None:
            self.refresh()
        if self._bm25 is None:
            return {}, 0
        vocab, indptr = self._bm25.vocab_dict, self._bm25.scores["indptr"]
        df = {t: int(indptr[vocab[t] + 1] - indptr[vocab[t]]) if t in vocab else 0 for t in token_ids}
        return df, int(self._bm25.scores["num_docs"])

    def known(self, word: str) -> bool:
        """Is ``word`` (stemmed as BM25 stems it) in some stored chunk? What spelling repair must leave alone."""
        from rag.terms import content_terms

        stems = content_terms(word)
        return bool(stems) and self.document_frequency(stems)[0].get(stems[0], 0) > 0

    def _build(self) -> Any:
        from llama_index.retrievers.bm25 import BM25Retriever

        retriever = BM25Retriever.from_defaults(nodes=self.store.nodes(), similarity_top_k=1)
        assert self._fingerprint is not None
        with self.store.writing(blocking=False, repair=False) as writer:
            if writer:
                self._persist(retriever, self._fingerprint)
        retriever.bm25.corpus = retriever.corpus  # as `BM25.load(load_corpus=True)` would give it
        return retriever.bm25

    def _persist(self, retriever: Any, fingerprint: str) -> None:
        """Write the cache for ``fingerprint`` whole, then rename it into place; drop every other cache folder
        (under the writer lock: any temporary folder left is a killed writer's)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=_TMP, dir=self.directory)
        retriever.persist(tmp, show_progress=False)
        faults.reached("bm25")
        try:
            os.rename(tmp, self.directory / fingerprint)
        except OSError:  # already there: written by this process a moment ago
            shutil.rmtree(tmp, ignore_errors=True)
        for other in self.directory.iterdir():
            if other.name != fingerprint:
                shutil.rmtree(other, ignore_errors=True)


@cache
def _matching_bm25_retriever() -> Any:
    """``BM25Retriever`` that returns only chunks sharing a term with the query, each row's node made once.

    bm25s fills its top-k with zero-score rows, including rows that the filters' weight mask
    excluded; those are not matches and must not reach the fusion. llama-index's ``_retrieve`` makes
    a ``TextNode`` of every row it returns on every query (~0.2 ms of a 0.4 ms query on the seeds);
    the rows are the corpus's own dicts, the same on every query, so this one keeps each row's node.
    It is otherwise that method's tokenise-and-retrieve, which exposes no hook for the rows.
    """
    import bm25s
    import numpy as np
    from llama_index.core.schema import NodeWithScore
    from llama_index.core.vector_stores.utils import metadata_dict_to_node
    from llama_index.retrievers.bm25 import BM25Retriever

    # Once, not per query: each setLevel clears every logger's cache (~1 ms a query, by cProfile).
    logging.getLogger("llama_index.retrievers.bm25.base").setLevel(logging.ERROR)  # "k > corpus" notices

    class MatchingBM25Retriever(BM25Retriever):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._row_nodes: dict[int, Any] = {}  # by the row dict's id: the corpus that holds the dicts is kept

        def _retrieve(self, query_bundle: Any) -> list[Any]:
            tokens = bm25s.tokenize(query_bundle.query_str, stemmer=None if self.skip_stemming else self.stemmer,
                                    token_pattern=self.token_pattern, show_progress=False)
            mask = np.array(self.corpus_weight_mask) if self.corpus_weight_mask else None
            rows, scores = self.bm25.retrieve(tokens, k=self.similarity_top_k, show_progress=False, weight_mask=mask)
            return [NodeWithScore(node=self._node(row), score=float(score))
                    for row, score in zip(rows[0], scores[0], strict=True) if score > 0.0]

        def _node(self, row: Any) -> Any:
            entry = row if isinstance(row, dict) else self.corpus[int(row)]
            node = self._row_nodes.get(id(entry))
            if node is None:
                node = self._row_nodes[id(entry)] = metadata_dict_to_node(entry)
            return node

    return MatchingBM25Retriever
