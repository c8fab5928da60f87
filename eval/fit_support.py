"""Fit the support score of ``rag.support`` (its logistic weights and its threshold) on the eval sets.

A verifier must tell the sentence that says a claim from a sentence of the same article that only shares its
topic. The eval sets give both: each answerable question's evidence is the sentence that says its answer. A claim
is written as a model's short answer would be: the question's own words, without its question word, with the key
phrases ("How did the Senate vote on the sanctions bill?" + "98-2" → "the Senate vote on the sanctions bill 98-2").

- positive: the claim against the article sentence that holds the evidence;
- hard negative: the claim against the sentence of the same article most like it in words, among those that hold
  neither the evidence nor any key phrase;
- easy negative: the same against the other articles.

Features are the checker's own (``lexical``, and ``dense`` from the stored sentence vectors of the packaged
model). scikit-learn's ``LogisticRegression`` (classes balanced) is fitted on the development sets
(``eval/sets/seeds/qa.jsonl`` and sets ``001`` … ``104``) and checked on the latest blind batch (sets 105 to
112), never fitted on. The threshold is the probability that maximises F0.5 on the development pairs (a wrongly
kept sentence costs more than a wrongly dropped one). Writes ``rag/support.json`` and prints the figures.

    make fit-support        # python -m eval.fit_support
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.run import QAItem, load_qa
from index.chunk import chunk_article
from rag.support import WEIGHTS_FILE, lexical
from rag.terms import content_terms

EVAL = Path(__file__).resolve().parent / "sets" / "seeds"
TEST_SETS = tuple(f"{n:03d}" for n in range(105, 113))
_QUESTION_WORDS = re.compile(r"^\s*((what|which|who|whom|whose|when|where|why|how)( \w+)?|is|was|were|are|did|does|do|"
                             r"has|had|have|according to [^,]+,)\s+", re.IGNORECASE)


def claim_of(item: QAItem) -> str:
    """A model's short answer to ``item``, as a proxy: the question's words and its key phrases.

    >>> claim_of(QAItem("q", "factoid", "How did the Senate vote on the bill?", ("98-2",)))
    'the Senate vote on the bill 98-2'
    """
    body = _QUESTION_WORDS.sub("", item.question.strip().rstrip("?.! "))
    return f"{body} {' '.join(item.answers)}".strip()


def norm(text: str) -> str:
    return " ".join(text.lower().split())


@dataclass
class Pair:
    lexical: float
    dense: float
    label: int
    test: bool


def pairs(pipeline, sets: list[tuple[str, list[QAItem]]]) -> list[Pair]:
    """Positive and negative (claim, sentence) pairs of every answerable question whose evidence is found."""
    articles = {a.file: pipeline.store.article(a.doc_id) for a in pipeline.articles()}
    sentences: dict[str, list[tuple[int, int, str]]] = {}
    vectors: dict[tuple[str, int], np.ndarray] = {}
    for file, article in articles.items():
        chunks = chunk_article(article, pipeline.settings.chunk_chars)  # ids are content hashes: the stored ones
        sentences[file] = [(s, e, article.text[s:e]) for c in chunks for s, e in c.sentences]
        vectors.update(pipeline.store.sentence_vectors([c.chunk_id for c in chunks]))
    out: list[Pair] = []
    claims: list[tuple[str, list[tuple[str, int, str, int]], bool]] = []
    for name, items in sets:
        for item in items:
            if not item.answerable or item.type == "follow-up" or not item.evidence:
                continue
            ev = item.evidence[0]
            file = next((f for f in articles if f.startswith(ev.doc)), None)
            if file is None:
                continue
            positive = [(s, e, t) for s, e, t in sentences[file] if norm(ev.text) in norm(t)]
            if not positive:
                continue
            claim = claim_of(item)
            terms = content_terms(claim)
            keys = [norm(a) for a in item.answers] + [norm(ev.text)]
            others = [(s, e, t) for s, e, t in sentences[file] if not any(k in norm(t) for k in keys)]
            hard = max(others, key=lambda x: lexical(terms, x[2]), default=None)
            doc = articles[file].doc_id
            chosen = [(doc, positive[0][0], positive[0][2], 1)]
            if hard:
                chosen.append((doc, hard[0], hard[2], 0))
            for other_file, other in sentences.items():
                if other_file != file and other:
                    easy = max(other, key=lambda x: lexical(terms, x[2]))
                    chosen.append((articles[other_file].doc_id, easy[0], easy[2], 0))
            claims.append((claim, chosen, name in TEST_SETS))
    claim_vectors = pipeline.query_embedder.embed([c for c, _, _ in claims])
    for (claim, chosen, test), cv in zip(claims, claim_vectors, strict=True):
        terms = content_terms(claim)
        for doc, start, text, label in chosen:
            vec = vectors.get((doc, start))
            dense = float(cv @ vec) if vec is not None else float(cv @ pipeline.query_embedder.embed([text])[0])
            out.append(Pair(lexical(terms, text), dense, label, test))
    return out


def scores(y: np.ndarray, kept: np.ndarray) -> dict[str, float]:
    tp = float(np.sum(kept & (y == 1)))
    precision = tp / max(float(np.sum(kept)), 1.0)
    recall = tp / max(float(np.sum(y == 1)), 1.0)
    return {"precision": round(precision, 4), "recall": round(recall, 4), "pairs": int(len(y))}


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    from rag.config import Settings
    from rag.pipeline import SEEDS_DIR, Pipeline

    files = [EVAL / "qa.jsonl", *sorted(EVAL.glob("[0-9][0-9][0-9].jsonl"))]
    sets = [(f.stem, load_qa(f)) for f in files]
    with tempfile.TemporaryDirectory(prefix="newsrag-fit-") as tmp:
        pipeline = Pipeline(Settings(data_dir=Path(tmp) / "store"))
        pipeline.ingest([SEEDS_DIR])
        data = pairs(pipeline, sets)
    x = np.array([[p.lexical, p.dense] for p in data])
    y = np.array([p.label for p in data])
    test = np.array([p.test for p in data])
    model = LogisticRegression(class_weight="balanced").fit(x[~test], y[~test])
    prob = model.predict_proba(x)[:, 1]
    best, threshold = -1.0, 0.5
    for t in np.arange(0.05, 0.96, 0.01):
        s = scores(y[~test], prob[~test] >= t)
        f = 1.25 * s["precision"] * s["recall"] / max(0.25 * s["precision"] + s["recall"], 1e-9)
        if f > best:
            best, threshold = f, round(float(t), 2)
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, threshold):
        print(f"threshold {t:.2f}: dev {scores(y[~test], prob[~test] >= t)}, test {scores(y[test], prob[test] >= t)}")
    result = {
        "bias": round(float(model.intercept_[0]), 4),
        "lexical": round(float(model.coef_[0][0]), 4),
        "dense": round(float(model.coef_[0][1]), 4),
        "threshold": threshold,
        "fitted_on": "eval/sets/seeds/qa.jsonl and sets 001-104 (the seeds); make fit-support",
        "dev": scores(y[~test], prob[~test] >= threshold),
        "test": scores(y[test], prob[test] >= threshold) | {"sets": "seeds 105-112"},
    }
    WEIGHTS_FILE.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
