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
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np

from index.annotate import Entity, decode
from index.types import Article, Chunk
from rag.config import Settings
from rag.errors import NewsragError, NotFoundError

_BATCH = 2000
#: Sentences whose distances to a query differ by less than this may be the same text embedded twice
#: (in two batches, so not always bit for bit the same vector).
_TIE = 1e-4
#: Marks a sentence collection whose every sentence has its named entities (``annotate_missing``).
ENTITIES_VERSION = "en_core_web_sm-3.8"
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
        """Changes whenever the set of stored chunks changes (what the BM25 cache is checked against)."""
        ids = sorted(self.chunks.get(include=[])["ids"])
        return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:24] + f"-{len(ids)}"

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

    def _sentence_rows(self, chunk_ids: list[str]) -> dict[tuple[str, int], tuple[np.ndarray, str]]:
        """The stored sentences of these chunks, keyed by (doc_id, sentence start): each one's vector and its
        encoded entities; each chunk's are read from Chroma once (``_read_through``)."""
        def read(missing: list[str]) -> dict[str, Any]:
            got = self.sentences.get(where={"chunk_id": {"$in": missing}}, include=["embeddings", "metadatas"])
            fresh: dict[str, dict[tuple[str, int], tuple[np.ndarray, str]]] = {c: {} for c in missing}
            for m, v in zip(got["metadatas"], got["embeddings"], strict=True):
                fresh[m["chunk_id"]][(m["doc_id"], int(m["start"]))] = (np.asarray(v), m.get("ents") or "")
            return fresh

        known = self._read_through(self._by_chunk, chunk_ids, read)
        return {key: row for c in dict.fromkeys(chunk_ids) for key, row in known[c].items()}

    def sentence_vectors(self, chunk_ids: list[str]) -> dict[tuple[str, int], np.ndarray]:
        """Stored sentence vectors of these chunks, keyed by (doc_id, sentence start)."""
        return {key: vector for key, (vector, _) in self._sentence_rows(chunk_ids).items()}

    def sentence_entities(self, chunk_ids: list[str]) -> dict[tuple[str, int], tuple[Entity, ...]]:
        """The named entities of these chunks' sentences (offsets within the sentence), keyed as
        ``sentence_vectors``; none for a sentence stored before entities were."""
        return {key: decode(ents) for key, (_, ents) in self._sentence_rows(chunk_ids).items()}

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
            sentence_vectors: np.ndarray, sentence_entities: Sequence[str] | None = None) -> None:
        """Store an article's chunks and sentence vectors (and each sentence's named entities, as
        ``index.annotate.encode`` gives them); on failure nothing of it is left behind."""
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
        entities = list(sentence_entities) if sentence_entities is not None else [""] * len(spans)
        try:
            for i in range(0, len(nodes), _BATCH):
                self.vector_store.add(nodes[i : i + _BATCH])
            for i in range(0, len(spans), _BATCH):
                part = spans[i : i + _BATCH]
                self.sentences.add(
                    ids=[sentence_id(c.chunk_id, j) for c, j, _ in part],
                    embeddings=sentence_vectors[i : i + len(part)],
                    documents=[article.text[s:e] for _, _, (s, e) in part],
                    metadatas=[{"doc_id": article.doc_id, "chunk_id": c.chunk_id, "start": s, "end": e,
                                "ents": ents}
                               for (c, _, (s, e)), ents in zip(part, entities[i : i + len(part)], strict=True)],
                )
        except Exception:
            self.delete(article.doc_id)
            raise

    def annotate_missing(self) -> int:
        """Find the named entities of sentences stored before ingestion found them (a store of an older
        version): metadata only, nothing re-embedded; once done, the collection says so and this is one
        lookup. Returns how many sentences were annotated."""
        from index.annotate import annotate, encode

        marker = dict(self.sentences.metadata or {})
        if marker.get("entities") == ENTITIES_VERSION:
            return 0
        done, offset, total = 0, 0, int(self.sentences.count())
        while offset < total:
            got = self.sentences.get(include=["metadatas", "documents"], limit=_BATCH, offset=offset)
            todo = [(i, m, d) for i, m, d in zip(got["ids"], got["metadatas"], got["documents"], strict=True)
                    if "ents" not in m]
            if todo:
                found = annotate([d or "" for _, _, d in todo])
                self.sentences.update(ids=[i for i, _, _ in todo],
                                      metadatas=[{**m, "ents": encode(f)} for (_, m, _), f in zip(todo, found,
                                                                                                   strict=True)])
                done += len(todo)
            offset += len(got["ids"]) or _BATCH
        marker.pop("hnsw:space", None)  # configuration, not metadata Chroma lets us rewrite
        self.sentences.modify(metadata={**marker, "entities": ENTITIES_VERSION})
        self._by_chunk.clear()
        return done

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
