"""Work ahead: on a large ingest, two other processes read, clean and describe the files, then split the new
articles into sentences and chunks, embed the sentences and find their named entities, while this process stores
the articles that came before.

Those stages are pure Python (pysbd's sentence splitter, the HTML parser) or hold Python's global lock while they
run (Chroma's ``Collection.add``: a loop in another thread stalls for the whole write), so threads in one process
cannot overlap them; processes can. Left in this process, the embedding and the writes alone kept one core busy
for longer than the whole of llama-index's ingest.

The workers embed only with an int8 ONNX export (the default): there a text's vector does not depend on the texts
embedded beside it, and each worker runs the same file with one thread, as this process would, so the library is
the same whichever process read a sentence. A small ingest, or one embedded another way, does everything here.

>>> from index.types import Article
>>> a = Article("d1", "a.txt", "Ann Lee spoke. Then she left.")
>>> with Ahead(workers=0) as ahead:
...     [c.text for c in next(ahead.split([a], 600)).chunks]
['Ann Lee spoke. Then she left.']
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from index.annotate import annotate, encode
from index.chunk import chunk_article
from index.load import RawDocument, Source
from index.memory import SentenceMemory
from index.prepare import prepare_document, prepare_source
from index.types import Article, Chunk
from rag.errors import InputError

if TYPE_CHECKING:
    from index.onnx_engine import OnnxEngine

#: Bytes of input from which an ingest works ahead in other processes by default (``Settings.ingest_ahead_bytes``):
#: 100 articles (0.5 MB) are stored faster by this process alone.
AHEAD_MIN_BYTES = 2_000_000
#: Worker processes: two, so that both cores work while this process writes or waits.
WORKERS = 2

#: Characters of articles a worker splits, embeds and annotates at a time.
BATCH_CHARS = 40_000
#: Batches the workers may be ahead of the store (a batch's vectors wait in memory until it is written).
AHEAD = 4 * WORKERS
#: Seconds between looks at whether the workers are alive while a batch is awaited.
POLL_S = 1.0

T = TypeVar("T")


@dataclass(frozen=True)
class Split:
    """An article's chunks; when they were worked out ahead, also its sentences' vectors (a row each, in the chunks'
    order) and their entities (``annotate.encode``d). ``None`` leaves those to the caller."""

    chunks: list[Chunk]
    vectors: np.ndarray | None = None
    entities: list[str] | None = None


class _Worker:
    """A worker process's state: the export it embeds with, and what it has read (a byline, a footer: read once)."""

    engine: OnnxEngine | None = None
    memory = SentenceMemory()


def _start_worker(parent: int, export: Path) -> None:
    """A worker's initialiser: it loads the models while this process is still reading files, and exits within a
    second of its parent being killed (``kill -9`` of an ingest) instead of waiting on its queue for ever. Ctrl-C is
    its parent's to handle: the parent stops the ingest, and the workers with it."""
    from index.onnx_engine import OnnxEngine

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
    _Worker.engine = OnnxEngine.load(export)
    _split([Article("warm", "warm.txt", "Ann Lee spoke. Then she left.")], 600)


def _split(articles: list[Article], max_chars: int) -> list[Split]:
    """A batch of articles split, embedded and annotated (the entity recogniser reads the batch's new sentences in
    one pass)."""
    chunks = [chunk_article(a, max_chars) for a in articles]
    engine = _Worker.engine
    if engine is None:  # the export could not be read here: the caller embeds and annotates
        return [Split(c) for c in chunks]
    texts = [[a.text[s:e] for c in cs for s, e in c.sentences] for a, cs in zip(articles, chunks, strict=True)]
    flat = [t for ts in texts for t in ts]
    new = _Worker.memory.missing(flat)
    vectors = engine.embed(new) if new else np.zeros((0, engine.dimension), dtype=np.float32)
    vectors, entities = _Worker.memory.recall(flat, new, vectors, [encode(e) for e in annotate(new)])
    splits, at = [], 0
    for cs, ts in zip(chunks, texts, strict=True):
        splits.append(Split(cs, vectors[at : at + len(ts)], entities[at : at + len(ts)]))
        at += len(ts)
    return splits


def _result(future: Future[T], pool: ProcessPoolExecutor) -> T:
    """The future's result; ``BrokenProcessPool`` as soon as a worker has died. A worker killed while it sends a
    result leaves half a message in the pool's pipe, and concurrent.futures' own thread then waits for the rest for
    ever (its check for dead workers runs only between messages): so the workers are looked at here, and when one
    has died the others are stopped and the pipe's last writer closed, which ends that wait."""
    processes = getattr(pool, "_processes", None) or {}  # concurrent.futures keeps them, without a public name
    while True:
        try:
            return future.result(timeout=POLL_S)
        except TimeoutError:
            if not any(p.exitcode is not None for p in list(processes.values())):
                continue
            for process in list(processes.values()):
                process.kill()
            if (queue := getattr(pool, "_result_queue", None)) is not None:
                queue._writer.close()
            raise BrokenProcessPool("a worker process died") from None


def _each(work: Callable[..., T], args: Sequence[tuple[object, ...]]) -> list[T]:
    return [work(*a) for a in args]


def _batches(articles: Sequence[Article]) -> Iterator[list[Article]]:
    """The articles in order, in batches of about ``BATCH_CHARS`` characters (a long article alone)."""
    batch: list[Article] = []
    size = 0
    for article in articles:
        batch.append(article)
        size += len(article.text)
        if size >= BATCH_CHARS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class Ahead:
    """Other processes working ahead of this one (embedding with the int8 export in ``export``), or none
    (``workers=0``: everything in this process)."""

    def __init__(self, workers: int = WORKERS, export: Path | None = None) -> None:
        self._pool = None
        if workers and export is not None:
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(os.getpid(), export))
            for _ in range(workers):  # they start now, while this process looks for the files
                self._pool.submit(int)

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=error is None, cancel_futures=True)

    def prepare_sources(self, sources: Sequence[Source], max_bytes: int) -> list[Article | InputError]:
        """Each file read, cleaned and described (``prepare_source``), in order."""
        return self._map(prepare_source, [(s, max_bytes) for s in sources])

    def prepare_documents(self, docs: Sequence[RawDocument]) -> list[Article | InputError]:
        """Each table row cleaned and described (``prepare_document``), in order."""
        return self._map(prepare_document, [(d,) for d in docs])

    def split(self, articles: Sequence[Article], max_chars: int) -> Iterator[Split]:
        """Each article's ``Split``, in order: worked out ahead, with its vectors and entities, when there are
        workers; here, chunks only, otherwise. The workers keep at most ``AHEAD`` batches ahead of the caller, so a
        slow store never fills memory with vectors waiting to be written. If the workers die, the rest are split
        here."""
        if self._pool is None:
            return (Split(chunk_article(a, max_chars)) for a in articles)
        return self._splits(self._pool, _batches(articles), max_chars)

    @staticmethod
    def _splits(pool: ProcessPoolExecutor, batches: Iterator[list[Article]], max_chars: int) -> Iterator[Split]:
        pending: deque[tuple[Future[list[Split]], list[Article]]] = deque()
        try:
            while True:
                while len(pending) < AHEAD and (batch := next(batches, None)) is not None:
                    pending.append((pool.submit(_split, batch, max_chars), batch))
                if not pending:
                    return
                splits = _result(pending[0][0], pool)
                pending.popleft()
                yield from splits
        except BrokenProcessPool:  # the workers died: the rest is split here
            for batch in itertools.chain((batch for _, batch in pending), batches):
                yield from (Split(chunk_article(a, max_chars)) for a in batch)

    def _map(self, work: Callable[..., T], args: list[tuple[object, ...]]) -> list[T]:
        if self._pool is not None and len(args) > 1:
            futures = [self._pool.submit(_each, work, args[i : i + 8]) for i in range(0, len(args), 8)]
            try:
                return [result for future in futures for result in _result(future, self._pool)]
            except BrokenProcessPool:
                pass
        return _each(work, args)
