"""Prepare: a loaded file → an article (cleaned and described), or the reason it cannot be one.

The first stages of ingestion, in a module of their own so that a second process (``index.ahead``) can run them
without importing the store.
"""

from __future__ import annotations

import dataclasses

from index.clean import clean
from index.describe import describe
from index.load import RawDocument, Source, load_source
from index.types import Article, Details
from rag.errors import InputError


def prepare(raw: RawDocument, details: Details | None = None) -> Article:
    """Clean and describe a loaded file; refuse it when no article text is left. What the file itself says of
    the article (an HTML page's title, date and site; a PDF's properties) rides along in ``raw.details``;
    ``details`` that the user gave (title, source, date) win over both."""
    text = clean(raw.text)
    if not text.strip():
        raise InputError(raw.name, "nothing but page furniture (navigation, tags, related stories) in this file")
    if not any(c.isalnum() for c in text):
        raise InputError(raw.name, "no words in this file (only punctuation, symbols or invisible characters)")
    article = with_details(describe(text, raw.name, raw.details), details)
    return dataclasses.replace(article, key=raw.key) if raw.key else article


def with_details(article: Article, details: Details | None) -> Article:
    """``article`` with the fields ``details`` sets replaced."""
    if not details:
        return article
    given = {k: v for k, v in dataclasses.asdict(details).items() if v is not None}
    return dataclasses.replace(article, **given)


def prepare_source(source: Source, max_bytes: int) -> Article | InputError:
    """Read, clean and describe a file that ``find_sources`` found; what is wrong with it, returned, not raised."""
    try:
        return prepare(load_source(source, max_bytes))
    except InputError as err:
        return err


def prepare_document(doc: RawDocument) -> Article | InputError:
    """Clean and describe a row of a table (its columns its details); what is wrong with it, returned."""
    try:
        return prepare(doc, doc.details)
    except InputError as err:
        return err
