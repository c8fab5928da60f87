"""Selection: scored candidates → the sentences the answer quotes, and the span it leads with.

The likeliest sentence always; a further one (at most ``MAX_SENTENCES`` in all, ``MAX_CITED`` characters) when its
learned probability clears the model's ``more_min`` and ``more_share`` of the best one's and it does not repeat a
sentence already chosen. Where the question asks for a kind of entity (a date, a person, a number …) and the best
sentence holds one it does not already name, the answer leads with that span.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from index.annotate import Entity
from rag.answer.candidates import Candidate
from rag.answer.model import AnswerModel
from rag.answer.question import GROUPS, Question

MAX_SENTENCES = 3
#: The most characters an answer quotes (a demanding reader reads the answer, not the article).
MAX_CITED = 600
#: Two sentences sharing this share of their words say the same thing (a wire story stored twice).
REDUNDANT = 0.6

_WORD = re.compile(r"\w+")


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def redundant(a: str, b: str) -> bool:
    """Do two sentences share ``REDUNDANT`` of their words (Jaccard)?

    >>> redundant("The bill passed 98-2 on Tuesday.", "On Tuesday the bill passed 98-2."), redundant("A b.", "C d.")
    (True, False)
    """
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= REDUNDANT


def select(candidates: Sequence[Candidate], p: np.ndarray, model: AnswerModel, limit: int = MAX_SENTENCES) -> list[int]:
    """Indices of the candidates the answer quotes, best first."""
    if not len(p):
        return []
    order = [int(i) for i in np.argsort(-p, kind="stable")]
    chosen = [order[0]]
    cited = len(candidates[order[0]].text)
    for i in order[1:]:
        if len(chosen) >= limit or p[i] < model.more_min or p[i] < model.more_share * p[order[0]]:
            break
        if cited + len(candidates[i].text) > MAX_CITED:
            continue
        if any(redundant(candidates[i].text, candidates[j].text) for j in chosen):
            continue
        chosen.append(i)
        cited += len(candidates[i].text)
    return chosen


def reading_order(candidates: Sequence[Candidate], chosen: Sequence[int]) -> list[int]:
    """The chosen sentences grouped by article (the best one's article first), each article's in text order."""
    first: dict[str, int] = {}
    for rank, i in enumerate(chosen):
        first.setdefault(candidates[i].article.doc_id, rank)
    return sorted(chosen, key=lambda i: (first[candidates[i].article.doc_id], candidates[i].start))


def lead_span(q: Question, c: Candidate, named: frozenset[str]) -> Entity | None:
    """The entity of a kind the question asks for that ``c`` gives and the question does not name: the one
    nearest the question's words in the sentence.

    >>> from index.annotate import Entity
    >>> from rag.answer.question import analyse
    >>> from rag.types import ArticleInfo
    >>> s = "Ann Lee said the vote was held in Paris on Tuesday."
    >>> c = Candidate(ArticleInfo("d", "f", None, None, None), 0, len(s), s, 1, 1.0, "",
    ...               (Entity(0, 7, "PERSON"), Entity(34, 39, "GPE"), Entity(43, 50, "DATE")), 3)
    >>> lead_span(analyse("When was the vote held in Paris?"), c, frozenset({"paris"})).text(s)
    'Tuesday'
    """
    if not q.expects:
        return None
    labels = frozenset().union(*(GROUPS[g] for g in q.expects))
    asked = frozenset(q.words) | named
    found = [e for e in c.entities if e.label in labels and not _words(e.text(c.text)) <= asked]
    if not found:
        return None
    anchors = [m.start() for m in _WORD.finditer(c.text) if m.group().lower() in asked and len(m.group()) > 3]
    if not anchors:
        return found[0]
    return min(found, key=lambda e: min(abs(e.start - a) for a in anchors))
