"""Small PDF and Word files written by the tests themselves (fpdf2 and python-docx), with known text and
properties, so that what newsrag reads from them can be checked by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

CLOVES_TITLE = "Zanzibar clove harvest breaks a sixty-year record"
CLOVES = [
    "STONE TOWN, March 5, 2019 - The Zanzibar State Trading Corporation said on Tuesday that the island's clove "
    "harvest reached 9,412 tonnes this season, the largest crop since 1959.",
    "Farmers on Pemba island credited the early rains for the record harvest. Exporters expect prices to fall "
    "slightly as the new crop reaches markets in India and Indonesia.",
]
FERRY = [
    "The MV Liemba ferry will return to service on Lake Tanganyika after a refit, the port authority in Kigoma "
    "said on Monday.",
    "The refit cost 12 million dollars and replaced both engines.",
]


def write_pdf(path: Path, title: str | None = CLOVES_TITLE, paragraphs: list[str] = CLOVES,
              author: str | None = "Coast Wire", created: datetime | None = datetime(2019, 3, 6, 9, 0)) -> Path:
    """A one-page PDF: the title as a first line, then the paragraphs wrapped as a PDF writer wraps them."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    if created:
        pdf.set_creation_date(created)
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for text in ([title] if title else []) + paragraphs:
        pdf.multi_cell(0, 6, text)
        pdf.ln(4)
    pdf.output(str(path))
    return path


def write_blank_pdf(path: Path) -> Path:
    """A PDF whose page has no text layer (a scan would look like this to a text extractor)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60)
    pdf.output(str(path))
    return path


def write_docx(path: Path, paragraphs: list[str] = FERRY, title: str | None = "Lake Tanganyika ferry returns",
               author: str | None = "Lakeside Times", created: datetime | None = datetime(2024, 5, 20)) -> Path:
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title = title or ""
    props.author = author or ""
    if created:
        props.created = created
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path
