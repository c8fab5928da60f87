"""How well could another ranker pick the answering sentence? ``python -m eval.rank_study``

    python -m eval.rank_study [--data-dir D] [--retrieval-cache F] [--cross-encoder CORPUS]

The answerer's weakest step is ranking: which of the retrieved sentences answers. This study fits rankers on the
same candidate rows ``make answer-model`` fits on (``eval.train.collect``) and scores each leave-one-corpus-out by
how often its first sentence (top-1) and any of its first three (top-3) hold the gold evidence, over the
answerable questions with at least one candidate:

- ``logistic``: the shipped model's learner (pointwise, every question weighing the same);
- ``softmax``: a listwise conditional logit on the same features (what maximises top-1 directly);
- ``lambdarank``: LightGBM's LambdaRank, when LightGBM is installed;
- ``+maxsim``: the logistic regression with three late-interaction features of the embedding model's token vectors
  (ColBERT's MaxSim, mean and IDF-weighted over the question's tokens, and the best three);
- ``+q*s``: the logistic regression with the element-wise product of question and sentence vectors (384 learned
  weights on the embedding's dimensions);
- ``--add-seeds``: the logistic regression with the seeds' set questions added to every fold's training rows;
- ``--quoting``: the whole answerer (``eval.train.fit``) leave-one-corpus-out with its citing thresholds forced
  (the best sentence only, a second when likely, always two, always three): answer correct, citation precision and
  characters cited of each;
- ``--reader-gguf PATH``: a generative model run by llama.cpp as a reader of each question's first five
  sentences by the logistic regression (leave-one-corpus-out), scored by how likely it finds the question after
  the sentence (query likelihood, as in UPR, Sachan et al. 2022) and by how much more likely it finds the sentence
  after the question than alone (pointwise mutual information); alone and blended with the logistic regression.
  Needs ``llama-cpp-python`` (``make llm-setup``) and about 0.3 s per sentence per score on two cores;
  ``--reader-limit`` reads only each corpus's first questions;
- ``--cross-encoder CORPUS``: a cross-encoder fine-tuned from the packaged MiniLM on the other corpora's questions
  (listwise loss, one epoch) and scored on ``CORPUS`` alone, then blended with the logistic regression: slow (about
  half an hour per corpus on a shared 2-core machine).

It reads only the dev corpora and writes nothing but what it prints. Its figures are in ``docs/answering.md``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

Scorer = Callable[["Row"], np.ndarray]


@dataclass
class Row:
    """One answerable question's candidates: features, labels and texts."""

    corpus: str
    question: str
    x: np.ndarray
    y: np.ndarray
    texts: list[str]
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def rows_of(examples: Sequence) -> list[Row]:
    return [Row(e.corpus, e.query.question, e.x, e.labels,
                [c.text for c in e.backend.score(e.query, e.passages).candidates])
            for e in examples if e.item.answerable and not e.off_topic and len(e.labels)]


def _standardise(train: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    x = np.vstack(train)
    mean, scale = x.mean(0), x.std(0)
    scale[scale < 1e-9] = 1.0
    return mean, scale


def _weights(train: Sequence[Row]) -> np.ndarray:
    per_corpus = Counter(r.corpus for r in train)
    w = np.array([1.0 / per_corpus[r.corpus] for r in train])
    return w * len(train) / w.sum()


def logistic(train: Sequence[Row], key: str | None = None, c: float = 1.0) -> Scorer:
    from sklearn.linear_model import LogisticRegression

    def features(r: Row) -> np.ndarray:
        return np.hstack([r.x, r.extra[key]]) if key else r.x

    mean, scale = _standardise([features(r) for r in train])
    x = np.vstack([(features(r) - mean) / scale for r in train])
    y = np.concatenate([r.y for r in train])
    w = np.concatenate([np.full(len(r.y), q / len(r.y)) for r, q in zip(train, _weights(train), strict=True)])
    clf = LogisticRegression(C=c, max_iter=3000).fit(x, y, sample_weight=w)
    return lambda r: (features(r) - mean) / scale @ clf.coef_[0]


def softmax(train: Sequence[Row], l2: float = 10.0) -> Scorer:
    """A conditional logit: per question, a softmax over its candidates, fitted to the gold sentences' share."""
    from scipy.optimize import minimize

    mean, scale = _standardise([r.x for r in train])
    useful = [(r, q) for r, q in zip(train, _weights(train), strict=True) if r.y.any()]
    xs = [(r.x - mean) / scale for r, _ in useful]
    targets = [r.y / r.y.sum() for r, _ in useful]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = 0.5 * l2 * w @ w, l2 * w
        for x, t, (_, q) in zip(xs, targets, useful, strict=True):
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            value -= q * float(t @ np.log(p + 1e-12))
            grad = grad - q * (x.T @ (t - p))
        return value, grad

    w = minimize(loss, np.zeros(xs[0].shape[1]), jac=True, method="L-BFGS-B").x
    return lambda r: (r.x - mean) / scale @ w


def lambdarank(train: Sequence[Row]) -> Scorer:
    import lightgbm

    model = lightgbm.LGBMRanker(n_estimators=200, learning_rate=0.05, num_leaves=15, verbose=-1)
    model.fit(np.vstack([r.x for r in train]), np.concatenate([r.y for r in train]).astype(int),
              group=[len(r.y) for r in train])
    return lambda r: np.asarray(model.predict(r.x))


def add_embedding_features(rows: Sequence[Row], model_path: str) -> None:
    """``+maxsim`` and ``+q*s`` features, from the packaged model's token and sentence vectors."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path, device="cpu")
    texts = sorted({t for r in rows for t in r.texts} | {r.question for r in rows})
    sentence = dict(zip(texts, model.encode(texts, batch_size=64, normalize_embeddings=True), strict=True))
    tokens = {}
    ids = model.tokenizer(texts, truncation=True, max_length=256)["input_ids"]
    for text, vectors, token_ids in zip(texts, model.encode(texts, output_value="token_embeddings", batch_size=64),
                                        ids, strict=True):
        v = np.asarray(vectors)[1:-1]
        tokens[text] = (v / np.linalg.norm(v, axis=1, keepdims=True), token_ids[1:-1])
    df = Counter(i for _, token_ids in tokens.values() for i in set(token_ids))
    idf = {i: math.log(len(tokens) / (1 + n)) for i, n in df.items()}
    for r in rows:
        q, q_ids = tokens[r.question]
        w = np.array([max(idf.get(i, 0.0), 0.0) for i in q_ids])
        w = w / (w.sum() + 1e-9)
        best = [(q @ tokens[t][0].T).max(1) for t in r.texts]
        r.extra["maxsim"] = np.array([[b.mean(), b @ w, np.sort(b)[-3:].mean()] for b in best])
        r.extra["q*s"] = np.array([sentence[t] for t in r.texts]) * sentence[r.question]


def cross_encoder(train: Sequence[Row], model_path: str, epochs: int = 1, seed: int = 0) -> Scorer:
    """A cross-encoder fine-tuned from the packaged bi-encoder's weights (a new one-logit head) with a listwise
    loss: each step, one question's gold sentences against up to seven of its other candidates."""
    import random

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=1)
    optimiser = torch.optim.AdamW(model.parameters(), lr=4e-5, weight_decay=0.01)

    def logits(question: str, texts: Sequence[str]) -> torch.Tensor:
        batch = tokenizer([question] * len(texts), list(texts), truncation=True, max_length=160, padding=True,
                          return_tensors="pt")
        return model(**batch).logits[:, 0]

    useful = [r for r in train if r.y.any() and not r.y.all()]
    from tqdm import tqdm

    for _ in range(epochs):
        rng.shuffle(useful)
        model.train()
        for r in tqdm(useful, desc="cross-encoder", unit="question"):
            gold = [i for i, v in enumerate(r.y) if v]
            other = [i for i, v in enumerate(r.y) if not v]
            pick = gold[:3] + rng.sample(other, min(7, len(other)))
            target = torch.tensor([float(r.y[i]) for i in pick])
            loss = -(target / target.sum() * torch.log_softmax(logits(r.question, [r.texts[i] for i in pick]), 0)).sum()
            loss.backward()
            optimiser.step()
            optimiser.zero_grad()
    model.eval()

    def score(r: Row) -> np.ndarray:
        with torch.no_grad():
            return logits(r.question, r.texts).numpy()

    return score


class GgufReader:
    """Log-probabilities of a text after a prompt, under a GGUF model run by llama.cpp on the CPU."""

    def __init__(self, path: str) -> None:
        from llama_cpp import Llama

        self.llm = Llama(path, n_ctx=1024, logits_all=True, verbose=False)

    def logprobs(self, prompt: str, text: str) -> np.ndarray:
        head = self.llm.tokenize(prompt.encode(), add_bos=True)
        tokens = (head + self.llm.tokenize((" " + text).encode(), add_bos=False))[: self.llm.n_ctx() - 8]
        self.llm.reset()
        self.llm.eval(tokens)
        at = np.arange(len(head) - 1, len(tokens) - 1)
        logits = np.asarray(self.llm.scores[at], dtype=np.float64)
        peak = logits.max(1)
        norm = peak + np.log(np.exp(logits - peak[:, None]).sum(1))
        return logits[np.arange(len(at)), np.asarray(tokens[len(head):])] - norm

    def query_likelihood(self, sentence: str, question: str) -> float:
        """Mean log-probability of the question's tokens after the sentence."""
        return float(self.logprobs(f"Passage: {sentence}\nA question this passage answers:", question).mean())

    def pmi(self, sentence: str, question: str) -> float:
        """How much the question raises the sentence's log-probability, summed over its tokens."""
        return float((self.logprobs(f"Question: {question}\nAnswer:", sentence)
                      - self.logprobs("Answer:", sentence)).sum())


def reader_study(rows: Sequence[Row], path: str, limit: int | None, first: int = 5) -> None:
    """Top-1 over each question's first ``first`` sentences by the leave-one-corpus-out logistic regression,
    re-ranked by the reader's scores alone and blended (z-scores within the question) with the regression's."""
    from tqdm import tqdm

    reader = GgufReader(path)
    corpora = sorted({r.corpus for r in rows})
    kept = []
    for held in corpora:
        scorer = logistic([r for r in rows if r.corpus != held])
        for r in [r for r in rows if r.corpus == held][:limit]:
            regression = scorer(r)
            top = np.argsort(-regression, kind="stable")[:first]
            kept.append((r, top, regression[top]))
    scores: dict[str, list[np.ndarray]] = {name: [] for name in ("query likelihood", "pmi")}
    for r, top, _ in tqdm(kept, desc="reader", unit="question"):
        scores["query likelihood"].append(np.array([reader.query_likelihood(r.texts[i], r.question) for i in top]))
        scores["pmi"].append(np.array([reader.pmi(r.texts[i], r.question) for i in top]))
    for name, values in scores.items():
        for weight in (0.0, 0.25, 0.5, 1.0, None):
            per: dict[str, list[bool]] = {}
            for (r, top, base), v in zip(kept, values, strict=True):
                s = _z(v) if weight is None else _z(base) + weight * _z(v)
                per.setdefault(r.corpus, []).append(bool(r.y[top[int(np.argmax(s))]] > 0))
            label = "alone" if weight is None else f"blend {weight}"
            mean = round(float(np.mean([np.mean(v) for v in per.values()])), 3)
            print(f"  {name:16} {label:10} mean top-1 {mean}  "
                  + "  ".join(f"{c} {np.mean(v):.3f} ({len(v)})" for c, v in per.items()), flush=True)


def hits(scorer: Scorer, test: Sequence[Row]) -> tuple[float, float]:
    """Top-1 and top-3: the share of questions whose first (any of the first three) sentence is gold."""
    orders = [np.argsort(-scorer(r), kind="stable") for r in test]
    return (round(float(np.mean([r.y[o[0]] > 0 for r, o in zip(test, orders, strict=True)])), 3),
            round(float(np.mean([r.y[o[:3]].any() for r, o in zip(test, orders, strict=True)])), 3))


def leave_one_out(rows: Sequence[Row], fit: Callable[[Sequence[Row]], Scorer]) -> dict[str, tuple[float, float]]:
    corpora = sorted({r.corpus for r in rows})
    return {held: hits(fit([r for r in rows if r.corpus != held]), [r for r in rows if r.corpus == held])
            for held in corpora}


def quoting(examples: Sequence, names: Sequence[str]) -> None:
    """Answer correct / citation precision / characters cited, leave-one-corpus-out, for each way of quoting."""
    import dataclasses
    import importlib

    from eval.train import answer_all, figures, fit

    select = importlib.import_module("rag.answer.select")
    ways = {"best only": (1.01, 0.3, 1), "a second when likely": (0.5, 0.7, 2), "always two": (0.0, 0.0, 2),
            "always three": (0.0, 0.0, 3)}
    for held in names:
        model = fit([e for e in examples if e.corpus != held])
        test = [e for e in examples if e.corpus == held and e.item.answerable and not e.off_topic]
        cells = []
        for way, (more_min, more_share, limit) in ways.items():
            default = select.select.__defaults__
            select.select.__defaults__ = (limit,)
            try:
                f = figures(answer_all(dataclasses.replace(model, threshold=0.0, more_min=more_min,
                                                           more_share=more_share), test))
            finally:
                select.select.__defaults__ = default
            cells.append(f"{way} {f['answer_correct']:.2f}/{f['citation_precision']:.2f}/{f['cited_chars']:.0f}")
        print(f"  quoting, {held}: " + " | ".join(cells), flush=True)


def _z(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / (v.std() + 1e-9)


def main(argv: Sequence[str] | None = None) -> int:
    from eval.corpus import corpus_names, load_corpus
    from eval.train import collect, corpus_arguments
    from index.embed import resolve_model
    from rag.config import Settings

    parser = argparse.ArgumentParser(prog="python -m eval.rank_study", description=__doc__.split("\n\n")[0])
    corpus_arguments(parser)
    parser.add_argument("--add-seeds", action="store_true", help="also train on the seeds' questions")
    parser.add_argument("--quoting", action="store_true", help="also measure how many sentences to quote")
    parser.add_argument("--cross-encoder", metavar="CORPUS", default=None,
                        help="also fine-tune a cross-encoder on the other dev corpora and score it on this one")
    parser.add_argument("--reader-gguf", metavar="PATH", default=None,
                        help="also re-rank the first five sentences with this GGUF model as a reader (llama.cpp)")
    parser.add_argument("--reader-limit", type=int, default=None, help="read only each corpus's first N questions")
    args = parser.parse_args(argv)

    names = [n for n in corpus_names() if load_corpus(n).role == "dev"]
    examples = collect(names, args.data, args.data_dir, cache=args.retrieval_cache)
    rows = rows_of(examples)
    model_path = resolve_model(Settings().embed_model)
    print(f"{len(rows)} answerable questions with candidates; leave-one-corpus-out (top-1, top-3):")
    if args.reader_gguf:
        reader_study(rows, args.reader_gguf, args.reader_limit)
        return 0
    add_embedding_features(rows, model_path)
    learners: dict[str, Callable[[Sequence[Row]], Scorer]] = {
        "logistic": logistic, "softmax": softmax, "+maxsim": lambda t: logistic(t, "maxsim"),
        "+q*s (C=0.1)": lambda t: logistic(t, "q*s", c=0.1)}
    try:
        import lightgbm  # noqa: F401

        learners["lambdarank"] = lambdarank
    except ImportError:
        pass
    for name, fit in learners.items():
        result = leave_one_out(rows, fit)
        mean = round(float(np.mean([v[0] for v in result.values()])), 3)
        print(f"  {name:14} mean top-1 {mean}  " + "  ".join(f"{c} {v[0]}/{v[1]}" for c, v in result.items()))
    if args.add_seeds:
        cache = args.retrieval_cache.with_name(f"seeds-{args.retrieval_cache.name}") if args.retrieval_cache else None
        seeds = rows_of(collect(["seeds"], args.data, args.data_dir, cache=cache))
        result = {held: hits(logistic([r for r in rows if r.corpus != held] + seeds),
                             [r for r in rows if r.corpus == held]) for held in names}
        mean = round(float(np.mean([v[0] for v in result.values()])), 3)
        print(f"  {'+seeds':14} mean top-1 {mean}  " + "  ".join(f"{c} {v[0]}/{v[1]}" for c, v in result.items()))
    if args.quoting:
        quoting(examples, names)
    if held := args.cross_encoder:
        train = [r for r in rows if r.corpus != held]
        test = [r for r in rows if r.corpus == held]
        ce, lr = cross_encoder(train, model_path), logistic(train)
        scores = {id(r): ce(r) for r in test}
        print(f"  cross-encoder on {held}: alone {hits(lambda r: scores[id(r)], test)}")
        for a in (0.25, 0.5, 1.0):
            def blended(r: Row, a: float = a) -> np.ndarray:
                return _z(lr(r)) + a * _z(scores[id(r)])

            blend = hits(blended, test)
            print(f"    blended with logistic (weight {a}): {blend}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
