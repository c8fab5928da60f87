"""The ranking study's learners and measure, on made-up candidate rows where one feature tells the gold sentence."""

from __future__ import annotations

import numpy as np
import pytest

from eval.rank_study import Row, hits, leave_one_out, logistic, softmax


def made_up_rows(n: int = 60, seed: int = 0) -> list[Row]:
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(n):
        x = rng.normal(size=(8, 3))
        gold = int(rng.integers(8))
        x[gold, 1] += 2.5  # the second feature tells the gold sentence; the others are noise
        y = np.zeros(8)
        y[gold] = 1.0
        rows.append(Row(f"corpus{q % 3}", f"question {q}", x, y, [f"sentence {i}" for i in range(8)]))
    return rows


@pytest.mark.parametrize("learner", [logistic, softmax])
def test_a_learner_finds_the_feature_that_tells_the_gold_sentence(learner):
    result = leave_one_out(made_up_rows(), learner)
    assert set(result) == {"corpus0", "corpus1", "corpus2"}
    assert all(top1 >= 0.7 and top3 >= top1 for top1, top3 in result.values()), result


def test_top_1_and_top_3_count_the_questions_whose_first_sentences_are_gold():
    rows = made_up_rows(4)
    by_gold = {id(r): r.y.copy() for r in rows}
    rows[0].y[:] = 0  # a question no sentence answers counts as a miss
    assert hits(lambda r: by_gold[id(r)], rows) == (0.75, 0.75)
