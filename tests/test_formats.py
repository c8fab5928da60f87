"""PDF and Word files: their text and properties are read; what cannot give text is refused with the reason."""

from __future__ import annotations

from datetime import date

import pytest
from sample_files import CLOVES, CLOVES_TITLE, FERRY, write_blank_pdf, write_docx, write_pdf

from index.formats import html_details, reflow
from index.ingest import prepare
from index.load import ARTICLE_SUFFIXES, find_articles, load_bytes, load_file
from rag.errors import InputError

LIMIT = 2_000_000


def test_a_pdf_gives_its_paragraphs_as_sentences_not_as_wrapped_lines(tmp_path):
    raw = load_file(write_pdf(tmp_path / "cloves.pdf"), LIMIT)
    assert raw.name == "cloves.pdf"
    words = " ".join(raw.text.split())
    for paragraph in CLOVES:
        assert paragraph in words
    # a line break always ends a sentence for the chunker: the PDF's wrapped lines must not cut one
    assert "the largest crop since 1959." in raw.text.split("\n")[1]
    assert raw.text.split("\n")[0] == CLOVES_TITLE


def test_a_pdf_gives_its_title_author_and_creation_date(tmp_path):
    raw = load_file(write_pdf(tmp_path / "cloves.pdf"), LIMIT)
    assert (raw.details.title, raw.details.source, raw.details.published) == (CLOVES_TITLE, "Coast Wire",
                                                                             date(2019, 3, 6))


def test_the_text_s_own_dateline_wins_over_the_pdf_s_creation_date(tmp_path):
    article = prepare(load_file(write_pdf(tmp_path / "cloves.pdf"), LIMIT))
    assert article.title == CLOVES_TITLE
    assert article.published == date(2019, 3, 5)  # "STONE TOWN, March 5, 2019 -", not the file's 6 March
    assert article.source == "Coast Wire"


def test_a_pdf_without_a_text_layer_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(InputError, match="no text in this PDF.*OCR"):
        load_file(write_blank_pdf(tmp_path / "scan.pdf"), LIMIT)


def test_bytes_that_are_not_a_pdf_are_refused_as_such():
    with pytest.raises(InputError, match="not a PDF file"):
        load_bytes("report.pdf", b"Hello, this is text with a .pdf name", LIMIT)
    with pytest.raises(InputError, match="not a readable PDF"):
        load_bytes("broken.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 4, LIMIT)


def test_a_pdf_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path):
    path = write_pdf(tmp_path / "cloves.pdf")
    with pytest.raises(InputError, match="too large"):
        load_file(path, 1_000)


def test_a_word_file_gives_its_paragraphs_and_properties(tmp_path):
    raw = load_file(write_docx(tmp_path / "ferry.docx"), LIMIT)
    assert raw.text.split("\n\n") == FERRY
    assert (raw.details.title, raw.details.source, raw.details.published) == (
        "Lake Tanganyika ferry returns", "Lakeside Times", date(2024, 5, 20))


def test_a_word_file_that_is_not_a_zip_is_refused_naming_the_old_format():
    with pytest.raises(InputError, match=r"not a readable Word file.*\.doc"):
        load_bytes("old.docx", b"\xd0\xcf\x11\xe0 an old binary .doc" * 10, LIMIT)


def test_a_word_file_with_no_text_is_refused(tmp_path):
    with pytest.raises(InputError, match="no text in this Word file"):
        load_file(write_docx(tmp_path / "empty.docx", paragraphs=[]), LIMIT)


def test_a_folder_finds_pdf_and_word_files_beside_text(tmp_path):
    write_pdf(tmp_path / "b.pdf")
    write_docx(tmp_path / "c.docx")
    (tmp_path / "a.txt").write_text("Some text.", encoding="utf-8")
    assert ".pdf" in ARTICLE_SUFFIXES and ".docx" in ARTICLE_SUFFIXES
    assert [p.name for p in find_articles([tmp_path])] == ["a.txt", "b.pdf", "c.docx"]


def test_reflow_joins_wrapped_lines_and_keeps_a_headline_on_its_own_line():
    page = ("Bridge reopens in Pwnville\n"
            "The mayor said the Old Mill bridge will reopen to traffic on 14 May after eight\n"
            "months of repairs. Engineers replaced the rusted steel girders and the deck of the\n"
            "bridge.\n")
    assert reflow(page).split("\n") == [
        "Bridge reopens in Pwnville",
        "The mayor said the Old Mill bridge will reopen to traffic on 14 May after eight months of repairs. "
        "Engineers replaced the rusted steel girders and the deck of the bridge.",
    ]


def test_an_html_page_s_head_gives_title_site_and_date():
    page = ("<html><head><title>Bridge reopens - Pwnville Post</title>"
            '<meta property="og:title" content="Bridge reopens">'
            '<meta property="og:site_name" content="Pwnville Post">'
            '<meta property="article:published_time" content="2020-05-02T08:00:00Z"></head>'
            "<body><p>The bridge reopens on 14 May.</p></body></html>")
    details = html_details(page)
    assert (details.title, details.source, details.published) == ("Bridge reopens", "Pwnville Post",
                                                                   date(2020, 5, 2))


def test_an_html_page_without_meta_tags_says_nothing():
    details = html_details("<p>The bridge reopens on 14 May 2020.</p>")
    assert not details
