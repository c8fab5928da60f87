"""Load, clean, describe and chunk on arbitrary input (hypothesis): never a crash, only an article or a refusal
naming the reason; chunks always tile the article and every offset quotes it exactly.

The texts mix what real pages and hostile uploads hold: NUL and other control characters, zero-width and
bidirectional marks, right-to-left scripts, runs of punctuation or of blank lines, ellipses, very long lines.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from index.chunk import chunk_article, pysbd_sentences, split_sentences
from index.clean import clean
from index.describe import describe
from index.ingest import prepare
from index.load import RawDocument, load_bytes
from rag.errors import InputError

LIMIT = 2_000_000
ODD = ("\x00", "\x01", "\x1b", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u202d", "\u200f",
       "\u00a0", "\u2028", "\u2029", "\r", "\t", "…", "...", "“", "”", "’", "—", "\ud7ff", "\U0001f600")
RTL = "שלום עולם. مرحبا بالعالم. سلام دنیا؟ "
WORDS = ("The", "minister", "said", "U.S.", "Sen.", "Mr.", "12-3", "on", "Monday", "Related Stories", "Tags:",
         "Open in App", "Read More",
         # abbreviations that pysbd's pass meets many times in a line ("al" in "also" and "all"), in either case
         "al.", "Al", "also", "all", "et al.", "No.", "no", "Jan.", "ft.", "a.m.", "St.", "Dr.", "e.g.", "Gen.", "vs.")

pieces = st.one_of(
    st.text(min_size=0, max_size=40),
    st.text(alphabet=string.punctuation + " \n", max_size=60),
    st.sampled_from(ODD),
    st.sampled_from(WORDS),
    st.just(RTL),
    st.just("\n\n\n"),
    st.just("."),
)
texts = st.lists(pieces, max_size=60).map(" ".join)

common = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_chunks(text: str) -> None:
    article = describe(text, "t.txt")
    chunks = chunk_article(article, 120)
    assert "".join(c.text for c in chunks) == text  # the chunks tile the article
    position = 0
    for chunk in chunks:
        assert chunk.start == position and text[chunk.start : chunk.end] == chunk.text
        position = chunk.end
        for s, e in chunk.sentences:
            assert chunk.start <= s < e <= chunk.end
            assert text[s:e] == text[s:e].strip() and text[s:e]
    assert position == len(text)
    assert [c.chunk_id for c in chunk_article(article, 120)] == [c.chunk_id for c in chunks]  # ids from content


@common
@given(st.binary(max_size=3000))
@example(b"\xff\xfe")  # a UTF-16 byte-order mark and nothing else
@example(b"\xff\xfeA\x00\x00\xd8")  # UTF-16 cut inside a surrogate pair
@example("\ufeff".encode())
def test_any_bytes_load_as_text_or_are_refused_with_a_reason(data):
    try:
        raw = load_bytes("upload.txt", data, LIMIT)
    except InputError as err:
        assert err.reason and str(err).startswith("upload.txt: ")
        return
    assert raw.text.strip() and "\x00" not in raw.text and "\r" not in raw.text


@common
@given(texts, st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-8-sig"]))
@example("‡", "utf-16-le")  # b"! ": also UTF-8 text
@example("\ufeff 0", "utf-8")  # a leading U+FEFF is a byte-order mark
def test_any_text_saved_in_a_unicode_encoding_loads_back_or_is_refused(text, encoding):
    if text.startswith("\ufeff"):
        return  # saved, it is the byte-order mark every editor writes and every reader drops, rightly
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:  # a lone surrogate cannot be saved in any of them
        return
    if encoding == "utf-16-le" and b"\x00" not in data and is_utf8(data):
        return  # without a byte-order mark these bytes are UTF-8 text too, and read as that, rightly
    try:
        raw = load_bytes("a.txt", data, LIMIT)
    except InputError as err:
        assert any(word in err.reason for word in ("empty", "binary", "no text", "not UTF"))
        return
    if "\x00" in text and encoding in ("utf-8", "utf-8-sig"):
        return  # UTF-8 with zero bytes is no text file: read as UTF-16 or refused, never a crash
    assert raw.text == text.replace("\r\n", "\n").replace("\r", "\n")


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@common
@given(texts)
def test_cleaning_any_text_gives_stripped_text_without_runs_of_blank_lines(text):
    out = clean(text)
    assert out == out.strip()
    assert "\r" not in out and "\n\n\n" not in out


@common
@given(texts)
@example("")
@example("\u200b\u200b")
@example("." * 500)
@example(RTL * 30)
@example("Sen.\n\nU.S.\u202e...…" * 20)
def test_any_cleaned_text_is_chunked_into_pieces_that_tile_it_with_exact_offsets(text):
    cleaned = clean(text)
    if cleaned.strip():
        check_chunks(cleaned)


@common
@given(st.one_of(texts, st.lists(st.sampled_from(["The vote was 12-3.", "It passed.", "Sen. Lee said so.", "\u00a0",
                                                  "  ", "\t", "U.S.", "It passed. It passed."]), max_size=20)
                 .map("".join)))
@example("It passed. It passed.  It passed.")
@example("A.\u00a0\u2003B. A.")
def test_sentences_are_found_back_in_the_text_exactly_where_pysbd_itself_finds_them(text):
    import pysbd

    assert pysbd_sentences(text) == pysbd.Segmenter(language="en", clean=False).segment(text)


@common
@given(texts)
def test_any_text_becomes_an_article_or_is_refused_as_furniture(text):
    try:
        article = prepare(RawDocument("t.txt", text))
    except InputError as err:
        assert "furniture" in err.reason or "no words" in err.reason
        return
    assert article.text.strip() and len(article.doc_id) == 16


@pytest.mark.timeout(300)
def test_a_huge_article_of_one_long_line_and_of_many_short_ones_is_chunked_exactly():
    sentence = "The committee voted 12-3 on Monday to approve the U.S. plan. "
    for text in (sentence * 1500, "\n".join(f"Line {i}." for i in range(3_000))):  # 90 kB on one line; 3,000 lines
        check_chunks(clean(text))


def test_sentences_of_punctuation_alone_are_spans_of_the_text():
    text = "?!?! ... ,,, ;;; !!!"
    assert all(text[s:e].strip() == text[s:e] for s, e in split_sentences(text))
