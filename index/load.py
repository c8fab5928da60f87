"""Load: a path or an upload → raw text, or an ``InputError`` that names the file and the reason.

Text files must be UTF-8 (a byte-order mark is accepted) or UTF-16/UTF-32 (told by their byte-order
mark, or UTF-16 without one by its zero bytes). An HTML page is reduced to its article: the headline and
the story's paragraphs, found by trafilatura's main-text extraction (menus, related links, comments,
scripts and styles never reach the article), with the page's own title, date and site name kept as
metadata; a page where it finds no article falls back to its visible text (BeautifulSoup). PDF and Word
files are read by ``index.formats``, under the same size and emptiness rules. What a file says about itself
(an HTML page's meta tags, a PDF's or document's properties) rides along as ``Details``.

Symbolic links are not followed: a link given or found in a folder is refused with a message, unless
``follow_symlinks`` is on, and even then only a link to a file inside the folder being ingested is
read. Each file found keeps the name it is shown by (its path below that folder) and the key that
identifies it (its resolved path), so two folders' ``story.txt`` are two articles.
"""

from __future__ import annotations

import codecs
import dataclasses
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from index import formats
from index.types import Details
from rag.errors import InputError

#: File endings that hold articles; anything else in a folder is skipped.
ARTICLE_SUFFIXES = (".txt", ".md", ".html", ".htm", *formats.SUFFIXES)

_HTML_DROP = (
    "head", "title", "script", "style", "noscript", "template", "iframe", "nav", "header", "footer", "aside", "form",
)
_HTML_BLOCKS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "blockquote")


@dataclass(frozen=True)
class RawDocument:
    """The decoded text of one input file, before cleaning, and what the file itself says about the article
    (an HTML page's metadata); ``None`` where it says nothing."""

    name: str
    text: str
    details: Details = Details()
    #: What identifies the article across runs (``Article.key``); empty: its name does.
    key: str = ""


@dataclass(frozen=True)
class Source:
    """An article file to read: ``path`` as found, ``name`` as shown (below the folder given), ``key`` its identity."""

    path: Path
    name: str
    key: str
    follow: bool = False  # a symbolic link, checked to point inside the folder given


_NO_LINKS = ("a symbolic link, not followed (with --follow-symlinks, links to files inside the folder being "
             "ingested are read)")


def find_sources(paths: Iterable[Path], follow_symlinks: bool = False) -> tuple[list[Source], list[InputError]]:
    """The article files of the given files and folders (each folder's sorted), and one error per path or link
    that cannot be read. A folder that holds no article file is an error: ingesting nothing is never what was
    meant."""
    found: list[Source] = []
    errors: list[InputError] = []
    for path in paths:
        if path.is_symlink() and not follow_symlinks:
            errors.append(InputError(path, f"{_NO_LINKS}"))
        elif path.is_dir():
            inside, refused = _walk(path, follow_symlinks)
            errors.extend(refused)
            if not inside and not refused:
                errors.append(InputError(path, f"no articles here (looked for {', '.join(ARTICLE_SUFFIXES)} files)"))
            found.extend(inside)
        elif path.exists():
            link = path.is_symlink()
            if link and not _inside(path.resolve(), path.absolute().parent.resolve()):
                errors.append(InputError(path, "a symbolic link to a file outside its folder; not read"))
            else:
                found.append(Source(path, path.name, str(path.resolve()), follow=link))
        else:
            errors.append(InputError(path, "no such file or folder"))
    return found, errors


def _inside(target: Path, root: Path) -> bool:
    return target == root or root in target.parents


def _walk(folder: Path, follow_symlinks: bool) -> tuple[list[Source], list[InputError]]:
    """Article files below ``folder``, never leaving it: links are refused, or (``follow_symlinks``) read only when
    they point to a file inside it."""
    root = folder.resolve()
    found: list[Source] = []
    errors: list[InputError] = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(top, d))]:
            path = Path(top, name)
            if path.suffix.lower() not in ARTICLE_SUFFIXES and not (path.is_symlink() and path.is_dir()):
                continue
            shown = path.relative_to(folder).as_posix()
            if not path.is_symlink():
                if path.is_file():
                    found.append(Source(path, shown, str(path.resolve())))
                continue
            target = path.resolve()
            if not follow_symlinks:
                errors.append(InputError(path, _NO_LINKS))
            elif not _inside(target, root):
                errors.append(InputError(path, f"a symbolic link to {'a folder' if target.is_dir() else 'a file'} "
                                               f"outside {folder}; not read"))
            elif target.is_file():
                found.append(Source(path, shown, str(target), follow=True))
            # a link to a folder inside this one: its files are found there
    return sorted(found, key=lambda s: s.path), errors


def find_articles(paths: Iterable[Path], follow_symlinks: bool = False) -> list[Path]:
    """The article files of the given files and folders (``find_sources``); the first error is raised."""
    sources, errors = find_sources(paths, follow_symlinks)
    if errors:
        raise errors[0]
    return [s.path for s in sources]


def skipped_in(folder: Path) -> list[tuple[Path, str]]:
    """The files under ``folder`` that ``find_sources`` leaves out, each with the reason."""
    out = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.suffix.lower() in ARTICLE_SUFFIXES:
            continue
        kind = path.suffix.lower() or "no extension"
        out.append((path, f"not an article file ({kind}; newsrag reads {', '.join(ARTICLE_SUFFIXES)})"))
    return out


def load_source(source: Source, max_bytes: int) -> RawDocument:
    """Read a file that ``find_sources`` found, under the name and key it gave."""
    raw = load_file(source.path, max_bytes, follow_symlinks=source.follow)
    return dataclasses.replace(raw, name=source.name, key=source.key)


def load_file(path: Path, max_bytes: int, follow_symlinks: bool = False) -> RawDocument:
    """Read one article file; refuse what cannot be an article before anything is stored. The file is opened
    without following a symbolic link (unless told to), and only a regular file is read (never a device or a pipe,
    which could block or never end)."""
    flags = os.O_RDONLY | (0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0)) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputError(path, "not a file") from None
    except OSError as exc:
        if path.is_symlink():
            raise InputError(path, _NO_LINKS) from None
        raise InputError(path, f"cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InputError(path, "not a file")
        if info.st_size > max_bytes:
            raise InputError(path, f"too large ({info.st_size:,} bytes; the limit is {max_bytes:,}, see "
                                   "NEWSRAG_MAX_FILE_BYTES)")
        data = f.read(max_bytes + 1)
    return load_bytes(path.name, data, max_bytes, shown_as=path)


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
    text = decode(data, where)
    if name.lower().endswith((".html", ".htm")):
        page = html_article(text)
        if not page.text.strip():
            raise InputError(where, "no text in this page")
        return RawDocument(Path(name).name, page.text, page.details)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(where, "no text in this file")
    return RawDocument(name=Path(name).name, text=text)


#: A page whose extracted article is shorter than this share of its visible text, or than this many characters,
#: is read as visible text instead: the extractor found a teaser, not the story, or the page is too small for its
#: heuristics (which then keep the menu and break lines at bold words).
_MIN_ARTICLE_SHARE = 0.2
_MIN_ARTICLE_CHARS = 1000


def html_article(html: str) -> RawDocument:
    """The article of a news page: its headline and paragraphs, one per line, and its title, date and site.

    >>> page = html_article("<html><head><title>Vote passes</title></head><body><nav>Home | World</nav>"
    ...                     "<article><h1>Vote passes</h1><p>The Senate voted 98-2 on Tuesday to pass the bill, "
    ...                     "which now goes to the House.</p><p>It passed the House 419-3.</p></article></body></html>")
    >>> page.text.splitlines()[0], "Home" in page.text, page.details.title
    ('Vote passes', False, 'Vote passes')
    """
    import trafilatura

    found = trafilatura.bare_extraction(html, favor_recall=True, include_comments=False, include_tables=True,
                                        with_metadata=True)
    text = (getattr(found, "text", None) or "").strip()
    title = (getattr(found, "title", None) or "").strip() or None
    visible = html_to_text(html)
    if len(text) < _MIN_ARTICLE_CHARS or len(text) < _MIN_ARTICLE_SHARE * len(visible):
        text = visible
    elif title and not text.startswith(title):
        text = f"{title}\n\n{text}"  # the headline heads the article, as in a text file
    meta = formats.html_details(html)  # the page's meta tags, where trafilatura found nothing
    details = Details(title=title or meta.title, source=(getattr(found, "sitename", None) or None) or meta.source,
                      published=_iso_date(getattr(found, "date", None)) or meta.published)
    return RawDocument("", text.replace("\r\n", "\n").replace("\r", "\n"), details)


def _iso_date(value: str | None) -> date | None:
    """``2014-12-30`` (or a longer ISO timestamp) as a date; ``None`` for anything else.

    >>> _iso_date("2014-12-30T08:00:00"), _iso_date("yesterday")
    (datetime.date(2014, 12, 30), None)
    """
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


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


_BINARY = "binary file, not text (newsrag reads .txt, .md and .html articles)"
#: Byte-order marks, longest first (UTF-32's little-endian mark begins with UTF-16's).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode(data: bytes, where: Path | str) -> str:
    """The text of a file's bytes: UTF-8, or UTF-16/32 when a byte-order mark or UTF-16's zero bytes say so.

    >>> decode("Caf\u00e9".encode("utf-16"), "a.txt")
    'Café'
    """
    encoding = unicode_encoding(data)
    if encoding is None and _looks_binary(data):
        raise InputError(where, _BINARY)
    encoding = encoding or "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = {"utf-8-sig": "UTF-8"}.get(encoding, encoding.upper())
        raise InputError(
            where,
            f"not {name} text (undecodable byte 0x{data[exc.start]:02x} at offset {exc.start}); re-save it as UTF-8",
        ) from None
    if "\x00" in text[:8192] or _control_share(text[:8192]) > 0.05:
        raise InputError(where, _BINARY)
    return text


def unicode_encoding(data: bytes) -> str | None:
    """The codec a byte-order mark names, or UTF-16 told by its zero bytes (ASCII letters are one zero byte and
    one letter); ``None`` for anything else (read as UTF-8).

    >>> unicode_encoding("News".encode("utf-16-le")), unicode_encoding(b"News")
    ('utf-16-le', None)
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    head = data[:8192]
    pairs = len(head) // 2
    if pairs < 2 or len(data) % 2:
        return None
    even, odd = head[0 : pairs * 2 : 2].count(0) / pairs, head[1 : pairs * 2 : 2].count(0) / pairs
    if odd > 0.3 and even < 0.02:
        return "utf-16-le"
    if even > 0.3 and odd < 0.02:
        return "utf-16-be"
    return None


def _control_share(text: str) -> float:
    return sum(1 for c in text if c < " " and c not in "\t\n\f\r") / max(len(text), 1)


def _looks_binary(data: bytes) -> bool:
    """NUL bytes, or many control characters in the first 8 KiB, mean this is not a text file."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return control > len(head) * 0.05
