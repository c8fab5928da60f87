"""Ingest: files → articles in the store, through load → clean → describe → chunk → embed (+ annotate) → store.

Every file is prepared (read, cleaned, described) before anything is written, and a file
that fails gets one line naming it and the reason while the store stays as it was. Ids are
content hashes: an unchanged article is skipped without embedding anything; a changed one
replaces the version stored under the same key (its resolved path; an upload's name), never
another folder's file of the same name. Writing holds the library's writer lock (``Store.writing``),
which first removes whatever an interrupted run left half-written, so rerunning an interrupted
ingest finishes it. A large ingest reads, splits, embeds and annotates in other processes, ahead of the
writing (``index.ahead``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from index.ahead import AHEAD_MIN_BYTES, Ahead, Split
from index.annotate import annotate, encode
from index.embed import Embedder, precision_of, probe_vector, question_embedder
from index.load import RawDocument, find_sources, load_bytes, skipped_in
from index.memory import SentenceMemory
from index.prepare import prepare
from index.store import PROBE, Addition, ModelRecord, Store
from index.tables import is_table, read_table
from index.types import Article, Chunk, Details
from rag.errors import InputError

Status = Literal["added", "replaced", "unchanged", "duplicate", "failed", "skipped", "deleted"]

#: Each status said in plain words, for the CLI and the app.
SAID = {
    "added": "added to the library",
    "replaced": "replaced the earlier version",
    "unchanged": "already in the library",
    "duplicate": "not added",
    "failed": "not added",
    "skipped": "skipped",
    "deleted": "deleted from the library",
}


def plural(n: int, word: str, words: str | None = None) -> str:
    """``plural(1, "chunk")`` → "1 chunk"; ``plural(3, "chunk")`` → "3 chunks"."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


@dataclass(frozen=True)
class FileResult:
    file: str
    status: Status
    doc_id: str | None = None
    chunks: int = 0
    reason: str = ""

    def line(self) -> str:
        """One line for a person: "✓ a.txt: added to the library (3 chunks)", "✗ b.pdf: not added: …"."""
        mark = {"failed": "✗", "skipped": "–", "duplicate": "–", "unchanged": "="}.get(self.status, "✓")
        detail = f" ({plural(self.chunks, 'chunk')})" if self.chunks else ""
        extra = f": {self.reason}" if self.reason else ""
        return f"{mark} {self.file}: {SAID[self.status]}{detail}{extra}"

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    #: What an interrupted earlier run had left half-written and this one removed first.
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status != "failed" for r in self.results)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)

    def summary(self) -> str:
        """"2 added, 1 already in the library, 1 failed"."""
        words = {"added": "added", "replaced": "replaced", "unchanged": "already in the library",
                 "duplicate": "duplicate", "failed": "failed", "skipped": "skipped"}
        parts = [f"{self.count(s)} {w}" for s, w in words.items() if self.count(s)]  # type: ignore[arg-type]
        return ", ".join(parts) or "nothing to do"


Progress = Callable[[int, int, str], None]

def chunk_vectors(chunks: list[Chunk], sentence_vectors: np.ndarray, bare: Iterator[np.ndarray]) -> np.ndarray:
    """Each chunk's vector: the mean of its sentences' vectors weighted by their length in characters, normalised
    (``sentence_vectors`` in the chunks' order); a chunk without sentences takes the next of ``bare``.

    The sentences are what retrieval searches; a chunk's own vector serves filtered retrieval (Chroma filters on
    chunk metadata) and the article's mean. The mean keeps a cosine of about 0.92 with the vector of the chunk's
    whole text, and costs no model call.

    >>> v = chunk_vectors([Chunk("c", "d", "Ab. Cdef.", 0, 9, ((0, 3), (4, 9)))], np.eye(2, dtype=np.float32), iter([]))
    >>> [round(float(x), 3) for x in v[0]]  # weights 3 and 5
    [0.514, 0.857]
    """
    rows = []
    at = 0
    for chunk in chunks:
        if chunk.sentences:
            weights = np.array([e - s for s, e in chunk.sentences], dtype=np.float32)
            vector = weights @ sentence_vectors[at : at + len(chunk.sentences)]
            at += len(chunk.sentences)
        else:
            vector = next(bare)
        rows.append(vector / (np.linalg.norm(vector) or 1.0))
    return np.asarray(rows, dtype=np.float32)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class Ingestor:
    def __init__(self, store: Store, embedder: Embedder, max_file_bytes: int, chunk_chars: int,
                 *, group: int, follow_symlinks: bool = False, ahead_bytes: int = AHEAD_MIN_BYTES) -> None:
        """``group``: new articles are embedded and stored a group of about this many sentences at a time
        (``Settings.ingest_group``): one model call and one commit for many small articles, and a kill loses no
        more than the group being stored (a rerun writes it). ``ahead_bytes``: from this many bytes of input, the
        files are read and the articles split, embedded and annotated in other processes (``index.ahead``)."""
        self.store = store
        self.group = group
        self.embedder = embedder
        self.known = SentenceMemory()
        self.max_file_bytes = max_file_bytes
        self.chunk_chars = chunk_chars
        self.follow_symlinks = follow_symlinks
        self.ahead_bytes = ahead_bytes

    def ingest_paths(self, paths: Iterable[Path], progress: Progress | None = None) -> IngestReport:
        """Ingest files and folders. A folder with no article files is one failure, not silence; so is a symbolic
        link that is not followed."""
        report = IngestReport()
        paths = list(paths)
        tables = [p for p in paths if is_table(p) and p.is_file() and not p.is_symlink()]
        sources, errors = find_sources([p for p in paths if p not in tables], self.follow_symlinks)
        report.results.extend(FileResult(str(err.path), "failed", reason=err.reason) for err in errors)
        for path in paths:
            if path.is_dir() and not path.is_symlink():
                report.results.extend(FileResult(str(p), "skipped", reason=why) for p, why in skipped_in(path))
        # a large ingest reads, cleans and describes the files in other processes, which then split, embed and
        # annotate the new articles ahead of the writing (index.ahead)
        size = sum(_size(s.path) for s in sources) + sum(_size(t) for t in tables)
        with self._ahead(size) as ahead:
            prepared: list[tuple[str, Article | InputError]] = list(zip(
                (str(s.path) for s in sources), ahead.prepare_sources(sources, self.max_file_bytes), strict=True))
            for table in tables:  # a CSV or JSONL file of articles: a row is an article, its columns its details
                docs, refused = read_table(table, self.max_file_bytes)
                report.results.extend(FileResult(str(err.path), "failed", reason=err.reason) for err in refused)
                prepared.extend(zip((d.name for d in docs), ahead.prepare_documents(docs), strict=True))
            return self._write(prepared, report, progress, ahead=ahead)

    def ingest_upload(self, name: str, data: bytes, details: Details | None = None) -> IngestReport:
        """Ingest one uploaded file through the same checks as a file on disk; a later upload of the same name
        replaces it. ``details`` the user gave win over what the file says (and are set on the stored article
        when its text is already in)."""
        try:
            raw = load_bytes(name, data, self.max_file_bytes)
            item: Article | InputError = prepare(dataclasses.replace(raw, key=f"upload:{raw.name}"), details)
        except InputError as err:
            item = err
        return self._write([(name, item)], IngestReport(), None, details)

    def ingest_articles(self, articles: list[Article]) -> IngestReport:
        """Store articles already prepared (one taken back after a delete, say): chunked and embedded as any."""
        return self._write([(a.file, a) for a in articles], IngestReport(), None)

    def ingest_documents(self, docs: list[RawDocument], progress: Progress | None = None) -> IngestReport:
        """Ingest already-decoded documents (rows of a CSV, say) through the same prepare and write steps."""
        with self._ahead(sum(len(d.text) for d in docs)) as ahead:
            prepared = list(zip((d.name for d in docs), ahead.prepare_documents(docs), strict=True))
            return self._write(prepared, IngestReport(), progress, ahead=ahead)

    def delete(self, ref: str, exact: bool = False) -> FileResult:
        """Delete the article ``ref`` names (its id or file name; with ``exact`` off, a unique prefix of either)."""
        with self.store.writing():
            article = self.store.find(ref, exact=exact)
            self.store.delete(article.doc_id)
        return FileResult(article.file, "deleted", article.doc_id, article.chunks)

    def _write(self, prepared: list[tuple[str, Article | InputError]], report: IngestReport,
               progress: Progress | None, details: Details | None = None, *,
               ahead: Ahead | None = None) -> IngestReport:
        """Write the prepared articles in order. The new ones go a group at a time (``group``): their
        sentences embedded in one call and their entities found in one, then the group stored whole
        (``Store.add_many``), so a kill loses at most the group being written and a rerun finishes the rest."""
        if all(isinstance(item, InputError) for _, item in prepared):  # nothing to write: no lock to wait for
            report.results.extend(FileResult(shown, "failed", reason=item.reason)  # type: ignore[union-attr]
                                  for shown, item in prepared)
            return report
        seen: dict[str, str] = {}
        results: list[FileResult | None] = [None] * len(prepared)
        done = 0

        def finished(i: int, result: FileResult) -> None:
            nonlocal done
            results[i] = result
            done += 1
            if progress:
                progress(done, len(prepared), prepared[i][0])

        with self.store.writing():
            report.repaired = list(self.store.repaired)
            if progress:
                progress(0, len(prepared), "")
            new: list[tuple[int, Article]] = []
            for i, (shown, item) in enumerate(prepared):
                if isinstance(item, InputError):
                    finished(i, FileResult(shown, "failed", reason=item.reason))
                elif item.doc_id in seen:
                    finished(i, FileResult(shown, "duplicate", item.doc_id, reason=f"same text as {seen[item.doc_id]}"))
                elif self.store.has(item.doc_id):
                    seen[item.doc_id] = item.file
                    filled = self._fill_details(item, details)
                    finished(i, FileResult(shown, "unchanged", item.doc_id, reason=f"{filled} set" if filled else ""))
                else:
                    seen[item.doc_id] = item.file
                    new.append((i, item))
            group: list[tuple[int, Article, Split]] = []
            texts = 0
            # on a large ingest, the next articles are split and their entities found in other processes while
            # these are embedded and stored (index.ahead)
            splits = (ahead or Ahead(workers=0)).split([a for _, a in new], self.chunk_chars)
            for (i, item), split in zip(new, splits, strict=True):
                if any(item.identity == a.identity for _, a, _ in group):  # a newer version of one in the group
                    self._write_group(group, prepared, finished)
                    group, texts = [], 0
                group.append((i, item, split))
                texts += sum(len(c.sentences) for c in split.chunks)
                if texts >= self.group:
                    self._write_group(group, prepared, finished)
                    group, texts = [], 0
            if group:
                self._write_group(group, prepared, finished)
        report.results.extend(r for r in results if r is not None)
        return report

    def _write_group(self, group: list[tuple[int, Article, Split]],
                     prepared: list[tuple[str, Article | InputError]],
                     finished: Callable[[int, FileResult], None]) -> None:
        """Embed a group of new articles' sentences in one call (sorted by length, so a short sentence is never
        padded to a long one) and, at the same time, find their entities in one pass; then store the group whole. A
        chunk's vector is the mean of its sentences' (``chunk_vectors``): each word is read by the model once."""
        sentences = [[a.text[s:e] for c in split.chunks for s, e in c.sentences] for _, a, split in group]
        bare = [c.text for _, _, split in group for c in split.chunks if not c.sentences]  # none today; embedded whole
        # the model is checked against the library's in the same call, before anything is written
        probe = [] if self.embedder.name in self.store.verified_models else [PROBE]
        splits = [split for _, _, split in group]
        if all(split.vectors is not None and split.entities is not None for split in splits):  # read ahead
            extra = self.embedder.embed(bare + probe)
            vectors = np.concatenate([split.vectors for split in splits if split.vectors is not None])
            entity_codes = [code for split in splits for code in split.entities or ()]
        else:
            flat = [s for sents in sentences for s in sents]
            new = self.known.missing(flat)  # a sentence met before in this run (a byline, a footer) is not read again
            # spaCy and ONNX Runtime both release the GIL: the entities are found while the vectors are computed
            # (100 articles: 16.8-17.1 s against 18.3-19.5 s one after the other)
            with ThreadPoolExecutor(1) as pool:
                found = pool.submit(lambda: [encode(e) for e in annotate(new)])
                computed = self.embedder.embed(new + bare + probe)
            extra = computed[len(new):]
            vectors, entity_codes = self.known.recall(flat, new, computed[: len(new)], found.result())
        if probe:
            questions = question_embedder(self.embedder)  # how its questions are embedded, when not as its articles
            asked = extra[-1] if questions is self.embedder else probe_vector(questions, PROBE)
            self.store.check_model(ModelRecord.of(self.embedder.name, extra[-1], precision_of(self.embedder), asked),
                                   record_if_new=True)
            extra = extra[:-1]
        bare_vectors = iter(extra)
        entities = iter(entity_codes)
        additions, at = [], 0
        for (_, article, split), sents in zip(group, sentences, strict=True):
            mine = vectors[at : at + len(sents)]
            at += len(sents)
            additions.append(Addition(article, split.chunks, chunk_vectors(split.chunks, mine, bare_vectors), mine,
                                      [next(entities) for _ in sents]))
        replacing = self.store.add_many(additions)  # one commit sequence: all of the group stored, or none
        for (i, article, split), replaced in zip(group, replacing, strict=True):
            finished(i, FileResult(prepared[i][0], "replaced" if replaced else "added", article.doc_id,
                                   len(split.chunks)))

    def _ahead(self, size: int) -> Ahead:
        """Processes to work ahead on an ingest of ``size`` bytes (``index.ahead``): none for a small one, or when
        the library is not embedded with an int8 export (whose vectors another process reproduces exactly)."""
        if size < self.ahead_bytes or precision_of(self.embedder) == "float32":
            return Ahead(workers=0)
        return Ahead(export=self.embedder.engine.folder)  # type: ignore[attr-defined]  # int8: an ONNX engine

    def _fill_details(self, article: Article, details: Details | None) -> str:
        """For an article already stored: set the details the user gave, and those the store lacks that the
        file now gives (an older version of newsrag found no title); a title the user edited stays. Returns
        the names of the fields set ("title and date"), or ""."""
        stored = self.store.details(article.doc_id) or Details()
        given = details or Details()
        changes: dict[str, object] = {}
        for name in ("title", "source", "published"):
            new = getattr(given, name) or (None if getattr(stored, name) else getattr(article, name))
            if new is not None and new != getattr(stored, name):
                changes[name] = new
        if not changes:
            return ""
        self.store.update_details(article.doc_id, Details(**changes))  # type: ignore[arg-type]
        names = ["date" if n == "published" else n for n in changes]
        return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
