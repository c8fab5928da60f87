"""Describe: article text → ``Article`` with a content-hash id and the metadata the text itself gives.

Title, source and date are read only from the header of the article (its first lines): a headline
that is not a sentence, a byline such as "By IANS | Updated: July 22, 2021 10:15 IST". What the
text does not say stays ``None``; nothing is guessed from the body or the file name.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

from index.types import Article

_HEADER_LINES = 4
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE_PATTERNS = (
    (re.compile(rf"\b({_MONTHS})\s+(\d{{1,2}}),\s*(\d{{4}})\b"), "%B %d %Y"),
    (re.compile(rf"\b(\d{{1,2}})\s+({_MONTHS})\s+(\d{{4}})\b"), "%d %B %Y"),
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "%Y %m %d"),
)
BYLINE = re.compile(r"^\s*By\s+([A-Z][\w.&' -]{1,60}?)\s*(\||\bUpdated\b|\bPublished\b|,|$)")
_AGENCY = re.compile(r"^[A-Z][\w ,.]{0,40}\((Reuters|AP|AFP|IANS|PTI|ANI|TASS|Xinhua|UNI|dpa)\)\s*[-–—]")


def doc_id_for(text: str) -> str:
    """The article's id: the first 16 hex digits of the SHA-256 of its cleaned text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def describe(text: str, file: str) -> Article:
    """Build the ``Article`` for cleaned ``text`` read from ``file``."""
    header = [line.strip() for line in text.split("\n") if line.strip()][:_HEADER_LINES]
    return Article(
        doc_id=doc_id_for(text),
        file=file,
        text=text,
        title=find_title(header),
        source=find_source(header),
        published=find_date(header),
    )


def find_title(header: list[str]) -> str | None:
    """The first line when it reads as a headline: short, and not a sentence or a byline.

    >>> find_title(["'Russia-US ties approach dangerous confrontational point'", "By IANS"])
    'Russia-US ties approach dangerous confrontational point'
    >>> find_title(["Tillerson met Lavrov in Bonn on Thursday."]) is None
    True
    """
    if not header:
        return None
    first = header[0]
    if len(first) > 160 or len(first.split()) < 3 or BYLINE.match(first):
        return None
    if re.search(r"[.!?]['\"”’]?$", first) and not re.match(r"^['\"“‘].*['\"”’]$", first):
        return None
    return first.strip("'\"“”‘’ ") or None


def find_source(header: list[str]) -> str | None:
    """The agency or author named in a byline ("By IANS | …") or a dateline ("MOSCOW (Reuters) -")."""
    for line in header:
        if m := BYLINE.match(line):
            return m.group(1).strip()
        if m := _AGENCY.match(line):
            return m.group(1)
    return None


def find_date(header: list[str]) -> date | None:
    """The first full date (day, month and year) in the header lines."""
    for line in header:
        for pattern, fmt in _DATE_PATTERNS:
            if m := pattern.search(line):
                try:
                    return datetime.strptime(" ".join(m.groups()), fmt).date()
                except ValueError:
                    continue
    return None
