"""The benchmark's larger libraries (eval.scale): built from a real library without embedding again, the same
every time, every article a whole one that answers with verbatim citations."""

from __future__ import annotations

import numpy as np

from eval.scale import build
from rag.config import Settings
from rag.pipeline import Pipeline


def vectors(data_dir) -> dict[str, list[float]]:
    got = Pipeline(Settings(data_dir=data_dir)).store.chunks.get(include=["embeddings"])
    return dict(zip(got["ids"], np.asarray(got["embeddings"]).round(6).tolist(), strict=True))


def test_a_library_three_times_the_seeds_holds_them_and_their_copies_the_same_every_time(seeded, embedder, tmp_path):
    source = seeded.settings.data_dir
    n = 3 * seeded.store.count()
    assert build(source, tmp_path / "a", n, progress=False) == n
    assert build(source, tmp_path / "b", n, progress=False) == n
    first = vectors(tmp_path / "a")
    assert first == vectors(tmp_path / "b")  # deterministic, noise included

    grown = Pipeline(Settings(data_dir=tmp_path / "a"), embedder=embedder)
    files = sorted(a.file for a in grown.store.articles())
    originals = sorted(a.file for a in seeded.store.articles())
    assert files == sorted(originals + [f"copy-{k}/{f}" for k in (1, 2) for f in originals])
    all_vectors = np.array(list(first.values()))
    assert len({tuple(v) for v in all_vectors.tolist()}) == len(all_vectors)  # no two vectors equal
    assert np.allclose(np.linalg.norm(all_vectors, axis=1), 1.0, atol=1e-5)

    answer = grown.ask("What did Lavrov say in Manila?")
    assert answer.citations
    for c in answer.citations:  # a copy's citations are verbatim text of the copy, as any article's
        assert grown.store.article(c.article.doc_id).text[c.start:c.end] == c.quote


def test_a_library_smaller_than_the_source_takes_its_first_articles_whole(seeded, tmp_path):
    first = seeded.store.articles()[0]
    got = build(seeded.settings.data_dir, tmp_path / "small", 1, progress=False)
    assert got == first.chunks
    assert [a.file for a in Pipeline(Settings(data_dir=tmp_path / "small")).store.articles()] == [first.file]
