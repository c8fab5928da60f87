"""Fit the answer model on the dev corpora: ``make answer-model`` (``python -m eval.train``).

    python -m eval.train [--data-dir D] [--data ../shared/data] [--out rag/answer/model.json] [--cv-only]

1. Each dev corpus is ingested into its own store beside the seeds (as ``newsrag eval --corpus`` does, and
   reusing its store), and every question is condensed and retrieved as ``Pipeline.ask`` would.
2. Each candidate sentence of the retrieved passages gets a row of ``rag.answer.features.FEATURES`` and a label:
   1 when it overlaps the question's gold evidence (``eval.metrics.overlaps``), else 0.
3. The ``sentence`` model is a logistic regression on those rows, every question weighing the same and every
   corpus the same. The ``answerable`` model is one on each question's ``QUESTION_FEATURES`` (computed from
   cross-fitted sentence probabilities, so it learns from probabilities like those it will see), labelled by
   whether the question is answerable.
4. Thresholds are chosen on the cross-fitted answers: a further sentence is cited when that raises answer
   correctness plus citation precision most; the answer abstains under the highest answerability threshold that
   keeps false abstentions at or under ``FALSE_ABSTENTION_BUDGET`` of the answerable questions.
5. Leave-one-corpus-out: each dev corpus is answered by a model fitted on the other ones, and its figures are
   printed and written into the model's notes: what a new user's corpus can expect.

Only the dev corpora are read; the test corpus never is.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval import metrics as m
from eval.run import QAItem

#: The answer abstains under the highest threshold that keeps false abstentions at or under this share.
FALSE_ABSTENTION_BUDGET = 0.04
#: Inverse regularisation strength of both logistic regressions.
C = 1.0
#: Questions of the other dev corpora asked of each corpus's library, as off-topic questions it cannot answer: the
#: dev sets' own unanswerable questions are all about their articles' people and events, and a model fitted on
#: them alone never saw a question about something else entirely.
OFF_TOPIC = 40


@dataclass
class Example:
    corpus: str
    item: QAItem
    query: Any
    passages: list[Any]
    x: np.ndarray
    labels: np.ndarray
    #: The extractive backend of the corpus's own pipeline (its store's vectors, entities and word counts).
    backend: Any
    #: A question of another corpus asked of this one (``OFF_TOPIC``): fitted on, never reported.
    off_topic: bool = False


def collect(corpora: Sequence[str], data_root: Path, data_dir: Path | None, k: int = 5,
            cache: Path | None = None) -> list[Example]:
    """Retrieve every question of the corpora and label its candidate sentences. With ``cache``, the retrieval
    (query and passages of each question) is read from that file when it is there and written to it when not:
    features can then be changed and refitted without retrieving again."""
    import pickle

    from eval.corpus import load_corpus
    from eval.suite import corpus_pipeline
    from rag.config import Settings
    from rag.pipeline import Pipeline

    main = Pipeline(Settings(data_dir=data_dir) if data_dir else Settings())
    retrieved: dict[tuple[str, str], Any] = pickle.loads(cache.read_bytes()) if cache and cache.is_file() else {}
    fresh, known = not retrieved, len(retrieved)
    out: list[Example] = []
    import random

    items = {name: load_corpus(name).items() for name in corpora}
    for name in corpora:
        corpus = load_corpus(name)
        pipeline, _, report = corpus_pipeline(main, corpus, data_root)
        print(f"{name}: {report.summary()}", file=sys.stderr)
        backend = pipeline.backend("extractive")
        for item in corpus.items():
            if (name, item.id) in retrieved:
                query, passages = retrieved[(name, item.id)]
            else:
                history = list(item.history)
                previous = pipeline.previous_answer(history, k) if history else None
                query, passages = pipeline.retrieve(item.question, history, k, previous=previous)
                retrieved[(name, item.id)] = (query, passages)
            scored = backend.score(query, passages)
            evidence = [e.text for e in item.evidence]
            labels = np.array([float(any(m.overlaps(c.text, e) for e in evidence)) for c in scored.candidates])
            out.append(Example(name, item, query, passages, scored.features, labels, backend))
        others = [i for other, its in items.items() if other != name for i in its if not i.history]
        for item in random.Random(name).sample(others, min(OFF_TOPIC, len(others))):
            item = QAItem(f"off-topic/{item.id}", "unanswerable", item.question)
            if (name, item.id) not in retrieved:
                retrieved[(name, item.id)] = pipeline.retrieve(item.question, [], k)
            query, passages = retrieved[(name, item.id)]
            scored = backend.score(query, passages)
            out.append(Example(name, item, query, passages, scored.features, np.zeros(len(scored.candidates)),
                               backend, off_topic=True))
        print(f"{name}: {sum(e.corpus == name for e in out)} questions", file=sys.stderr)
    if cache and (fresh or len(retrieved) > known):
        cache.write_bytes(pickle.dumps(retrieved))
    return out


def fit_linear(x: np.ndarray, y: np.ndarray, w: np.ndarray, features: Sequence[str]) -> Any:
    """A standardised logistic regression, as ``rag.answer.model.Linear``."""
    from sklearn.linear_model import LogisticRegression

    from rag.answer.model import Linear

    mean = np.average(x, axis=0, weights=w)
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
    scale[scale < 1e-9] = 1.0
    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit((x - mean) / scale, y, sample_weight=w)
    return Linear(tuple(features), mean, scale, clf.coef_[0].copy(), float(clf.intercept_[0]))


def fit_sentence(examples: Sequence[Example]) -> Any:
    from rag.answer.features import FEATURES

    rows = [e for e in examples if e.item.answerable and len(e.labels)]
    per_corpus = {c: sum(e.corpus == c for e in rows) for c in {e.corpus for e in rows}}
    x = np.vstack([e.x for e in rows])
    y = np.concatenate([e.labels for e in rows])
    w = np.concatenate([np.full(len(e.labels), 1.0 / len(e.labels) / per_corpus[e.corpus]) for e in rows])
    return fit_linear(x, y, w * len(rows) / w.sum(), FEATURES)


def question_rows(examples: Sequence[Example], sentence: Any) -> np.ndarray:
    from rag.answer.abstain import question_features
    from rag.answer.question import analyse

    return np.vstack([question_features(analyse(e.query.question, e.query.context), e.x,
                                        sentence.probability(e.x) if len(e.labels) else np.zeros(0))
                      for e in examples])


def fit_answerable(examples: Sequence[Example], rows: np.ndarray) -> Any:
    from rag.answer.abstain import QUESTION_FEATURES

    per_corpus = {c: sum(e.corpus == c for e in examples) for c in {e.corpus for e in examples}}
    y = np.array([float(e.item.answerable) for e in examples])
    w = np.array([1.0 / per_corpus[e.corpus] for e in examples])
    return fit_linear(rows, y, w * len(examples) / w.sum(), QUESTION_FEATURES)


def answer_all(model: Any, examples: Sequence[Example]) -> list[dict[str, Any]]:
    """Each example answered with ``model`` by its corpus's backend (from the retrieval collected), scored as the
    eval runner scores it."""
    from eval.run import score_item
    from rag.verify import verify

    rows = []
    for e in examples:
        e.backend.model, e.backend.threshold = model, model.threshold
        answer = verify(e.backend.answer(e.query, e.passages), e.passages)
        rows.append({**score_item(e.item, answer, 5, 0.0), "corpus": e.corpus, "off_topic": e.off_topic,
                     "answerable_p": answer.trace.get("answerable", 1.0)})
    return rows


def figures(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The issue's figures over score rows: answer correct, citation precision, evidence cited, unanswerable
    abstained, false abstentions (share of answerable), cited characters; off-topic questions apart."""
    off = [r for r in rows if r.get("off_topic")]
    rows = [r for r in rows if not r.get("off_topic")]
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    return {
        "questions": len(rows),
        "answer_correct": round(m.mean([float(bool(r["correct"]) and not r["abstained"]) for r in ans]), 4),
        "citation_precision": round(m.mean([float(r["citation_precision"] or 0) for r in ans]), 4),
        "evidence_cited": round(m.mean([float(r["citation_recall"] or 0) for r in ans]), 4),
        "unanswerable_abstained": round(m.mean([float(r["abstained"]) for r in una]), 4) if una else 0.0,
        "false_abstentions": round(m.mean([float(r["abstained"]) for r in ans]), 4),
        "cited_chars": round(m.mean([float(r["cited_chars"]) for r in ans]), 1),
        "off_topic_abstained": round(m.mean([float(r["abstained"]) for r in off]), 4) if off else 0.0,
    }


def choose_thresholds(model: Any, examples: Sequence[Example]) -> Any:
    """``more_min``/``more_share`` maximising answer correctness + citation precision (never abstaining), then
    the abstention threshold within ``FALSE_ABSTENTION_BUDGET``."""
    best, best_value = model, -1.0
    for more_min in (0.2, 0.3, 0.4, 0.5, 0.6, 1.01):
        for more_share in (0.3, 0.5, 0.7, 0.9):
            if more_min > 1 and more_share != 0.3:
                continue
            trial = dataclasses.replace(model, threshold=0.0, more_min=more_min, more_share=more_share)
            f = figures(answer_all(trial, [e for e in examples if e.item.answerable]))
            value = f["answer_correct"] + f["citation_precision"]
            if value > best_value + 1e-9:
                best, best_value = trial, value
    rows = answer_all(best, examples)
    answerable_p = sorted(r["answerable_p"] for r in rows if r["answerable"])
    allowed = int(FALSE_ABSTENTION_BUDGET * len(answerable_p))
    threshold = float(answerable_p[allowed]) - 1e-6 if answerable_p else 0.0
    return dataclasses.replace(best, threshold=max(threshold, 0.0))


def fit(examples: Sequence[Example]) -> Any:
    """The whole model fitted on ``examples``: sentence model, answerable model on cross-fitted rows, thresholds."""
    from rag.answer.model import AnswerModel

    corpora = sorted({e.corpus for e in examples})
    sentence = fit_sentence(examples)
    # the answerable model learns from sentence probabilities of a model that did not see the question
    rows = np.zeros((len(examples), 0))
    parts = []
    for held in corpora:
        inner = fit_sentence([e for e in examples if e.corpus != held]) if len(corpora) > 1 else sentence
        idx = [i for i, e in enumerate(examples) if e.corpus == held]
        parts.append((idx, question_rows([examples[i] for i in idx], inner)))
    rows = np.zeros((len(examples), parts[0][1].shape[1]))
    for idx, r in parts:
        rows[idx] = r
    answerable = fit_answerable(examples, rows)
    model = AnswerModel(sentence, answerable, threshold=0.0, more_min=1.01, more_share=0.3)
    return choose_thresholds(model, examples)


def cross_validate(examples: Sequence[Example]) -> dict[str, dict[str, float]]:
    """Each corpus answered by a model fitted on the other ones."""
    out = {}
    for held in sorted({e.corpus for e in examples}):
        model = fit([e for e in examples if e.corpus != held])
        out[held] = figures(answer_all(model, [e for e in examples if e.corpus == held]))
        print(f"  held out {held}: {out[held]}", file=sys.stderr)
    return out


def corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a command that retrieves the dev corpora's questions (this one, ``eval.rank_study``)."""
    from eval.corpus import DEFAULT_DATA_ROOT

    parser.add_argument("--data-dir", type=Path, default=None, help="newsrag's data folder [.newsrag]")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_ROOT, help="where the corpora's articles are")
    parser.add_argument("--retrieval-cache", type=Path, default=None,
                        help="a file keeping each question's retrieval between runs (while features change)")


def main(argv: Sequence[str] | None = None) -> int:
    from eval.corpus import corpus_names, load_corpus, missing_data
    from rag.answer.model import MODEL_PATH

    parser = argparse.ArgumentParser(prog="python -m eval.train", description=__doc__.split("\n\n")[0])
    corpus_arguments(parser)
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="the model file to write")
    parser.add_argument("--cv-only", action="store_true", help="only cross-validate; write nothing")
    parser.add_argument("--corpora", default="dev", help="'dev' or names joined by commas (never the test one)")
    args = parser.parse_args(argv)

    names = [n for n in corpus_names() if load_corpus(n).role == "dev"] if args.corpora == "dev" else \
        args.corpora.split(",")
    roles = {load_corpus(n).role for n in names}
    if "test" in roles:
        parser.error("the test corpus is never fitted on")
    if not args.cv_only and "validation" in roles:
        parser.error("validation corpora are never fitted on (with --cv-only, they may be cross-validated)")
    for n in names:
        if message := missing_data(load_corpus(n), args.data):
            print(message, file=sys.stderr)
            return 1
    examples = collect(names, args.data, args.data_dir, cache=args.retrieval_cache)
    print("leave-one-corpus-out:", file=sys.stderr)
    cv = cross_validate(examples)
    if args.cv_only:
        return 0
    model = fit(examples)
    notes = {"fitted_on": {n: sum(e.corpus == n for e in examples) for n in names},
             "leave_one_corpus_out": cv, "command": "make answer-model",
             "fitted_on_all": figures(answer_all(model, examples))}
    model = dataclasses.replace(model, notes=notes)
    model.save(args.out)
    print(f"wrote {args.out}: threshold {model.threshold:.3f}, more_min {model.more_min}, "
          f"more_share {model.more_share}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
