"""Formats: PDF and Word (.docx) files → text, and what a file says about itself (``Details``).

PDF text comes from pypdf, Word paragraphs from python-docx; both libraries load only when such a
file is read. The refusal rules are the text files' (``index.load``): a file that cannot be read, is
protected by a password, or holds no text is an ``InputError`` naming the reason, and nothing is
stored. An HTML page's head is read here too: its title, site name and publication date
(``htmldate``, from the page's meta tags and structured data only, never the body's text).
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

from index.types import Details
from rag.errors import InputError

#: File endings read by this module (the rest of ``index.load.ARTICLE_SUFFIXES`` are text).
SUFFIXES = (".pdf", ".docx")
#: A .docx is a zip: one whose parts unpack to more than this many times its size is refused (a zip bomb).
_MAX_UNZIP_RATIO = 100
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’)\]]*$")


def is_document(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


def read_document(name: str, data: bytes, where: Path | str) -> tuple[str, Details]:
    """The text and details of a PDF or .docx file's bytes; ``InputError`` when it cannot give any text."""
    if name.lower().endswith(".pdf"):
        return read_pdf(data, where)
    return read_docx(data, where)


# -- PDF -------------------------------------------------------------------------------------------


def read_pdf(data: bytes, where: Path | str) -> tuple[str, Details]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise InputError(where, "not a PDF file (it does not start with %PDF); check the file or its name")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(where, "the PDF is protected by a password; save an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except FileNotDecryptedError:
        raise InputError(where, "the PDF is protected by a password; save an unprotected copy") from None
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(where, f"not a readable PDF ({exc})") from None
    text = "\n\n".join(reflow(page) for page in pages if page.strip())
    if not text.strip():
        raise InputError(where, "no text in this PDF (scanned pages are images: run OCR on it first, "
                                "e.g. with ocrmypdf)")
    details = Details()
    if info is not None:
        details = Details(title=_clean_title(info.title), source=_clean(info.author),
                          published=_as_date(_pdf_date(info)))
    return text, details


def _pdf_date(info: object) -> datetime | None:
    try:
        return getattr(info, "creation_date", None)
    except (ValueError, TypeError):  # a malformed /CreationDate string
        return None


def reflow(page: str) -> str:
    """A PDF page's lines as paragraphs: a line runs on into the next unless it ends a sentence well short
    of the page's usual line width, or is a short line of its own (a headline); a word hyphenated across
    lines is joined.

    >>> for line in reflow("The Senate voted 98-2 on the bill\\nafter a long debate.\\nIt passed the House on Tuesday "
    ...                    "by 419\\nvotes to 3 in a second vote.").splitlines():
    ...     print(line)
    The Senate voted 98-2 on the bill after a long debate.
    It passed the House on Tuesday by 419 votes to 3 in a second vote.
    >>> reflow("Clove harvest breaks a record\\nThe Zanzibar corporation said the har-\\nvest reached 9,412 tonnes.")
    'Clove harvest breaks a record\\nThe Zanzibar corporation said the harvest reached 9,412 tonnes.'
    """
    lines = [" ".join(line.split()) for line in page.splitlines()]
    widths = sorted(len(line) for line in lines if line)
    if not widths:
        return ""
    usual = widths[int(len(widths) * 0.8)] if len(widths) > 1 else widths[0]
    out: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                out.append(current)
            current = ""
            continue
        if current:
            if current.endswith("-") and line[:1].islower():
                current = current[:-1] + line
            else:
                current = f"{current} {line}"
        else:
            current = line
        short = len(line) < 0.85 * usual
        if short and (_SENTENCE_END.search(line) or len(line.split()) <= 12 and not current.count(" ") > 20):
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return "\n".join(out)


# -- Word ------------------------------------------------------------------------------------------


def read_docx(data: bytes, where: Path | str) -> tuple[str, Details]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise InputError(where, "not a readable Word file (.docx is a zip archive; an old .doc must be saved "
                                "as .docx or PDF first)") from None
    if unpacked > _MAX_UNZIP_RATIO * max(len(data), 1):
        raise InputError(where, f"the Word file unpacks to {unpacked:,} bytes, far more than its size; refused")
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise InputError(where, f"not a readable Word file ({exc})") from None
    paragraphs = [" ".join(p.text.split()) for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells = dict.fromkeys(" ".join(cell.text.split()) for cell in row.cells)  # merged cells repeat
            paragraphs.append(" | ".join(c for c in cells if c))
    text = "\n\n".join(p for p in paragraphs if p)
    if not text.strip():
        raise InputError(where, "no text in this Word file")
    props = document.core_properties
    return text, Details(title=_clean_title(props.title), source=_clean(props.author),
                         published=_as_date(props.created))


# -- HTML ------------------------------------------------------------------------------------------


def html_details(page: str) -> Details:
    """What an HTML page's head says: ``og:title`` or ``<title>``, ``og:site_name`` or the author, and the
    publication date (htmldate, from meta tags and structured data, never a guess from the body)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")

    def meta(*names: str) -> str | None:
        for name in names:
            tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
            content = tag.get("content") if tag else None
            if isinstance(content, str) and content.strip():
                return content
        return None

    title = meta("og:title", "twitter:title") or (soup.title.string if soup.title and soup.title.string else None)
    source = meta("og:site_name", "author", "article:author")
    return Details(title=_clean_title(title), source=_clean(source), published=_html_date(page))


def _html_date(page: str) -> date | None:
    try:
        import lxml.html
        from htmldate import find_date
    except ImportError:  # htmldate is a dependency; without it the page's date is simply not read
        return None
    try:
        tree = lxml.html.fromstring(page)
        found = find_date(tree, extensive_search=False, original_date=True)
    except Exception:  # htmldate on hostile markup: the date stays unknown, the page is still read
        return None
    try:
        return date.fromisoformat(found) if found else None
    except ValueError:
        return None


# -- shared ----------------------------------------------------------------------------------------


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:200] or None


def _clean_title(value: object) -> str | None:
    """A file's title, unless it is a file name or a word processor's placeholder ("Microsoft Word - a.docx")."""
    title = _clean(value)
    if not title or re.search(r"\.(docx?|pdf|txt|html?)$", title, re.IGNORECASE) or title.lower() in {
            "untitled", "title", "document", "untitled document"}:
        return None
    return title


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None
