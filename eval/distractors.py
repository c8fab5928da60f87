"""Needle in a haystack: the seeds plus ~1,160 real news articles from CSV files, in a store of their own.

    rows = read_folder(Path("../shared/data"))          # every *.csv there, one article per row
    store = build_store(pipeline, rows, progress)       # <data_dir>/distractors, reused across runs

Each row becomes an article named after its file and row number ("bbc-sport-politics-2005-0007.txt",
rows counted from 1), so an unchanged row is skipped by its content hash on the next run. A row with
no text is skipped with a reason; a row that fails the ingest checks is a "failed" result. Neither
stops the run.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from index.ingest import IngestReport, Progress
from index.load import RawDocument
from rag.config import Settings
from rag.pipeline import SEEDS_DIR, Pipeline

#: Some scraped pages are over a megabyte; the csv module's default field limit is 128 KiB.
_FIELD_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class SkippedRow:
    name: str
    reason: str


@dataclass
class CsvRows:
    """What a folder of CSV files holds: one document per usable row, and the rows left out."""

    files: list[Path] = field(default_factory=list)
    docs: list[RawDocument] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)


@dataclass
class DistractorStore:
    pipeline: Pipeline
    seeds: IngestReport
    rows: IngestReport
    skipped: list[SkippedRow]

    def summary(self) -> str:
        failed = len(self.rows.failed) + len(self.skipped)
        return (f"{len(self.rows.results)} rows: {self.rows.summary()}"
                + (f" ({failed} rows left out: empty or refused)" if failed else "")
                + f"; {self.pipeline.store.count()} chunks in the distractor store")


def csv_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.csv") if p.is_file()) if folder.is_dir() else []


def missing_message(folder: Path) -> str | None:
    """One line explaining why there is nothing to run on, or ``None`` when ``folder`` holds CSV files."""
    if not folder.exists():
        return f"No distractor corpora: {folder} does not exist; skipping the distractor run."
    if not csv_files(folder):
        return f"No distractor corpora: no .csv files in {folder}; skipping the distractor run."
    return None


def row_name(path: Path, n: int) -> str:
    """The article name of row ``n`` (from 1) of a CSV file.

    >>> row_name(Path("data/bbc-sport-politics-2005.csv"), 7)
    'bbc-sport-politics-2005-0007.txt'
    """
    return f"{path.stem}-{n:04d}.txt"


def read_csv(path: Path) -> tuple[list[RawDocument], list[SkippedRow]]:
    """One document per row of ``path`` (its ``text`` column); empty rows are skipped with a reason."""
    docs: list[RawDocument] = []
    skipped: list[SkippedRow] = []
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if "text" not in (reader.fieldnames or []):
            return [], [SkippedRow(path.name, f"no 'text' column (columns: {', '.join(reader.fieldnames or [])})")]
        try:
            for n, row in enumerate(reader, start=1):
                name = row_name(path, n)
                text = (row.get("text") or "").strip()
                if not text:
                    skipped.append(SkippedRow(name, "empty text"))
                    continue
                docs.append(RawDocument(name=name, text=text.replace("\r\n", "\n").replace("\r", "\n")))
        except csv.Error as exc:
            skipped.append(SkippedRow(path.name, f"unreadable CSV after row {len(docs) + len(skipped)}: {exc}"))
    return docs, skipped


def read_folder(folder: Path) -> CsvRows:
    rows = CsvRows(files=csv_files(folder))
    for path in rows.files:
        docs, skipped = read_csv(path)
        rows.docs.extend(docs)
        rows.skipped.extend(skipped)
    return rows


def distractor_settings(settings: Settings) -> Settings:
    """The main settings with the store moved to ``<data_dir>/distractors`` (and, on a Chroma server,
    a collection of its own)."""
    update: dict[str, object] = {"data_dir": settings.data_dir / "distractors"}
    if settings.chroma_url:
        update["collection"] = f"{settings.collection}-distractors"
    return Settings(**{**settings.model_dump(), **update})


def build_store(main: Pipeline, rows: CsvRows, progress: Progress | None = None) -> DistractorStore:
    """Ingest the seeds and every row into the distractor store (unchanged ones are skipped)."""
    pipeline = Pipeline(distractor_settings(main.settings), embedder=main.embedder)
    seeds = pipeline.ingest([SEEDS_DIR])
    report = pipeline.ingestor.ingest_documents(rows.docs, progress)
    pipeline.lexical.refresh()
    return DistractorStore(pipeline, seeds, report, rows.skipped)
