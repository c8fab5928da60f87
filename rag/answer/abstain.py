"""Abstention: does anything retrieved answer the question? One row of question-level signals, read by the
learned ``answerable`` model: how likely the best sentences are to be evidence, how close the best ones come to
the question, how much of what the question names or asks about is nowhere in what was retrieved, and whether
the kind of answer its wording asks for is there at all.
"""

from __future__ import annotations

import numpy as np

from rag.answer.features import FEATURES
from rag.answer.question import Question

QUESTION_FEATURES = (
    "p_best", "p_second", "p_mean_top3", "dense_best", "lex_best", "lex_before_best", "focus_best",
    "names_in_context_best", "names_anywhere", "expected_hit_any", "expects_kind", "speech_asked_given_any",
    "yes_no", "in_conversation",
)

_COL = {name: i for i, name in enumerate(FEATURES)}


def question_features(q: Question, x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The ``QUESTION_FEATURES`` row of a question, from its candidates' features ``x`` and probabilities ``p``."""
    row = np.zeros(len(QUESTION_FEATURES))
    if not len(p):
        return row
    order = np.argsort(-p)
    best = order[0]

    def col(name: str) -> np.ndarray:
        return x[:, _COL[name]]

    top3 = p[order[:3]]
    values = {
        "p_best": p[best], "p_second": p[order[1]] if len(p) > 1 else 0.0, "p_mean_top3": float(top3.mean()),
        "dense_best": col("dense").max(), "lex_best": col("lex").max(), "lex_before_best": col("lex_before").max(),
        "focus_best": col("focus").max(), "names_in_context_best": col("names_in_context")[best],
        "names_anywhere": col("names_in_context").max(), "expected_hit_any": col("expected_hit")[order[:3]].max(),
        "expects_kind": float(bool(q.expects)),
        "speech_asked_given_any": col("speech_asked_and_given")[order[:3]].max(),
        "yes_no": float(q.yes_no), "in_conversation": col("in_conversation").max(),
    }
    for i, name in enumerate(QUESTION_FEATURES):
        row[i] = float(values[name])
    return row
