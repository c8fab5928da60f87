"""The learned weights: logistic models read from ``model.json``, which ``make answer-model`` rebuilds.

Two models, each a standardised linear score squashed by the logistic function:
- ``sentence``: the probability that a candidate sentence is evidence for the answer (``features.FEATURES``);
- ``answerable``: the probability that the articles answer the question at all (``abstain.QUESTION_FEATURES``),
  with the abstention ``threshold`` calibrated on the dev corpora's questions.
Both were fitted with scikit-learn on the dev corpora only (``eval/train.py``); answering needs numpy alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import NewsragError

MODEL_PATH = Path(__file__).resolve().parent / "model.json"


@dataclass(frozen=True)
class Linear:
    """``sigmoid(((x - mean) / scale) @ coef + intercept)`` over the named features."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, x: np.ndarray, names: tuple[str, ...] | None = None) -> np.ndarray:
        """The probability of each row of ``x``, whose columns are ``names`` (by default the model's features);
        the model reads the columns it was fitted on, so features added since do not break it."""
        if names is not None and names != self.features:
            x = x[:, self._columns(names)]
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def _columns(self, names: tuple[str, ...]) -> list[int]:
        missing = [f for f in self.features if f not in names]
        if missing:
            raise NewsragError(f"The answer model reads features this code no longer makes ({', '.join(missing)}); "
                               "rebuild it with `make answer-model`.")
        return [names.index(f) for f in self.features]

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": round(float(self.intercept), 6)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Linear:
        return cls(tuple(d["features"]), np.asarray(d["mean"], float), np.asarray(d["scale"], float),
                   np.asarray(d["coef"], float), float(d["intercept"]))


@dataclass(frozen=True)
class AnswerModel:
    sentence: Linear
    answerable: Linear
    #: Under this probability of being answerable, the answer abstains.
    threshold: float
    #: A further sentence is cited when its probability is at least this (and this share of the best one's).
    more_min: float
    more_share: float
    #: What it was fitted on and how it scored in cross-validation (read by people, not by the code).
    notes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"sentence": self.sentence.to_dict(), "answerable": self.answerable.to_dict(),
                "threshold": round(self.threshold, 6), "more_min": round(self.more_min, 6),
                "more_share": round(self.more_share, 6), "notes": self.notes}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AnswerModel:
        return cls(Linear.from_dict(d["sentence"]), Linear.from_dict(d["answerable"]), float(d["threshold"]),
                   float(d["more_min"]), float(d["more_share"]), d.get("notes", {}))

    def save(self, path: Path = MODEL_PATH) -> Path:
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        return path


@cache
def load_model(path: Path = MODEL_PATH) -> AnswerModel:
    """The model at ``path``; a ``NewsragError`` saying how to rebuild it when it is missing or unreadable."""
    try:
        return AnswerModel.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise NewsragError(f"Cannot read the answer model {path} ({exc}); "
                           "rebuild it with `make answer-model`.") from None
