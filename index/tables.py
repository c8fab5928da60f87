"""Tables: a CSV or JSONL file of articles → one ``RawDocument`` per row, with the details its columns give.

A row's ``text`` column is the article; ``title``, ``date`` (or ``published``), ``source`` and ``url`` are
optional (a row without a ``source`` is credited to its ``url``'s site). Each row is named after its file and
number ("archive.csv#7", rows counted from 1) and keyed by the file's resolved path and that number, so
ingesting the file again skips every row already stored (content hashes) and replaces a row whose text
changed: an ingest that was interrupted, even killed, resumes where it stopped, nothing lost or duplicated.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     p = Path(d, "a.csv")
...     _ = p.write_text("title,text,date\\nVote,The vote was 12-3.,2025-03-01\\n")
...     docs, errors = read_table(p)
>>> docs[0].name, docs[0].text, docs[0].details.title, str(docs[0].details.published), errors
('a.csv#1', 'The vote was 12-3.', 'Vote', '2025-03-01', [])
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from index.describe import read_date
from index.load import RawDocument
from index.types import Details
from rag.errors import InputError

#: File endings read as tables of articles, one article a row.
TABLE_SUFFIXES = (".csv", ".jsonl")
#: Scraped pages can exceed the csv module's default field limit (128 KiB).
_FIELD_LIMIT = 64 * 1024 * 1024


def is_table(path: Path) -> bool:
    return path.suffix.lower() in TABLE_SUFFIXES


def read_table(path: Path, max_bytes: int | None = None) -> tuple[list[RawDocument], list[InputError]]:
    """The rows of a CSV (with a header) or JSONL file as documents, and one error per row that is not an article
    (no text, too long, not an object); an error for the whole file when it has no ``text`` column or cannot be
    read."""
    docs: list[RawDocument] = []
    errors: list[InputError] = []
    try:
        for n, row in _rows(path):
            name = f"{path.name}#{n}"
            if not isinstance(row, dict):
                errors.append(InputError(name, "not an object with a 'text' field"))
                continue
            text = str(row.get("text") or "").replace("\r\n", "\n").replace("\r", "\n").strip()
            if not text:
                errors.append(InputError(name, "no text in this row"))
                continue
            if max_bytes is not None and len(text.encode()) > max_bytes:
                errors.append(InputError(name, f"longer than the limit of {max_bytes:,} bytes"))
                continue
            docs.append(RawDocument(name=name, text=text, details=details_of(row), key=f"{path.resolve()}#{n}"))
    except (OSError, UnicodeDecodeError, csv.Error, json.JSONDecodeError, _NoText) as exc:
        where = f" (after {len(docs) + len(errors)} rows)" if docs or errors else ""
        reason = str(exc) if isinstance(exc, _NoText) else f"cannot be read as {path.suffix[1:].upper()}{where}: {exc}"
        return docs, [*errors, InputError(path, reason)]
    if not docs and not errors:
        errors.append(InputError(path, "no rows"))
    return docs, errors


class _NoText(ValueError):
    pass


def _rows(path: Path) -> Iterator[tuple[int, Any]]:
    if path.suffix.lower() == ".jsonl":
        with path.open(encoding="utf-8-sig") as f:
            n = 0
            for line in f:
                if line.strip():
                    n += 1
                    yield n, json.loads(line)
        return
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if "text" not in (reader.fieldnames or []):
            raise _NoText(f"no 'text' column (columns: {', '.join(reader.fieldnames or []) or 'none'})")
        yield from enumerate(reader, start=1)


def details_of(row: dict[str, Any]) -> Details:
    """What a row's optional columns say: title, source (or the url's site) and date (ISO, or anything
    ``dateparser`` reads).

    >>> details_of({"url": "https://www.example.org/a/b", "date": "1 March 2025"})
    Details(title=None, source='example.org', published=datetime.date(2025, 3, 1))
    """
    def field(*names: str) -> str | None:
        for name in names:
            value = str(row.get(name) or "").strip()
            if value:
                return value
        return None

    source = field("source")
    url = field("url")
    if source is None and url:
        host = urlparse(url).hostname or ""
        source = host.removeprefix("www.") or None
    return Details(title=field("title"), source=source, published=read_date(field("date", "published")))
