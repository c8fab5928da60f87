"""The types that cross the ingestion stages: an article and the chunks it is cut into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Article:
    """A cleaned article. ``doc_id`` is a hash of ``text``; unknown metadata is ``None``, never guessed.

    ``file`` is how it is shown (its path below the folder it was ingested from); ``key`` is what it is:
    another version of the same key replaces it (a file's resolved path, an upload's name). Without a
    key, the file name is the key."""

    doc_id: str
    file: str
    text: str
    title: str | None = None
    source: str | None = None
    published: date | None = None
    key: str = ""

    @property
    def identity(self) -> str:
        """What a newer version of this article shares with it: its key, or its file name when it has none."""
        return self.key or self.file

    @property
    def label(self) -> str:
        """How the article is named to a user: its title, or its file name when it has none."""
        return self.title or f"Untitled ({self.file})"


@dataclass(frozen=True)
class Details:
    """An article's title, source and date as a file states them (HTML meta tags, PDF or DOCX properties)
    or as a user sets them; ``None`` where nothing is said."""

    title: str | None = None
    source: str | None = None
    published: date | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.title, self.source, self.published))


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences. ``text == article.text[start:end]``; ``sentences`` are absolute spans."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...] = field(default=())
