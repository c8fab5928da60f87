"""Eval metrics: pure functions over strings and numbers, each with a worked example.

Text is compared after ``normalise``: case-insensitive, whitespace collapsed, curly quotes made
straight. Evidence is matched by text (containment), never by chunk id, so the eval set survives
any change of chunking.

Conventions for empty input (tested in ``tests/test_metrics.py``): a condition over *every* gold
string holds vacuously when there is none (recall 1.0, an answer with no key phrases is correct);
a share of *nothing produced* is 0.0 (citation precision of an answer with no citations); a rank
that is never reached gives a reciprocal rank of 0.0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from difflib import SequenceMatcher

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"'})
_SPACE = re.compile(r"\s+")

#: Two texts overlap when they share a run of at least this many characters ...
OVERLAP_CHARS = 40
#: ... or a run at least this share of the shorter one.
OVERLAP_SHARE = 0.6


def normalise(text: str) -> str:
    """Lower-case, straighten curly quotes, collapse whitespace.

    >>> normalise("  \u201cCrimea\u201d  is\\n PART ")
    '"crimea" is part'
    """
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip().lower()


def contains(haystack: str, needle: str) -> bool:
    """``needle`` occurs in ``haystack`` after normalisation (an empty needle never matches).

    >>> contains("It passed the House on Tuesday  419-3.", "tuesday 419-3")
    True
    """
    n = normalise(needle)
    return bool(n) and n in normalise(haystack)


# -- retrieval -------------------------------------------------------------------------------------


def evidence_found(evidence: Sequence[str], passages: Sequence[str]) -> list[bool]:
    """For each evidence string, whether some passage contains it.

    >>> evidence_found(["a b", "z"], ["x a  b y", "c"])
    [True, False]
    """
    return [any(contains(p, e) for p in passages) for e in evidence]


def recall_at_k(evidence: Sequence[str], passages: Sequence[str], k: int) -> float:
    """1.0 when every evidence string is contained in one of the top-``k`` passages, else 0.0.

    >>> recall_at_k(["a b", "c"], ["a b", "x", "c"], k=2), recall_at_k(["a b", "c"], ["a b", "x", "c"], k=3)
    (0.0, 1.0)
    """
    return 1.0 if all(evidence_found(evidence, passages[:k])) else 0.0


def evidence_share(evidence: Sequence[str], passages: Sequence[str], k: int) -> float:
    """The share of evidence strings contained in the top-``k`` passages (1.0 when there is no evidence).

    >>> evidence_share(["a b", "c"], ["a b", "x", "c"], k=2)
    0.5
    """
    if not evidence:
        return 1.0
    found = evidence_found(evidence, passages[:k])
    return sum(found) / len(found)


def reciprocal_rank(evidence: Sequence[str], passages: Sequence[str]) -> float:
    """1 / rank of the first passage that contains any evidence string; 0.0 when none does.

    >>> reciprocal_rank(["c"], ["a", "b", "x c y"])
    0.3333333333333333
    """
    for rank, passage in enumerate(passages, start=1):
        if any(contains(passage, e) for e in evidence):
            return 1.0 / rank
    return 0.0


# -- answers ---------------------------------------------------------------------------------------


def states(text: str, key_phrase: str) -> bool:
    """``text`` contains ``key_phrase``, double quote marks aside: a report that puts a word in quotes
    still states the phrase around it.

    >>> quote = 'Crimea was "taken" by Russia.'
    >>> states(quote, "TAKEN by Russia"), contains(quote, "taken by")
    (True, False)
    """
    return contains(_SPACE.sub(" ", normalise(text).replace('"', "")), normalise(key_phrase).replace('"', ""))


def answer_correct(answer: str, key_phrases: Sequence[str]) -> bool:
    """The answer states every key phrase (vacuously true when there are none).

    >>> answer_correct("Sanctions on Russia, Iran and  North Korea.", ["russia", "north korea"])
    True
    """
    return all(states(answer, phrase) for phrase in key_phrases)


# -- citations -------------------------------------------------------------------------------------


def longest_common_run(a: str, b: str) -> int:
    """Length of the longest common substring of two (already normalised) strings.

    >>> longest_common_run("the house vote", "a house vote count")
    11
    """
    if not a or not b:
        return 0
    return SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b)).size


def overlaps(a: str, b: str, min_chars: int = OVERLAP_CHARS, min_share: float = OVERLAP_SHARE) -> bool:
    """Two texts overlap when, normalised, one contains the other or they share a common run of at
    least ``min_chars`` characters or at least ``min_share`` of the shorter text.

    >>> overlaps("It passed the House on Tuesday 419-3.", "Trump tweeted on \u201cTuesday\u201d.")
    False
    >>> overlaps("It passed the House on Tuesday 419-3.", "The House on Tuesday 419-3 vote")
    True
    """
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return False
    if na in nb or nb in na:
        return True
    run = longest_common_run(na, nb)
    return run >= min_chars or run >= min_share * min(len(na), len(nb))


def citation_supported(quote: str, evidence: Sequence[str], key_phrases: Sequence[str]) -> bool:
    """A cited quote is good when it overlaps some gold evidence or states a key phrase.

    >>> citation_supported("Tass news agency quoted the ministry.", [], ["Tass"])
    True
    """
    return any(overlaps(quote, e) for e in evidence) or any(states(quote, p) for p in key_phrases)


def citation_precision(quotes: Sequence[str], evidence: Sequence[str], key_phrases: Sequence[str]) -> float:
    """Share of the cited quotes that are supported (0.0 when nothing is cited).

    >>> citation_precision(["It passed the House on Tuesday 419-3.", "Trump tweeted."],
    ...                    ["It passed the House on Tuesday 419-3."], ["419-3"])
    0.5
    """
    if not quotes:
        return 0.0
    return sum(citation_supported(q, evidence, key_phrases) for q in quotes) / len(quotes)


def citation_recall(quotes: Sequence[str], evidence: Sequence[str]) -> float:
    """Share of the gold evidence strings that some cited quote overlaps (1.0 when there is no evidence).

    >>> citation_recall(["It passed the House on Tuesday 419-3."], ["the house on tuesday 419-3", "Senators 98-2"])
    0.5
    """
    if not evidence:
        return 1.0
    return sum(any(overlaps(q, e) for q in quotes) for e in evidence) / len(evidence)


def cited_chars(quotes: Sequence[str]) -> int:
    """Characters cited by one answer: the sum of its quote lengths.

    >>> cited_chars(["abc", "de"])
    5
    """
    return sum(len(q) for q in quotes)


# -- abstention ------------------------------------------------------------------------------------


def abstention_scores(abstained: Sequence[bool], unanswerable: Sequence[bool]) -> dict[str, float]:
    """Precision and recall of abstaining with respect to the unanswerable questions, and the count
    of false abstentions (abstaining on an answerable question). A ratio over nothing is 0.0.

    >>> abstention_scores([True, True, False, False], [True, False, True, False])
    {'abstain_precision': 0.5, 'abstain_recall': 0.5, 'false_abstentions': 1.0}
    """
    if len(abstained) != len(unanswerable):
        raise ValueError("abstained and unanswerable must have the same length")
    hits = sum(a and u for a, u in zip(abstained, unanswerable, strict=True))
    n_abstained, n_unanswerable = sum(abstained), sum(unanswerable)
    return {
        "abstain_precision": hits / n_abstained if n_abstained else 0.0,
        "abstain_recall": hits / n_unanswerable if n_unanswerable else 0.0,
        "false_abstentions": float(n_abstained - hits),
    }


# -- latency and averages --------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) with linear interpolation between ranks (numpy's default);
    0.0 for no values.

    >>> percentile([10, 20, 30], 50), percentile([10, 20, 30], 95)
    (20.0, 29.0)
    """
    if not values:
        return 0.0
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be in [0, 100], got {q}")
    ordered = sorted(float(v) for v in values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; 0.0 for no values.

    >>> mean([1, 0, 1, 1])
    0.75
    """
    return sum(values) / len(values) if values else 0.0
