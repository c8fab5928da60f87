"""Query vectors: each distinct text embedded once, several new ones in a single model call."""

from __future__ import annotations

import numpy as np

from index.embed import QueryVectors
from rag.pipeline import Pipeline


def test_a_text_asked_again_is_not_embedded_again(counting):
    vectors = QueryVectors(counting)
    first = vectors("What did Lavrov say in Manila?")
    again = vectors("What did Lavrov say in Manila?")
    assert counting.calls == 1
    assert np.array_equal(first, again)


def test_priming_embeds_only_the_new_texts_in_one_call(counting, embedder):
    vectors = QueryVectors(counting)
    vectors("Who met in Manila?")
    vectors.prime(["Who met in Manila?", "Who met in Bonn?", "Who met in Hamburg?", "Who met in Bonn?"])
    assert (counting.calls, counting.texts) == (2, 3)  # one call for the first, one for the two new texts
    alone = embedder.embed(["Who met in Bonn?"])[0]
    assert np.allclose(vectors("Who met in Bonn?"), alone, atol=1e-5)  # a batch gives the same vector
    assert counting.calls == 2


def test_only_the_most_recent_texts_are_kept(counting):
    vectors = QueryVectors(counting, size=2)
    vectors.prime(["a quokka", "a wombat"])
    vectors("a quokka")  # used again: now the most recent
    vectors("a koala")  # evicts "a wombat"
    calls = counting.calls
    vectors("a quokka")
    assert counting.calls == calls
    vectors("a wombat")
    assert counting.calls == calls + 1


def test_a_question_in_two_parts_embeds_the_question_and_its_parts_in_one_call(seeded, counting):
    pipeline = Pipeline(seeded.settings, embedder=counting, store=seeded.store)
    answer = pipeline.ask("How does Ukraine come up in both the sanctions bill and Tillerson's remarks in Bonn?")
    assert len({c.article.doc_id for c in answer.citations}) == 2
    assert counting.calls == 1 and counting.texts == 3
