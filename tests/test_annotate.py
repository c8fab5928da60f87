"""The entity recogniser: spaCy's en_core_web_sm, as its authors ship it, on a faster matrix library."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from threadpoolctl import threadpool_info

from index.annotate import SPACY_MODEL, UNUSED, Entity, annotate
from index.chunk import split_sentences

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def seed_sentences() -> list[str]:
    texts = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    return [text[s:e] for text in texts for s, e in split_sentences(text)]


def blas_threads() -> list[tuple[str, int]]:
    return [(pool["internal_api"], pool["num_threads"]) for pool in threadpool_info()]


def test_the_entities_are_those_spacys_own_pipeline_finds(seed_sentences):
    stock = spacy.load(SPACY_MODEL, exclude=list(UNUSED))
    expected = [tuple(Entity(e.start_char, e.end_char, e.label_) for e in doc.ents)
                for doc in stock.pipe(seed_sentences)]

    found = annotate(seed_sentences)

    assert len(seed_sentences) > 50
    assert sum(map(len, found)) > 100
    assert found == expected


def test_finding_entities_leaves_the_process_blas_threads_as_they_were(seed_sentences):
    before = blas_threads()

    annotate(seed_sentences[:5])

    assert blas_threads() == before


def test_entities_found_in_several_threads_at_once_are_each_threads_own_and_leave_blas_as_it_was(seed_sentences):
    from concurrent.futures import ThreadPoolExecutor

    before = blas_threads()
    parts = [seed_sentences[i::4] for i in range(4)]

    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(annotate, parts))

    assert found == [annotate(part) for part in parts]
    assert blas_threads() == before
