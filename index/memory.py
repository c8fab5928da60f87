"""Sentence memory: the vectors and entities of the sentences an ingest has read, so that a sentence met again is
read by neither model twice."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np


class SentenceMemory:
    """The vectors and entities of the last ``size`` distinct sentences an ingestor computed, so that a sentence that
    comes again (a newsroom's byline, copyright line or comment thread, the same wire story under two headlines) is
    read by neither model twice. A third of the sentences of ``../shared/data`` are such repeats. A text's entities
    and, in int8, its vector do not depend on the texts read beside it, so what is stored is what reading it again
    would give (in float32, to within 1e-6)."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._known: OrderedDict[str, tuple[np.ndarray, str]] = OrderedDict()

    def missing(self, texts: list[str]) -> list[str]:
        """The distinct texts of ``texts`` not known, in order."""
        return [t for t in dict.fromkeys(texts) if t not in self._known]

    def recall(self, texts: list[str], new: list[str], vectors: np.ndarray,
               entities: list[str]) -> tuple[np.ndarray, list[str]]:
        """The vectors (a row each) and encoded entities of ``texts``: those of ``new`` as just computed, the others
        as known (``missing`` said which). The new ones are then kept, the least recently used forgotten."""
        computed = dict(zip(new, zip(vectors, entities, strict=True), strict=True))
        rows = [computed[t] if t in computed else self._known[t] for t in texts]
        for text in dict.fromkeys(texts):
            if text in computed:
                self._known[text] = computed[text]
            self._known.move_to_end(text)
        while len(self._known) > self.size:
            self._known.popitem(last=False)
        if not rows:  # a group of chunks without sentences
            return np.zeros((0, vectors.shape[1]), dtype=np.float32), []
        return np.stack([v for v, _ in rows]), [e for _, e in rows]
