"""Load: a path or an upload → raw text, or an ``InputError`` that names the file and the reason.

Text files must be UTF-8 (a byte-order mark is accepted). HTML is reduced to its visible text
with BeautifulSoup: scripts, styles and navigation never reach the article. PDF and Word files are
read by ``index.formats``, under the same size and emptiness rules. What a file says about itself
(an HTML page's meta tags, a PDF's or document's properties) rides along as ``Details``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from index import formats
from index.types import Details
from rag.errors import InputError

#: File endings that hold articles; anything else in a folder is skipped (and reported).
ARTICLE_SUFFIXES = (".txt", ".md", ".html", ".htm", *formats.SUFFIXES)

_HTML_DROP = (
    "head", "title", "script", "style", "noscript", "template", "iframe", "nav", "header", "footer", "aside", "form",
)
_HTML_BLOCKS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "blockquote")


@dataclass(frozen=True)
class RawDocument:
    """The decoded text of one input file, before cleaning."""

    name: str
    text: str
    details: Details = Details()


def find_articles(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into the article files below them (sorted); files are kept as given.

    A folder that holds no article file is an ``InputError``: ingesting nothing is never what was meant.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES)
            if not inside:
                raise InputError(path, f"no articles here (looked for {', '.join(ARTICLE_SUFFIXES)} files)")
            found.extend(inside)
        elif path.exists():
            found.append(path)
        else:
            raise InputError(path, "no such file or folder")
    return found


def skipped_in(folder: Path) -> list[tuple[Path, str]]:
    """The files under ``folder`` that ``find_articles`` leaves out, each with the reason."""
    out = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() in ARTICLE_SUFFIXES:
            continue
        kind = path.suffix.lower() or "no extension"
        out.append((path, f"not an article file ({kind}; newsrag reads {', '.join(ARTICLE_SUFFIXES)})"))
    return out


def load_file(path: Path, max_bytes: int) -> RawDocument:
    """Read one article file; refuse what cannot be an article before anything is stored."""
    if not path.is_file():
        raise InputError(path, "not a file")
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(path, f"too large ({size:,} bytes; the limit is {max_bytes:,}, see NEWSRAG_MAX_FILE_BYTES)")
    return load_bytes(path.name, path.read_bytes(), max_bytes, shown_as=path)


def load_bytes(name: str, data: bytes, max_bytes: int, shown_as: Path | str | None = None) -> RawDocument:
    """Decode an upload or a file's bytes. ``name`` decides the format by its ending."""
    where = shown_as if shown_as is not None else name
    if len(data) > max_bytes:
        raise InputError(where, f"too large ({len(data):,} bytes; the limit is {max_bytes:,})")
    if not data.strip():
        raise InputError(where, "empty file")
    if formats.is_document(name):
        text, details = formats.read_document(name, data, where)
        return RawDocument(name=Path(name).name, text=text.replace("\r\n", "\n").replace("\r", "\n"),
                           details=details)
    if _looks_binary(data):
        raise InputError(where, "binary file, not text (newsrag reads .txt, .md, .html, .pdf and .docx articles)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            where,
            f"not UTF-8 text (undecodable byte 0x{data[exc.start]:02x} at offset {exc.start}); re-save it as UTF-8",
        ) from None
    details = Details()
    if name.lower().endswith((".html", ".htm")):
        details = formats.html_details(text)
        text = html_to_text(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(where, "no text in this file")
    return RawDocument(name=Path(name).name, text=text, details=details)


def html_to_text(html: str) -> str:
    """Visible text of an HTML page, one block per line; markup and scripts are dropped, never run.

    >>> html_to_text("<p>Hello <b>world</b></p><script>alert(1)</script><p>Bye</p>")
    'Hello world\\nBye'
    """
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(_HTML_DROP):
        tag.decompose()
    for string in soup.find_all(string=True):  # a line break in the source is only a space in the page
        if type(string) is NavigableString and string.find_parent("pre") is None:
            string.replace_with(re.sub(r"\s+", " ", string))
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    return "\n".join(line for line in lines if line)


def _looks_binary(data: bytes) -> bool:
    """NUL bytes, or many control characters in the first 8 KiB, mean this is not a text file."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return control > len(head) * 0.05
