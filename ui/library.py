"""The Library tab's pure parts: the table of articles, its search, and results in plain words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from index.describe import read_date
from index.types import Details
from rag.errors import NewsragError

HEADERS = ["title", "date", "source", "file", "chunks"]
#: Column widths, so that the table keeps its shape whatever is uploaded.
WIDTHS: list[str | int] = ["40%", "13%", "15%", "22%", "10%"]
#: What an upload accepts.
FILE_TYPES = [".txt", ".md", ".html", ".htm", ".pdf", ".docx"]


def row(a: Any) -> list[Any]:
    return [a.label, a.published.isoformat() if a.published else "unknown", a.source or "unknown", a.file,
            a.chunks]


def matches(a: Any, query: str) -> bool:
    """Does the article match every word of ``query`` in its title, source, date, file name or id?

    >>> from types import SimpleNamespace as A
    >>> a = A(label="Senate passes sanctions", source="IANS", published=date(2017, 7, 27), file="x.txt",
    ...       doc_id="7913dfa1")
    >>> matches(a, "sanctions 2017-07"), matches(a, "ians senate"), matches(a, "reuters")
    (True, True, False)
    """
    haystack = " ".join([a.label, a.source or "", a.published.isoformat() if a.published else "", a.file,
                         a.doc_id]).lower()
    return all(word in haystack for word in query.lower().split())


def shown(articles: Sequence[Any], query: str = "") -> list[Any]:
    """The articles that match ``query``, in the library's order."""
    return [a for a in articles if matches(a, query or "")]


def parse_date(value: Any, name: str = "Date") -> date | None:
    """A date as a person types it ("2017-08-06", "6 August 2017", "Aug 6, 2017"); ``None`` when empty.

    >>> parse_date("6 August 2017"), parse_date(" "), parse_date("2017-08-06")
    (datetime.date(2017, 8, 6), None, datetime.date(2017, 8, 6))
    """
    text = str(value or "").strip()
    if not text:
        return None
    if (found := read_date(text)) is None:
        raise NewsragError(f"{name} must be a date with day, month and year, like 2017-08-06; got {text!r}.")
    return found


def details(title: Any, source: Any, published: Any) -> Details:
    """What the user typed into the title, source and date boxes (empty boxes set nothing)."""
    return Details(title=str(title or "").strip() or None, source=str(source or "").strip() or None,
                   published=parse_date(published))


def results_text(lines: Sequence[str], failed: int, total: int) -> str:
    """The upload results, one line a file, and a closing line in words."""
    if not total:
        return "Choose one or more files to add."
    ok = total - failed
    if failed == total:
        tail = "Nothing was changed." if total == 1 else "None of the files was added; nothing was changed."
    elif failed:
        tail = f"{ok} of {total} files are in the library; the others were not added (reasons above)."
    else:
        tail = "All in the library." if total > 1 else ""
    return "\n".join(lines) + (f"\n\n{tail}" if tail else "")
