"""Store: chunks and their vectors in Chroma, written through llama-index's ``ChromaVectorStore``.

Two collections: ``<name>`` holds one node per chunk (its text, vector and the article's metadata);
``<name>-sentences`` holds one vector per sentence, which the extractive answerer reads instead of
embedding sentences at question time. The article text is not stored twice: chunks tile their
article, so ``article()`` rebuilds it exactly from them. Ids are content hashes, so re-adding the
same article is a no-op and a changed article gets new ids.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np

from index.types import Article, Chunk, Details
from rag.config import Settings
from rag.errors import NewsragError, NotFoundError

_BATCH = 2000
#: Sentences whose distances to a query differ by less than this may be the same text embedded twice
#: (in two batches, so not always bit for bit the same vector).
_TIE = 1e-4
#: Chunks whose sentence vectors the store keeps in memory once read.
SENTENCE_CACHE = 4096


@dataclass(frozen=True)
class StoredArticle:
    """One row of the library: an article's metadata and how it was chunked."""

    doc_id: str
    file: str
    title: str | None
    source: str | None
    published: date | None
    chunks: int
    chars: int

    @property
    def label(self) -> str:
        return self.title or f"Untitled ({self.file})"


def chunk_metadata(article: Article, chunk: Chunk, n: int) -> dict[str, Any]:
    """The flat metadata stored with a chunk (Chroma takes no ``None``: unknown is "" or 0)."""
    return {
        "file": article.file,
        "title": article.title or "",
        "source": article.source or "",
        "published": article.published.isoformat() if article.published else "",
        "published_ord": article.published.toordinal() if article.published else 0,
        "start": chunk.start,
        "end": chunk.end,
        "n": n,
        "article_chars": len(article.text),
        "sentences": json.dumps(chunk.sentences),
    }


#: Key of the chunk collection's own metadata that changes (to a new random value) whenever an article's
#: details are edited in place: chunk ids stay the same, so ``fingerprint`` reads it too.
DETAILS_REVISION = "newsrag_details_revision"


def details_metadata(details: Details) -> dict[str, Any]:
    """The chunk metadata keys that ``details`` sets (only the fields it gives)."""
    out: dict[str, Any] = {}
    if details.title is not None:
        out["title"] = details.title
    if details.source is not None:
        out["source"] = details.source
    if details.published is not None:
        out["published"] = details.published.isoformat()
        out["published_ord"] = details.published.toordinal()
    return out


def with_metadata(meta: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A stored chunk row's metadata with ``changes`` set both on the row and in the node that llama-index
    keeps as JSON beside it (``_node_content``, which is what it rebuilds a retrieved node from).

    >>> row = {"title": "", "n": 0, "_node_content": json.dumps({"metadata": {"title": "", "n": 0}})}
    >>> new = with_metadata(row, {"title": "Vote"})
    >>> new["title"], json.loads(new["_node_content"])["metadata"]
    ('Vote', {'title': 'Vote', 'n': 0})
    """
    out = {**meta, **changes}
    if isinstance(meta.get("_node_content"), str):
        node = json.loads(meta["_node_content"])
        node["metadata"] = {**node.get("metadata", {}), **changes}
        out["_node_content"] = json.dumps(node, ensure_ascii=False)
    return out


def sentence_id(chunk_id: str, n: int) -> str:
    """The stored id of a chunk's ``n``-th sentence (``sentence_chunk`` reads the chunk back from it)."""
    return f"{chunk_id}:{n}"


def sentence_chunk(sentence_id: str) -> str:
    """The chunk a stored sentence id belongs to."""
    return sentence_id.rpartition(":")[0]


def tied_across_chunks(ids: Sequence[str], distances: Sequence[float]) -> set[str]:
    """Of sentences ranked by distance, those in a run of ties (distances within ``_TIE``) that spans two or
    more chunks: only they can be one text stored in two chunks. (A run inside one chunk proposes that
    chunk once whatever its texts are.)

    >>> sorted(tied_across_chunks(["a:0", "a:1", "b:0", "c:0", "c:1"], [0.1, 0.1, 0.3, 0.5, 0.5]))
    []
    >>> sorted(tied_across_chunks(["a:0", "b:2", "c:0"], [0.1, 0.10001, 0.4]))
    ['a:0', 'b:2']
    """
    out: set[str] = set()
    run = list(ids[:1])
    for i in range(1, len(ids) + 1):
        if i < len(ids) and distances[i] - distances[i - 1] < _TIE:
            run.append(ids[i])
            continue
        if len({sentence_chunk(s) for s in run}) > 1:
            out.update(run)
        run = list(ids[i : i + 1])
    return out


def open_client(settings: Settings) -> Any:
    """An embedded ``PersistentClient`` in ``data_dir``, or an ``HttpClient`` when ``chroma_url`` is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "localhost", port=url.port or 8000, ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:
            raise NewsragError(f"Cannot reach the Chroma server at {settings.chroma_url}: {exc}") from exc
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.data_dir / "chroma"), settings=chroma_settings)


class Store:
    """The project's view of Chroma: add, delete, list and rebuild articles."""

    def __init__(self, settings: Settings, client: Any = None) -> None:
        self.settings = settings
        self._client = client
        self._by_chunk: OrderedDict[str, Any] = OrderedDict()
        self._nodes: OrderedDict[str, Any] = OrderedDict()
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self._details_seen = ""

    @cached_property
    def client(self) -> Any:
        return self._client or open_client(self.settings)

    @cached_property
    def chunks(self) -> Any:
        return self.client.get_or_create_collection(
            self.settings.collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    @cached_property
    def sentences(self) -> Any:
        return self.client.get_or_create_collection(
            f"{self.settings.collection}-sentences", embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )

    @cached_property
    def vector_store(self) -> Any:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.chunks)

    # -- reading ---------------------------------------------------------------------------------

    def count(self) -> int:
        return int(self.chunks.count())

    def version(self) -> tuple[int, ...] | None:
        """Changes whenever a client, in this process or another, writes to the embedded store: the modification
        time and size of Chroma's database files (two ``stat`` calls, where ``fingerprint`` reads every chunk id).
        ``None`` for a Chroma server or a client passed in, whose files this process cannot see."""
        if self._client is not None or self.settings.chroma_url:
            return None
        out: list[int] = []
        for name in ("chroma.sqlite3", "chroma.sqlite3-wal"):
            try:
                st = os.stat(self.settings.data_dir / "chroma" / name)
            except FileNotFoundError:
                out += [0, 0]
            else:
                out += [st.st_mtime_ns, st.st_size]
        return tuple(out)

    def fingerprint(self) -> str:
        """Changes whenever the set of stored chunks changes, or an article's details are edited (what the BM25
        cache is checked against). An edit made by any process also empties this one's cached nodes."""
        ids = sorted(self.chunks.get(include=[])["ids"])
        revision = self.details_revision()
        if revision != self._details_seen:
            with self._lock:
                self._nodes.clear()
                self._details_seen = revision
        key = "\n".join(ids) + (f"\n{revision}" if revision else "")
        return hashlib.sha256(key.encode()).hexdigest()[:24] + f"-{len(ids)}"

    def details_revision(self) -> str:
        """The value ``update_details`` last set ("" before any edit), read fresh from Chroma."""
        collection = self.client.get_collection(self.settings.collection)
        return str((collection.metadata or {}).get(DETAILS_REVISION, ""))

    def articles(self) -> list[StoredArticle]:
        """Every stored article, by file name."""
        rows: dict[str, dict[str, Any]] = {}
        for meta in self._all_metadata():
            row = rows.setdefault(meta["doc_id"], {**meta, "chunks": 0})
            row["chunks"] += 1
        return sorted((self._stored(r) for r in rows.values()), key=lambda a: a.file)

    def find(self, ref: str) -> StoredArticle:
        """The article named by ``ref``: its doc_id (or a prefix of it), its file name, or a file-name prefix."""
        articles = self.articles()
        for test in (
            lambda a: a.doc_id == ref or a.file == ref,
            lambda a: a.doc_id.startswith(ref) or a.file.startswith(ref),
        ):
            hits = [a for a in articles if test(a)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                names = ", ".join(a.file for a in hits[:5])
                raise NotFoundError(f"{ref!r} names {len(hits)} articles ({names}); give more of the name or id.")
        raise NotFoundError(f"No stored article is named {ref!r}; `newsrag sources` lists them.")

    def by_file(self, file: str) -> list[str]:
        """doc_ids stored under a file name (normally one)."""
        got = self.chunks.get(where={"file": file}, include=["metadatas"])
        return sorted({m["doc_id"] for m in got["metadatas"]})

    def existing(self, chunk_ids: list[str]) -> set[str]:
        """Those of ``chunk_ids`` that are still stored."""
        return set(self.chunks.get(ids=chunk_ids, include=[])["ids"]) if chunk_ids else set()

    def details(self, doc_id: str) -> Details | None:
        """The stored title, source and date of an article (one row read), or ``None`` when it is not stored."""
        got = self.chunks.get(where={"doc_id": doc_id}, limit=1, include=["metadatas"])
        if not got["ids"]:
            return None
        s = self._stored({**got["metadatas"][0], "chunks": 0})
        return Details(s.title, s.source, s.published)

    def has(self, doc_id: str) -> bool:
        return bool(self.chunks.get(where={"doc_id": doc_id}, limit=1, include=[])["ids"])

    def article(self, doc_id: str) -> Article:
        """The stored article, its text rebuilt from its chunks (which tile it)."""
        got = self.chunks.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        if not got["ids"]:
            raise NotFoundError(f"No stored article has id {doc_id!r}.")
        parts = sorted(zip(got["metadatas"], got["documents"], strict=True), key=lambda p: p[0]["start"])
        text = "".join(doc for _, doc in parts)
        meta = parts[0][0]
        if len(text) != meta["article_chars"]:
            raise NewsragError(f"Article {doc_id} is incomplete in the store; re-ingest {meta['file']}.")
        s = self._stored({**meta, "chunks": len(parts)})
        return Article(doc_id, s.file, text, s.title, s.source, s.published)

    def nodes(self) -> list[Any]:
        """Every chunk as a llama-index ``TextNode`` (what the BM25 index is built from)."""
        return list(self.vector_store.get_nodes(node_ids=None))

    def _read_through(self, cache: OrderedDict[str, Any], ids: list[str],
                      read: Callable[[list[str]], dict[str, Any]]) -> dict[str, Any]:
        """What ``cache`` holds for these chunk (or sentence) ids, the rest ``read`` from Chroma and kept (the
        ``SENTENCE_CACHE`` most recent): a chunk id hashes its article, place and text, so what is stored under
        it, or under its sentences' ids, never changes."""
        with self._lock:
            known = {c: cache[c] for c in ids if c in cache}
            for c in known:
                cache.move_to_end(c)  # recently used: kept longest
        missing = [c for c in dict.fromkeys(ids) if c not in known]
        if missing:
            fresh = read(missing)
            known.update(fresh)
            with self._lock:
                cache.update(fresh)
                while len(cache) > SENTENCE_CACHE:
                    cache.popitem(last=False)
        return known

    def sentence_vectors(self, chunk_ids: list[str]) -> dict[tuple[str, int], np.ndarray]:
        """Stored sentence vectors of these chunks, keyed by (doc_id, sentence start); each chunk's are read
        from Chroma once (``_read_through``)."""
        def read(missing: list[str]) -> dict[str, Any]:
            got = self.sentences.get(where={"chunk_id": {"$in": missing}}, include=["embeddings", "metadatas"])
            fresh: dict[str, dict[tuple[str, int], np.ndarray]] = {c: {} for c in missing}
            for m, v in zip(got["metadatas"], got["embeddings"], strict=True):
                fresh[m["chunk_id"]][(m["doc_id"], int(m["start"]))] = np.asarray(v)
            return fresh

        known = self._read_through(self._by_chunk, chunk_ids, read)
        return {key: v for c in dict.fromkeys(chunk_ids) for key, v in known[c].items()}

    def chunk_nodes(self, chunk_ids: list[str]) -> list[Any]:
        """These chunks as llama-index ``TextNode``s, in the order given (those no longer stored left out); each
        is read from Chroma once (``_read_through``)."""
        def read(missing: list[str]) -> dict[str, Any]:
            return {n.node_id: n for n in self.vector_store.get_nodes(node_ids=missing)}

        known = self._read_through(self._nodes, chunk_ids, read)
        return [known[c] for c in chunk_ids if c in known]

    def chunks_by_best_sentence(self, vectors: Sequence[np.ndarray], n_sentences: int) -> list[dict[str, float]]:
        """For each vector, the chunk ids of the ``n_sentences`` sentences nearest it, each with its best
        sentence's cosine similarity, best first. A sentence repeated word for word (a headline a scraped
        page repeats in every chunk) proposes only its first chunk, so one page cannot fill the list.

        One Chroma query for all the vectors (a question and its parts: each further query costs ~0.7 ms,
        a further vector in the same query ~0.1). Only ids and distances are read: a sentence's id names
        its chunk, and only sentences whose distances tie can repeat each other, so only the texts of ties
        across chunks are read, each once (with 1,160 articles, reading every hit's text and metadata made
        the query ~10 ms instead of ~3)."""
        if not len(vectors):
            return []
        # An empty collection answers with empty lists: no count() call first (~0.5 ms a query).
        got = self.sentences.query(query_embeddings=list(vectors), n_results=n_sentences, include=["distances"])
        tied = [tied_across_chunks(ids, distances) for ids, distances in zip(got["ids"], got["distances"], strict=True)]
        texts = self.sentence_texts(sorted(set().union(*tied)))
        out = []
        for ids, distances in zip(got["ids"], got["distances"], strict=True):
            best: dict[str, float] = {}
            seen: set[str] = set()
            for sentence_id, distance in zip(ids, distances, strict=True):
                key = texts.get(sentence_id)
                if key and key in seen:
                    continue
                if key:
                    seen.add(key)
                best.setdefault(sentence_chunk(sentence_id), 1.0 - float(distance))  # cosine space, nearest first
            out.append(best)
        return out

    def sentence_texts(self, sentence_ids: list[str]) -> dict[str, str]:
        """These sentences' texts, spaces collapsed and lower-cased (what ``chunks_by_best_sentence`` compares);
        each is read from Chroma once (``_read_through``)."""
        def read(missing: list[str]) -> dict[str, str]:
            got = self.sentences.get(ids=missing, include=["documents"])
            return {i: " ".join((text or "").split()).lower()
                    for i, text in zip(got["ids"], got["documents"], strict=True)}

        return self._read_through(self._texts, sentence_ids, read)

    # -- writing ---------------------------------------------------------------------------------

    def add(self, article: Article, chunks: list[Chunk], chunk_vectors: np.ndarray,
            sentence_vectors: np.ndarray) -> None:
        """Store an article's chunks and sentence vectors; on failure nothing of it is left behind."""
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        nodes = []
        for n, (chunk, vector) in enumerate(zip(chunks, chunk_vectors, strict=True)):
            meta = chunk_metadata(article, chunk, n)
            nodes.append(TextNode(
                id_=chunk.chunk_id, text=chunk.text, metadata=meta, embedding=vector.tolist(),
                start_char_idx=chunk.start, end_char_idx=chunk.end,
                excluded_embed_metadata_keys=list(meta), excluded_llm_metadata_keys=list(meta),
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article.doc_id)},
            ))
        spans = [(chunk, i, span) for chunk in chunks for i, span in enumerate(chunk.sentences)]
        try:
            for i in range(0, len(nodes), _BATCH):
                self.vector_store.add(nodes[i : i + _BATCH])
            for i in range(0, len(spans), _BATCH):
                part = spans[i : i + _BATCH]
                self.sentences.add(
                    ids=[sentence_id(c.chunk_id, j) for c, j, _ in part],
                    embeddings=sentence_vectors[i : i + len(part)],
                    documents=[article.text[s:e] for _, _, (s, e) in part],
                    metadatas=[{"doc_id": article.doc_id, "chunk_id": c.chunk_id, "start": s, "end": e}
                               for c, _, (s, e) in part],
                )
        except Exception:
            self.delete(article.doc_id)
            raise

    def update_details(self, doc_id: str, details: Details) -> None:
        """Set an article's title, source or date (the fields ``details`` gives) on each of its chunk rows, in
        place: chunk ids, texts, vectors and sentence rows stay as they are (sentence rows hold no details)."""
        changes = details_metadata(details)
        if not changes:
            return
        got = self.chunks.get(where={"doc_id": doc_id}, include=["metadatas"])
        if not got["ids"]:
            raise NotFoundError(f"No stored article has id {doc_id!r}.")
        metas = [with_metadata(m, changes) for m in got["metadatas"]]
        for i in range(0, len(metas), _BATCH):
            self.chunks.update(ids=got["ids"][i : i + _BATCH], metadatas=metas[i : i + _BATCH])
        self.chunks.modify(metadata={DETAILS_REVISION: uuid.uuid4().hex})
        with self._lock:
            for chunk_id in got["ids"]:
                self._nodes.pop(chunk_id, None)

    def delete(self, doc_id: str) -> None:
        self.chunks.delete(where={"doc_id": doc_id})
        self.sentences.delete(where={"doc_id": doc_id})

    def _all_metadata(self) -> list[dict[str, Any]]:
        total, out, offset = self.count(), [], 0
        while offset < total:
            out.extend(self.chunks.get(include=["metadatas"], limit=5000, offset=offset)["metadatas"])
            offset += 5000
        return out

    @staticmethod
    def _stored(meta: dict[str, Any]) -> StoredArticle:
        return StoredArticle(
            doc_id=meta["doc_id"], file=meta["file"], title=meta["title"] or None, source=meta["source"] or None,
            published=date.fromisoformat(meta["published"]) if meta["published"] else None,
            chunks=meta["chunks"], chars=meta["article_chars"],
        )
