"""Sentence features: (question, candidate sentences) → one row of numbers per sentence.

Each feature is a signal that holds for any English news text; how much each one counts is learned from the
dev corpora's questions (``rag.answer.model``), never set by hand:
- how close the sentence is to the question: the embedding model's cosine (stored sentence vectors), and the
  IDF-weighted share of the question's words it holds (alone, with the sentence before it, and over everything
  retrieved from its article), each also as a gap to the best candidate;
- where it comes from: its passage's retrieval rank and score, whether it is its article's first sentence;
- whether it holds what the question asks for: a named entity of the kind the wording asks for (a date for
  "when", a person for "who", …) that the question does not already name; someone's words when the question
  asks what was said; a number when it asks how many;
- whether it names what the question names (its entities, capitalised words and figures);
- in a conversation, whether it follows what the previous answer cited.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from rag.answer.candidates import Candidate
from rag.answer.question import GROUPS, Question
from rag.terms import content_terms, term_set

#: A word that no chunk contains weighs this share of the rarest word's IDF: it may be what makes the question
#: unanswerable, or only the asker's own way of talking.
UNSEEN_SHARE = 0.5
#: Words sharing this many first letters count as one word ("relations", "relationship").
PREFIX_CHARS = 5

_QUOTE_MARK = re.compile(r"[\"“”«»]|(?:^|\s)['‘][A-Z]")
_SPEECH = frozenset(
    "said says say saying told tells tell added adds stated states claimed claims warned warns insisted insists "
    "explained explains noted notes argued argues admitted admits announced announces declared declares described "
    "describes called calls accused accuses urged urges asked asks replied replies responded responds wrote writes "
    "tweeted tweets posted according quoted remarked commented suggested believes believed".split())
_WORD = re.compile(r"\w+")
_NAMEISH = re.compile(r"\b([A-Z][\w'’.-]*|[0-9][\w,.%-]*)")

#: The question word classes of ``rag.answer.question`` (one indicator each).
WH = ("who", "when", "where", "how-many", "what", "which", "why", "how", "yes-no", "none")

FEATURES = (
    "dense", "dense_gap", "lex", "lex_gap", "lex_before", "focus", "focus_gap", "title_lex",
    "lex_local", "lex_local_gap", "lex_asked", "lex_asked_gap", "lex_asked_before", "asked_parts",
    "rank_recip", "score_rel", "first_sentence", "log_position", "log_len", "short",
    "names_in", "names_in_context", "new_entities", "expected_hit", "expects_kind", "expected_miss",
    "speech_given", "speech_asked_and_given", "quote_marks", "speech_asked_no_speech", "number_asked_and_given",
    "has_digit", "follows_previous", "in_conversation", "yes_no_lex",
    *(f"expect_{g}_given" for g in GROUPS),
    *(f"new_{g}" for g in GROUPS),
    *(f"wh_{w}" for w in WH),
)


@dataclass(frozen=True)
class Context:
    """What features read besides the question and the candidates."""

    query_vector: np.ndarray
    vectors: dict[tuple[str, int], np.ndarray]
    idf: dict[str, float]
    #: Where the previous answer's citations end (doc_id, offset), and the articles it cited.
    follows: tuple[tuple[str, int], ...] = ()
    conversation: frozenset[str] = field(default_factory=frozenset)


def idf_weights(df: dict[str, int], n_docs: int) -> dict[str, float]:
    """BM25's IDF for each term; a term no chunk contains gets ``UNSEEN_SHARE`` of the largest possible IDF.

    >>> w = idf_weights({"vote": 10, "zzz": 0}, 100)
    >>> round(w["vote"], 2), round(w["zzz"], 2)
    (2.26, 2.65)
    """
    n = max(n_docs, 1)
    unseen = UNSEEN_SHARE * math.log(1 + (n + 0.5) / 0.5)
    return {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) if f else unseen for t, f in df.items()}


@lru_cache(maxsize=8192)
def _heads(words: frozenset[str]) -> frozenset[str]:
    return frozenset(w[:PREFIX_CHARS] for w in words if len(w) >= PREFIX_CHARS)


def matches(term: str, present: frozenset[str]) -> bool:
    """``term`` is among ``present``, or shares its first ``PREFIX_CHARS`` letters with one of them.

    >>> matches("relat", frozenset({"relationship"})), matches("tass", frozenset({"task"}))
    (True, False)
    """
    return term in present or (len(term) >= PREFIX_CHARS and term[:PREFIX_CHARS] in _heads(present))


def coverage(weights: dict[str, float], idf: dict[str, float], present: frozenset[str]) -> float:
    """IDF-weighted share of the weighted terms found in ``present``.

    >>> coverage({"tampere": 1.0, "okonjo": 1.0}, {"tampere": 3.0, "okonjo": 1.0}, frozenset({"tampere"}))
    0.75
    """
    total = sum(w * idf.get(t, 0.0) for t, w in weights.items())
    if total <= 0:
        return 0.0
    return sum(w * idf.get(t, 0.0) for t, w in weights.items() if matches(t, present)) / total


def question_names(question: str, candidates: Sequence[Candidate]) -> frozenset[str]:
    """What the question names, lower-cased: its capitalised words and figures (but its first word), and the
    candidates' entities it mentions (so a question typed in lower case names them too).

    >>> sorted(question_names("Where did Ann Lee meet the IMF in 2019?", []))
    ['2019', 'ann', 'imf', 'lee']
    """
    names = {m.group(1).lower().strip(".,") for m in _NAMEISH.finditer(question) if m.start() > 0}
    low = f" {' '.join(_WORD.findall(question.lower()))} "
    for c in candidates:
        for e in c.entities:
            text = " ".join(_WORD.findall(e.text(c.text).lower()))
            if len(text) > 2 and f" {text} " in low:
                names.update(text.split())
    return frozenset(n for n in names if n)


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def featurize(q: Question, candidates: Sequence[Candidate], ctx: Context) -> np.ndarray:
    """One row of ``FEATURES`` per candidate."""
    n = len(candidates)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if not n:
        return out
    col = {name: i for i, name in enumerate(FEATURES)}
    names = question_names(q.text, candidates)
    asked_words = frozenset(q.words)
    owns = [term_set(c.text) for c in candidates]
    # Local weights: a question word most retrieved sentences share says what they are all about, not which one
    # answers ("Pakistan" in every sentence of a story about Pakistan's squad; "wicket" in one).
    local = {t: w * math.log((n + 1) / (sum(matches(t, o) for o in owns) + 0.5)) for t, w in q.terms.items()}
    # The words that say what is asked, not whom or what it is about: the question's terms that are not names.
    name_terms = frozenset(t for name in names for t in term_set(name))
    asked = {t: w for t, w in q.terms.items() if t not in name_terms} or q.terms
    # The asked words themselves, for matches inside compounds ("keeper" in "goalkeeper", "wicket" in "wicketkeeper").
    asked_words_long = frozenset(w for w in q.words if len(w) >= 4 and w not in names and content_terms(w))
    by_article: dict[str, set[str]] = {}
    for c in candidates:
        by_article.setdefault(c.article.doc_id, set()).update(term_set(c.text))
    focus = {doc: coverage(q.terms, ctx.idf, frozenset(t | term_set(_title(candidates, doc))))
             for doc, t in by_article.items()}
    max_score = max(c.score for c in candidates) or 1.0
    number_asked = "NUMBER" in q.expects or "MONEY" in q.expects
    if q.wh in WH:
        out[:, col[f"wh_{q.wh}"]] = 1.0
    for i, c in enumerate(candidates):
        own = owns[i]
        title = term_set(c.article.title or "")
        vector = ctx.vectors.get(c.key)
        row = out[i]
        row[col["dense"]] = float(vector @ ctx.query_vector) if vector is not None else 0.0
        row[col["lex"]] = coverage(q.terms, ctx.idf, own)
        row[col["lex_before"]] = coverage(q.terms, ctx.idf, own | term_set(c.before) | title)
        row[col["focus"]] = focus[c.article.doc_id]
        row[col["title_lex"]] = coverage(q.terms, ctx.idf, title)
        row[col["lex_local"]] = coverage(local, ctx.idf, own)
        row[col["lex_asked"]] = coverage(asked, ctx.idf, own)
        row[col["lex_asked_before"]] = coverage(asked, ctx.idf, own | term_set(c.before))
        row[col["log_position"]] = math.log1p(c.index)
        row[col["rank_recip"]] = 1.0 / c.rank
        row[col["score_rel"]] = c.score / max_score
        row[col["first_sentence"]] = float(c.index == 0)
        row[col["log_len"]] = math.log1p(len(c.text))
        row[col["short"]] = float(len(c.text.split()) < 6)
        words = _words(c.text)
        context_words = words | _words(c.before) | _words(c.article.title or "")
        row[col["asked_parts"]] = _share(asked_words_long, frozenset(
            a for a in asked_words_long for w in words if len(w) >= 4 and (a in w or w in a)))
        row[col["names_in"]] = _share(names, words)
        row[col["names_in_context"]] = _share(names, context_words)
        new = [e for e in c.entities if not (_words(e.text(c.text)) <= asked_words | names)]
        row[col["new_entities"]] = min(len(new), 4) / 4
        given = {g for g, labels in GROUPS.items() if any(e.label in labels for e in new)}
        if q.expects:
            row[col["expects_kind"]] = 1.0
            row[col["expected_hit"]] = float(bool(given & q.expects))
            row[col["expected_miss"]] = float(not given & q.expects)
        for g in GROUPS:
            row[col[f"expect_{g}_given"]] = float(g in q.expects and g in given)
            row[col[f"new_{g}"]] = float(g in given)
        speech = bool(_SPEECH & words) or bool(_QUOTE_MARK.search(c.text))
        row[col["quote_marks"]] = float(bool(_QUOTE_MARK.search(c.text)))
        row[col["speech_given"]] = float(speech)
        row[col["speech_asked_and_given"]] = float(q.speech and speech)
        row[col["has_digit"]] = float(any(ch.isdigit() for ch in c.text))
        row[col["speech_asked_no_speech"]] = float(q.speech and not speech)
        row[col["number_asked_and_given"]] = float(number_asked and any(ch.isdigit() for ch in c.text))
        row[col["follows_previous"]] = float(any(doc == c.article.doc_id and 0 <= c.start - end <= 3
                                                 for doc, end in ctx.follows))
        row[col["in_conversation"]] = float(c.article.doc_id in ctx.conversation)
        row[col["yes_no_lex"]] = float(q.yes_no) * row[col["lex"]]
    for name in ("dense", "lex", "focus", "lex_local", "lex_asked"):
        j = col[name]
        out[:, col[f"{name}_gap"]] = out[:, j] - out[:, j].max()
    return out


def _share(names: AbstractSet[str], words: AbstractSet[str]) -> float:
    return sum(n in words for n in names) / len(names) if names else 0.0


def _title(candidates: Sequence[Candidate], doc_id: str) -> str:
    return next((c.article.title or "" for c in candidates if c.article.doc_id == doc_id), "")
