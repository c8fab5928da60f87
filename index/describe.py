"""Describe: article text → ``Article`` with a content-hash id, a title, and the source and date it gives.

Every article gets a title: the headline when its first line reads as one, else the title the file
states (an HTML page's ``og:title``, a PDF's or document's properties), else its first sentence,
shortened. Source and date are read from the header of the article (its first lines: a byline such as
"By IANS | Updated: July 22, 2021 10:15 IST", a dateline "LAKEPORT, Aug 6, 2017 (Reuters) -"), then
from what the file states. A date needs its day, month and year (``dateparser``'s search finds them in
any of the usual spellings); what neither the text nor the file says stays ``None``, never guessed.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from datetime import date
from functools import cache
from typing import Any

from index.types import Article, Details

_HEADER_LINES = 4
#: Characters of each header line searched for a date: a dateline or byline, not the story's body.
_DATE_SCAN = 300
#: Longest title made from a first sentence.
TITLE_CHARS = 90
BYLINE = re.compile(r"^\s*By\s+([A-Z][\w.&' -]{1,60}?)\s*(\||\bUpdated\b|\bPublished\b|,|$)")
_AGENCY = re.compile(r"^[A-Z][\w ,.]{0,40}\((Reuters|AP|AFP|IANS|PTI|ANI|TASS|Xinhua|UNI|dpa)\)\s*[-–—]")


def doc_id_for(text: str) -> str:
    """The article's id: the first 16 hex digits of the SHA-256 of its cleaned text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def describe(text: str, file: str, details: Details | None = None) -> Article:
    """Build the ``Article`` for cleaned ``text`` read from ``file``; ``details`` is what the file itself
    states (used where the article's own header says nothing)."""
    given = details or Details()
    header = [line.strip() for line in text.split("\n") if line.strip()][:_HEADER_LINES]
    return Article(
        doc_id=doc_id_for(text),
        file=file,
        text=text,
        title=find_title(header) or given.title or first_sentence_title(text),
        source=find_source(header) or given.source,
        published=find_date(header) or given.published,
    )


def find_title(header: list[str]) -> str | None:
    """The first line when it reads as a headline: short, and not a sentence or a byline.

    >>> find_title(["'Norland-US ties approach dangerous confrontational point'", "By IANS"])
    'Norland-US ties approach dangerous confrontational point'
    >>> find_title(["Halvorsen met Okonjo in Lund on Thursday."]) is None
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
    """The agency or author named in a byline ("By IANS | …") or a dateline ("LAKEPORT (Reuters) -")."""
    for line in header:
        if m := BYLINE.match(line):
            return m.group(1).strip()
        if m := _AGENCY.match(line):
            return m.group(1)
    return None


def first_sentence_title(text: str, limit: int = TITLE_CHARS) -> str | None:
    """The article's first sentence as its title, cut at a word before ``limit`` characters.

    >>> first_sentence_title("Halvorsen met Okonjo in Lund. They talked.")
    'Halvorsen met Okonjo in Lund'
    >>> first_sentence_title("The Norlandic Foreign Ministry has said that it is ready to normalise talks if the U.S. "
    ...                      "gives up the confrontational line.")
    'The Norlandic Foreign Ministry has said that it is ready to normalise talks if the U.S.…'
    """
    from index.chunk import split_sentences

    # a line break ends a sentence, so the first line holds it, and only its first ``limit`` characters are kept:
    # the sentence splitter reads a few times that (its time grows faster than the text it reads)
    first_line = re.search(r"\S[^\n]*", text[: 8 * limit])
    line = first_line.group() if first_line else ""
    spans = split_sentences(line)
    if not spans:
        return None
    sentence = " ".join(line[spans[0][0] : spans[0][1]].split())
    if len(sentence) > limit:
        cut = sentence[: limit + 1].rsplit(" ", 1)[0]
        return cut.rstrip(",;:-–— ") + "…"
    sentence = re.sub(r"(?<=\w)[.!?]$", "", sentence)  # a headline ends without a full stop
    return sentence or None


def find_date(header: list[str]) -> date | None:
    """The first full date (day, month and year) in the header lines, in any of the usual spellings.

    >>> find_date(["LAKEPORT, Aug 6, 2017 (Reuters) - Okonjo said"])
    datetime.date(2017, 8, 6)
    >>> find_date(["Lakeport, July 22 The Norland-US relations"]) is None  # no year: unknown
    True
    """
    for line in header:
        if not _YEAR.search(line[:_DATE_SCAN]):  # a full date has a four-digit year (``is_date_only``): none here
            continue
        found = _search_dates()(line[:_DATE_SCAN], languages=["en"], settings=_DATE_SETTINGS)
        for said, when in found or ():
            if is_date_only(said):
                return when.date()
    return None


def read_date(value: str | None) -> date | None:
    """A date as a person or a spreadsheet writes it ("2017-08-06", a longer ISO timestamp, "6 August 2017",
    "Aug 6, 2017"): day, month and year, or ``None``.

    >>> read_date("6 August 2017"), read_date("2017-08-06T10:00:00"), read_date("August 2017"), read_date(" ")
    (datetime.date(2017, 8, 6), datetime.date(2017, 8, 6), None, None)
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    import dateparser

    found = dateparser.parse(text, languages=["en"], settings={"REQUIRE_PARTS": ["day", "month", "year"]})
    return found.date() if found else None


_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
_CALENDAR_WORDS = tuple(w.lower() for w in (*calendar.month_name[1:], *calendar.day_name))
_DATE_TOKEN = re.compile(r"[^\W\d_]+|\d+")


def is_date_only(said: str) -> bool:
    """Is ``said`` (what dateparser's search matched) a date and nothing else: a day number, a year, and no
    word but month and weekday names, "on"/"of"/"at", am/pm and a time zone? dateparser's search also
    matches "in June 2024 after a" (reading "a" as one) or "2 May the 2019".

    >>> is_date_only("Thu, 05 Mar 2020 10:00:00 GMT"), is_date_only("March 5, 2019"), is_date_only("2017-08-06")
    (True, True, True)
    >>> is_date_only("in June 2024 after a"), is_date_only("On 2 May the 2019")
    (False, False)
    """
    tokens = _DATE_TOKEN.findall(said)
    numbers = [t for t in tokens if t.isdigit()]
    if not any(len(n) == 4 for n in numbers) or not any(len(n) <= 2 and 1 <= int(n) <= 31 for n in numbers):
        return False
    for word in (t for t in tokens if not t.isdigit()):
        low = word.lower()
        if low in ("on", "of", "at", "am", "pm", "st", "nd", "rd", "th") or (word.isupper() and len(word) <= 5):
            continue
        if len(low) >= 3 and any(name.startswith(low) for name in _CALENDAR_WORDS):
            continue
        return False
    return True


_DATE_SETTINGS: dict[str, Any] = {"REQUIRE_PARTS": ["day", "month", "year"], "PREFER_DATES_FROM": "past",
                                  "RETURN_AS_TIMEZONE_AWARE": False}


@cache
def _search_dates() -> Any:
    """dateparser's ``search_dates``, imported on first use (its language tables take ~0.5 s to load)."""
    from dateparser.search import search_dates

    return search_dates
