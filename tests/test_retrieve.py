"""Retrieve: sentence-level dense + BM25 fused by distribution-based scores over the seeds; filters;
near-duplicate collapse; follow-ups kept on the conversation's article. Each test on a library runs on a
Chroma folder and on a Chroma server (``[folder]``, ``[server]``: tests/conftest.py)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from index.store import sentence_chunk, tied_across_chunks
from index.types import Chunk
from rag.pipeline import conversation_articles
from rag.retrieve import collapse_near_duplicates, shingles
from rag.types import ArticleInfo, Filters, Passage

F000, F001, F002 = "000_8a1e73fa9af65f5f.txt", "001_96ac95c0c53d5726.txt", "002_95e9d33b01bd44bf.txt"

pytestmark = pytest.mark.both_stores  # every test on a library runs on a Chroma folder and on a Chroma server


@pytest.fixture
def seeded(seeded_on, store_kind):
    """The seeds' library on the store this test runs on (conftest's session ``seeded`` is the folder's)."""
    return seeded_on(store_kind)


@pytest.mark.parametrize(
    ("question", "evidence", "file"),
    [
        ("How did the Senate vote on the sanctions bill?", "approved overwhelmingly by the Senators 98-2", F000),
        ("What did Medvedev call the US sanctions?", 'a "full-fledged economic war" on Moscow', F000),
        ("When did Russia annex Crimea?", "in March 2014 following tensions", F001),
        ("Where did Tillerson meet Lavrov on the sidelines of a G20 summit?", "G20 summit in Bonn, Germany", F001),
        (
            "Why have Russia-US ties been deteriorating, according to the Collegium statement?",
            "following a meeting of the Ministry's Collegium",
            F002,
        ),
    ],
)
def test_the_passage_holding_the_answer_is_in_the_top_three(seeded, question, evidence, file):
    passages = seeded.retriever.retrieve(question, 3)
    assert [p.rank for p in passages] == [1, 2, 3]
    hits = [p for p in passages if evidence in p.chunk.text]
    assert hits, [p.chunk.text[:80] for p in passages]
    assert hits[0].article.file == file


def test_passages_quote_their_article_verbatim(seeded):
    for p in seeded.retriever.retrieve("Lavrov Tillerson meeting", 5):
        article = seeded.store.article(p.chunk.doc_id)
        assert article.text[p.chunk.start : p.chunk.end] == p.chunk.text
        for s, e in p.chunk.sentences:
            assert p.chunk.start <= s < e <= p.chunk.end


def test_scores_fall_with_rank_and_no_chunk_comes_twice(seeded):
    passages = seeded.retriever.retrieve("Russia sanctions", 8)
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)
    assert len({p.chunk.chunk_id for p in passages}) == len(passages)


# -- filters ---------------------------------------------------------------------------------------


def files(passages: list[Passage]) -> set[str]:
    return {p.article.file for p in passages}


def test_since_2021_keeps_only_the_one_dated_article(seeded):
    """000 and 001 give no date: an unknown date never passes a date filter."""
    passages = seeded.retriever.retrieve("Russia US relations", 10, Filters(since=date(2021, 1, 1)))
    assert passages and files(passages) == {F002}
    assert all(p.article.published == date(2021, 7, 22) for p in passages)


def test_until_2020_keeps_nothing_because_the_only_dated_article_is_later(seeded):
    assert seeded.retriever.retrieve("Russia US relations", 10, Filters(until=date(2020, 12, 31))) == []


def test_source_ians_keeps_only_002(seeded):
    passages = seeded.retriever.retrieve("sanctions", 10, Filters(sources=("IANS",)))
    assert passages and files(passages) == {F002}
    assert all(p.article.source == "IANS" for p in passages)


def test_a_file_name_works_as_a_source_filter(seeded):
    passages = seeded.retriever.retrieve("Crimea sanctions Lavrov", 10, Filters(sources=(F001,)))
    assert passages and files(passages) == {F001}
    both = seeded.retriever.retrieve("Crimea sanctions Lavrov", 20, Filters(sources=(F001, F000)))
    assert files(both) == {F000, F001}


# -- near-duplicate collapse (pure) ----------------------------------------------------------------


def passage(text: str, rank: int, doc: str = "d1") -> Passage:
    chunk = Chunk(chunk_id=f"c{rank}", doc_id=doc, text=text, start=0, end=len(text))
    info = ArticleInfo(doc_id=doc, file=f"{doc}.txt", title=None, source=None, published=None)
    return Passage(chunk=chunk, article=info, score=1.0 / rank, rank=rank)


WIRE = (
    "Moscow, July 22 The Russia-US relations have approached a dangerous confrontational point and are marked "
    "by systemic pressure from Washington, a statement issued by the Foreign Ministry in Moscow said. "
    "Ties between Russia and the US have been deteriorating in recent years due to Washington's actions, according "
    "to the statement published on Wednesday following a meeting of the Ministry's Collegium."
)


def test_shingles_are_lowercased_word_ngrams():
    assert shingles("The U.S. Senate voted", n=3) == {("the", "u", "s"), ("u", "s", "senate"), ("s", "senate", "voted")}
    assert shingles("Two words", n=5) == {("two", "words")}


def test_a_near_identical_copy_of_a_passage_is_dropped_and_the_better_ranked_one_kept():
    copy = WIRE.replace("July 22", "July 22 (IANS)")  # the same wire story, reprinted with one word more
    # 63 words, 59 word 5-grams; "IANS" (word 4) replaces the 3 grams that spanned its place with 4 new ones:
    # Jaccard = 56 / (59 + 4) = 0.89 >= 0.8
    assert len(shingles(WIRE)) == 59
    assert len(shingles(WIRE) & shingles(copy)) / len(shingles(WIRE) | shingles(copy)) == pytest.approx(56 / 63)
    distinct = "Tillerson met Lavrov on the sidelines of a G20 summit in Bonn, Germany on Thursday."
    kept = collapse_near_duplicates([passage(WIRE, 1, "a"), passage(copy, 2, "b"), passage(distinct, 3, "c")])
    assert [p.chunk.doc_id for p in kept] == ["a", "c"]


def test_distinct_passages_are_all_kept_in_order():
    texts = [
        WIRE,
        "Russia is under systemic pressure from the US and its allies, which is largely driven by ideological factors.",
        "Russia annexed Crimea, a territory in the former Soviet republic of Ukraine, in March 2014.",
    ]
    assert collapse_near_duplicates([passage(t, i + 1) for i, t in enumerate(texts)]) == [
        passage(t, i + 1) for i, t in enumerate(texts)
    ]


def test_the_threshold_decides_what_is_near():
    half = WIRE.split(", a statement")[0] + ", officials in Washington denied it strongly on Thursday evening."
    pair = [passage(WIRE, 1, "a"), passage(half, 2, "b")]
    overlap = len(shingles(WIRE) & shingles(half)) / len(shingles(WIRE) | shingles(half))
    assert 0.2 < overlap < 0.8  # shares its first sentence only
    assert len(collapse_near_duplicates(pair)) == 2
    assert len(collapse_near_duplicates(pair, threshold=overlap)) == 1


# -- fusion ----------------------------------------------------------------------------------------


def test_dense_side_scores_each_chunk_by_its_best_sentence(seeded):
    """Small-to-big: a chunk's dense score is the cosine of its best stored sentence with the query."""
    from llama_index.core.schema import QueryBundle

    from rag.retrieve import sentence_retriever

    question = "How did the Senate vote on the sanctions bill?"
    vector = seeded.embed_query(question)
    got = sentence_retriever(seeded.store, 3).retrieve(QueryBundle(question, embedding=vector.tolist()))
    assert len(got) == 3 and [g.score for g in got] == sorted((g.score for g in got), reverse=True)
    top = got[0]
    sentences = seeded.store.sentence_vectors([top.node.node_id])
    assert top.score == pytest.approx(max(float(v @ vector) for v in sentences.values()), abs=1e-4)
    assert "98-2" in top.node.get_content()


def test_a_chunk_both_retrievers_rank_first_is_ranked_first(seeded):
    question = "How did the Senate vote on the sanctions bill?"
    (top, second) = seeded.retriever.retrieve(question, 2)
    assert "98-2" in top.chunk.text
    assert second.score < top.score


def test_fusion_weights_bm25_above_dense():
    """Hand-made scored lists through QueryFusionRetriever itself: with equal spreads, the chunk BM25
    ranks first wins over the one dense ranks first."""
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import BaseRetriever, QueryFusionRetriever
    from llama_index.core.schema import NodeWithScore, TextNode

    from rag.retrieve import DENSE_WEIGHT, LEXICAL_WEIGHT

    class Ranked(BaseRetriever):
        def __init__(self, ids: list[str]) -> None:
            super().__init__()
            self.ids = ids

        def _retrieve(self, query_bundle):
            nodes = [TextNode(id_=i, text=f"text {i}") for i in self.ids]
            return [NodeWithScore(node=n, score=10.0 - r) for r, n in enumerate(nodes)]

    fusion = QueryFusionRetriever(
        [Ranked(["a", "c", "d"]), Ranked(["b", "c", "e"])], mode="dist_based_score",
        retriever_weights=[DENSE_WEIGHT, LEXICAL_WEIGHT], similarity_top_k=5, num_queries=1, use_async=False,
        llm=MockLLM(),
    )
    assert [r.node.node_id for r in fusion.retrieve("anything")][:2] == ["c", "b"]

def test_a_sentence_a_page_repeats_in_every_chunk_proposes_only_one_chunk(pipeline, tmp_path):
    """A scraped page that repeats its headline in each chunk must not fill the dense candidates."""
    headline = "Donald Trump, love him or hate him, achieved what no Western leader has."
    topics = ["the harbour and its fishing boats", "the school budget for next year", "a football final",
              "the price of bread in the market", "a storm that closed the mountain roads"]
    body = "\n\n".join(f"{headline} " + " ".join(f"This paragraph is about {t}, sentence {i}." for i in range(9))
                       for t in topics)
    page = tmp_path / "page.txt"
    page.write_text(body, encoding="utf-8")
    assert pipeline.ingest([page]).ok
    assert len(pipeline.store.chunks.get(where={"file": "page.txt"})["ids"]) >= len(topics)  # one per paragraph
    vector = pipeline.embed_query("What did Trump achieve that no Western leader has?")
    (best,) = pipeline.store.chunks_by_best_sentence([vector], 40)
    top = max(best.values())
    assert sum(score == pytest.approx(top, abs=1e-6) for score in best.values()) == 1


def test_only_ties_across_chunks_can_repeat_a_sentence():
    """A run of equal distances inside one chunk proposes that chunk once whatever its texts: no read."""
    ids = ["a:0", "a:1", "b:0", "b:1", "c:2", "d:0"]
    assert tied_across_chunks(ids, [0.1, 0.1, 0.3, 0.35, 0.35, 0.6]) == {"b:1", "c:2"}
    assert tied_across_chunks(ids, [0.1, 0.1, 0.3, 0.4, 0.5, 0.6]) == set()
    assert tied_across_chunks([], []) == set()


def test_the_dense_side_names_every_chunk_of_the_sentences_it_finds(seeded):
    """Only ids and distances are read from the sentence collection: each id must name its chunk."""
    vector = seeded.embed_query("How did the Senate vote on the sanctions bill?")
    (best,) = seeded.store.chunks_by_best_sentence([vector], 200)
    stored = seeded.store.sentences.get(include=["metadatas"])
    assert set(best) == {m["chunk_id"] for m in stored["metadatas"]}  # the seeds have fewer than 200 sentences
    assert all(sentence_chunk(i) == m["chunk_id"] for i, m in zip(stored["ids"], stored["metadatas"], strict=True))


def test_a_follow_up_stays_on_the_article_the_previous_answer_cited(seeded):
    history = ["What did Trump say when he signed the sanctions act?"]
    previous = seeded.ask(history[0])
    (about,) = conversation_articles(previous)
    assert seeded.store.article(about).file == F000
    answer = seeded.ask("Did he say anything about European allies?", history=history)
    assert any("steadfast partners" in p.chunk.text for p in answer.passages)
    assert all(p.article.file == F000 for p in answer.passages[:2])
    # The chat passes the answer it already has; asked again, the previous question gives the same.
    given = seeded.ask("Did he say anything about European allies?", history=history, previous=previous)
    assert given.text == answer.text


def test_after_an_abstention_a_follow_up_stays_on_the_article_retrieved_first(seeded):
    previous = seeded.ask("What did Joe Biden's doctors say about his prostate cancer diagnosis?")
    assert previous.abstained and previous.passages
    assert conversation_articles(previous) == {previous.passages[0].article.doc_id}


def test_collapsing_stops_once_enough_distinct_passages_are_kept():
    texts = [f"story number {n} says something different about topic {n} today" for n in range(6)]
    kept = collapse_near_duplicates([passage(t, i + 1) for i, t in enumerate(texts)], limit=3)
    assert [p.rank for p in kept] == [1, 2, 3]


class GetCounter:
    """A Chroma collection that counts its ``get`` calls (everything else goes straight through)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.gets = 0

    def get(self, **kwargs):
        self.gets += 1
        return self.inner.get(**kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_chunks_sentence_vectors_are_read_from_chroma_once(seeded):
    from index.store import Store

    store = Store(seeded.settings, client=seeded.store.client)  # the same Chroma, an empty cache
    counter = GetCounter(store.sentences)
    store._open().sentences = counter  # this store's handle on the sentence collection
    ids = sorted(seeded.store.chunks.get(include=[])["ids"])
    first = store.sentence_vectors(ids[:3])
    again = store.sentence_vectors(ids[:3])
    assert counter.gets == 1 and first.keys() == again.keys() and len(first) > 3
    assert all(np.array_equal(first[k], again[k]) for k in first)
    more = store.sentence_vectors(ids[2:5])  # two new chunks: one more read, for those two only
    assert counter.gets == 2
    expected = seeded.store.sentence_vectors(ids[2:5])
    assert more.keys() == expected.keys() and all(np.array_equal(more[k], expected[k]) for k in expected)
