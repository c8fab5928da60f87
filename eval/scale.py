"""Libraries of a given size for the benchmark's latency figures, built from a library of real articles
without embedding anything again.

A library of ``n`` chunks holds the source library's articles in their stored order until ``n`` chunks are
reached; past the source's size, copies of them follow (copy ``k`` of an article: the same text, chunks,
sentences and entities, filed as ``copy-k/<file>``, its vectors moved by seeded Gaussian noise and normalised
again, so no two stored vectors are equal and the vector index is not handed thousands of exact ties). The
same source and ``n`` always give the same library. Everything is written through ``Store.add_many``, as an
ingest writes it.

    python -m eval.scale SOURCE_DATA_DIR DEST_DATA_DIR 100000
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index.store import Addition, Store, sentence_id
from index.types import Chunk
from rag.config import Settings

#: Articles are written this many chunks at a time (``Store.add_many``: one commit sequence for all of them).
GROUP_CHUNKS = 1000
#: Standard deviation of the noise added to each coordinate of a copy's vectors (unit vectors of 384
#: coordinates have coordinates of about 0.05): a copy's vector keeps a cosine of about 0.98 with the original.
NOISE = 0.01


def read(store: Store, doc_id: str) -> Addition:
    """An article as the store holds it, with everything ``Store.add_many`` needs to write it again."""
    article = store.article(doc_id)
    got = store.chunks.get(where={"doc_id": doc_id}, include=["embeddings", "metadatas", "documents"])
    rows = sorted(zip(got["ids"], got["metadatas"], got["documents"], got["embeddings"], strict=True),
                  key=lambda r: r[1]["start"])
    chunks = [Chunk(cid, doc_id, text, int(m["start"]), int(m["end"]),
                    tuple(tuple(s) for s in json.loads(m["sentences"])))  # type: ignore[misc]
              for cid, m, text, _ in rows]
    ids = [sentence_id(c.chunk_id, j) for c in chunks for j in range(len(c.sentences))]
    by_id: dict[str, tuple[object, dict]] = {}
    if ids:
        sents = store.sentences.get(ids=ids, include=["embeddings", "metadatas"])
        by_id = dict(zip(sents["ids"], zip(sents["embeddings"], sents["metadatas"], strict=True), strict=True))
    return Addition(article, chunks, np.asarray([r[3] for r in rows], dtype=np.float32),
                  np.asarray([by_id[i][0] for i in ids], dtype=np.float32).reshape(len(ids), -1),
                  [str(by_id[i][1].get("ents", "")) for i in ids])


def copy(stored: Addition, k: int, rng: np.random.Generator) -> Addition:
    """Copy ``k`` of an article: new ids and file name, the same text, its vectors moved by ``NOISE``."""
    a = stored.article
    doc_id = f"{a.doc_id}c{k}"
    article = dataclasses.replace(a, doc_id=doc_id, file=f"copy-{k}/{a.file}", key=f"copy-{k}/{a.identity}")
    chunks = [dataclasses.replace(c, chunk_id=f"{c.chunk_id}c{k}", doc_id=doc_id) for c in stored.chunks]

    def moved(vectors: np.ndarray) -> np.ndarray:
        out = vectors + rng.normal(0.0, NOISE, vectors.shape).astype(np.float32)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    return Addition(article, chunks, moved(stored.chunk_vectors), moved(stored.sentence_vectors),
                    stored.sentence_entities)


def articles_for(source: Store, n_chunks: int) -> Iterator[Addition]:
    """The source's articles (by file name), then their copies, until ``n_chunks`` chunks are given."""
    order = [a.doc_id for a in source.articles()]
    read_so_far: list[Addition] = []
    rng = np.random.default_rng(20261207)
    given, k = 0, 0
    while given < n_chunks and order:
        for i, doc_id in enumerate(order):
            if k == 0:
                read_so_far.append(read(source, doc_id))
            item = read_so_far[i] if k == 0 else copy(read_so_far[i], k, rng)
            yield item
            given += len(item.chunks)
            if given >= n_chunks:
                return
        k += 1


def build(source_dir: Path, dest_dir: Path, n_chunks: int, progress: bool = True) -> int:
    """Write a library of at least ``n_chunks`` chunks into ``dest_dir`` (see the module doc); returns its chunk
    count. The model record is the source's, so questions are checked against it as against the source."""
    source = Store(Settings(data_dir=source_dir))
    dest = Store(Settings(data_dir=dest_dir))
    record = source.model_record()
    with dest.writing():
        if record is not None:
            dest.record_model(record)
        bar = tqdm(total=n_chunks, unit="chunk", desc=f"library of {n_chunks:,} chunks", disable=not progress,
                   file=sys.stderr)
        group: list[Addition] = []
        chunks = 0
        for item in articles_for(source, n_chunks):
            group.append(item)
            chunks += len(item.chunks)
            if chunks >= GROUP_CHUNKS:
                dest.add_many(group)
                bar.update(chunks)
                group, chunks = [], 0
        if group:
            dest.add_many(group)
            bar.update(chunks)
        bar.close()
    return dest.count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="data dir of a built library")
    parser.add_argument("dest", type=Path, help="data dir to write the new library into")
    parser.add_argument("chunks", type=int, help="how many chunks it holds (at least)")
    args = parser.parse_args()
    print(build(args.source, args.dest, args.chunks))


if __name__ == "__main__":
    main()
