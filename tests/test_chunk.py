"""Chunk: whole sentences grouped into chunks that tile the article, so any span can be quoted verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.chunk import chunk_article, chunk_id_for, split_sentences
from index.clean import clean
from index.describe import describe
from index.types import Article

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))


def article_of(path: Path) -> Article:
    return describe(clean(path.read_text(encoding="utf-8")), path.name)


def sentences_of(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


# -- sentences -------------------------------------------------------------------------------------


def test_abbreviations_do_not_end_a_sentence():
    text = "Sen. John McCain voted for the bill. The U.S. Senate passed it 98-2. It now goes to Mr. Trump."
    assert sentences_of(text) == [
        "Sen. John McCain voted for the bill.",
        "The U.S. Senate passed it 98-2.",
        "It now goes to Mr. Trump.",
    ]


def test_a_line_break_always_ends_a_sentence_and_spans_are_stripped():
    text = "The U.S. lawmakers met\nSen. Paul objected.  Then they voted. "
    assert split_sentences(text) == [(0, 22), (23, 42), (44, 60)]
    assert sentences_of(text) == ["The U.S. lawmakers met", "Sen. Paul objected.", "Then they voted."]


def test_a_quotation_stays_with_its_sentence():
    text = 'Lavrov said: "We are ready." Tillerson agreed.'
    assert sentences_of(text) == ['Lavrov said: "We are ready."', "Tillerson agreed."]


def test_seed_000_sentences_with_abbreviations():
    text = article_of(SEEDS / "000_8a1e73fa9af65f5f.txt").text
    sentences = sentences_of(text)
    assert (
        "The Russian Foreign Ministry has said that they are ready to normalise talks only if the U.S. gives up the "
        "confrontational line." in sentences
    )
    assert (
        "The bill was approved overwhelmingly by the Senators 98-2 and that gives Congress new powers to block Trump "
        "from easing sanctions." in sentences
    )
    assert "It passed the House on Tuesday 419-3." in sentences


# -- chunks ----------------------------------------------------------------------------------------


@pytest.fixture(params=[path.name[:3] for path in SEED_FILES])
def seed_article(request) -> Article:
    (path,) = SEEDS.glob(f"{request.param}_*.txt")
    return article_of(path)


@pytest.mark.parametrize("max_chars", [100, 250, 600])
def test_chunks_tile_the_article_and_quote_it_verbatim(seed_article, max_chars):
    chunks = chunk_article(seed_article, max_chars)
    assert "".join(c.text for c in chunks) == seed_article.text
    assert chunks[0].start == 0 and chunks[-1].end == len(seed_article.text)
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.end == after.start
    for c in chunks:
        assert c.text == seed_article.text[c.start : c.end]
        assert c.doc_id == seed_article.doc_id


@pytest.mark.parametrize("max_chars", [100, 250, 600])
def test_every_sentence_lies_inside_its_chunk_and_none_is_lost(seed_article, max_chars):
    chunks = chunk_article(seed_article, max_chars)
    for c in chunks:
        assert c.sentences, "a chunk holds at least one sentence"
        for s, e in c.sentences:
            assert c.start <= s < e <= c.end
    assert [span for c in chunks for span in c.sentences] == split_sentences(seed_article.text)


@pytest.mark.parametrize("max_chars", [100, 250, 600])
def test_no_chunk_is_longer_than_max_chars_unless_it_is_one_long_sentence(seed_article, max_chars):
    """Length is counted without the white space that separates a chunk from the next one."""
    for c in chunk_article(seed_article, max_chars):
        if len(c.sentences) > 1:
            assert len(c.text.strip()) <= max_chars, c.text


def test_a_sentence_longer_than_max_chars_is_a_chunk_of_its_own():
    text = "Short one. " + "This sentence goes on " * 10 + "and on. Short two."
    article = describe(text, "long.txt")
    chunks = chunk_article(article, max_chars=100)
    assert [article.text[s:e] for c in chunks for s, e in c.sentences] == sentences_of(text)
    long_chunk = next(c for c in chunks if len(c.text.strip()) > 100)
    assert len(long_chunk.sentences) == 1


def test_002_at_the_default_size_keeps_paragraphs_apart():
    article = article_of(SEEDS / "002_95e9d33b01bd44bf.txt")
    chunks = chunk_article(article)
    starts = ["'Russia-US ties", "Ties between Russia", "Russia is under systemic", "According to the Ministry"]
    assert len(chunks) == len(starts)
    for chunk, start in zip(chunks, starts, strict=True):
        assert chunk.text.startswith(start)
    assert chunks[0].text.endswith("a statement issued by the Foreign Ministry in Moscow said.\n\n")


def test_chunk_ids_are_stable_across_runs():
    article = article_of(SEEDS / "002_95e9d33b01bd44bf.txt")
    first, second = chunk_article(article), chunk_article(article)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    c = first[1]
    assert c.chunk_id == chunk_id_for(article.doc_id, c.start, c.text)
    assert first[0].chunk_id == "93f25b9e1666174140dd6091"  # pinned: the id a new run must give again


def test_chunk_ids_differ_between_articles_even_for_the_same_text():
    ids = [c.chunk_id for path in SEED_FILES for c in chunk_article(article_of(path))]
    assert len(ids) == len(set(ids))
    a, b = describe("Lavrov met Tillerson.", "a.txt"), describe("Lavrov met Tillerson. Again.", "b.txt")
    assert chunk_id_for(a.doc_id, 0, "Lavrov met Tillerson.") != chunk_id_for(b.doc_id, 0, "Lavrov met Tillerson.")


def test_a_paragraph_longer_than_pysbds_window_is_split_as_pysbd_splits_it_whole():
    """pysbd's time grows with the square of its input, so a long line goes to it a window at a time; the sentences
    are the same as when it reads the line whole."""
    import pysbd

    from index import chunk

    para = " ".join(
        f"Sen. Ann Lee of the U.S. said on day {i} that the vote was {i}-3. Mr. Park disagreed, citing p. {i}."
        for i in range(120))  # about 11,000 characters on one line
    assert len(para) > 2 * chunk._WINDOW
    whole = [s.strip() for s in pysbd.Segmenter(language="en", clean=False).segment(para)]
    assert sentences_of(para) == whole
