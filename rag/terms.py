"""Content terms of a text: lower-cased, stemmed words without stop words (the same stemmer as BM25).

>>> content_terms("What did Okonjo say in Tampere?")
['okonjo', 'tamper']
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from bm25s.stopwords import STOPWORDS_EN

#: Words that shape a question but carry no topic.
QUESTION_WORDS = frozenset(
    "what whats who whom whose when where which how why did does do done say says said tell told "
    "about many much also according article articles story report reported mention mentioned "
    "there then that this those these he she him her his hers they them their it its one ones "
    "and but so or any some all was were is are be been being have has had would could should "
    "can will may might must me us we our you your i my did not no yes anything something everything nothing "
    "anyone someone stories reports pieces across "
    # how sure the asker is ("what was the real tally", "did he really say"), not what about
    "real really actual actually truly indeed supposedly apparently like "
    # what kind of answer is asked for, which the answer gives ("in Tampere", "on Tuesday") without the word
    "city cities town towns place places date dates day days year years".split()
)
_STOP = frozenset(STOPWORDS_EN) | QUESTION_WORDS
_WORD = re.compile(r"(?u)\b\w\w+\b")


@cache
def _stemmer():  # PyStemmer, as used by llama-index's BM25Retriever
    import Stemmer

    return Stemmer.Stemmer("english")


def content_terms(text: str) -> list[str]:
    """Stemmed content words of ``text`` in order, without repeats."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    seen: dict[str, None] = {}
    for stem in _stemmer().stemWords(words):
        seen.setdefault(stem, None)
    return list(seen)


@lru_cache(maxsize=16384)
def term_set(text: str) -> frozenset[str]:
    """All stemmed words of ``text`` (stop words included; cheap membership tests). Cached: the answer stage
    asks for the same retrieved sentences' words question after question (~0.8 ms an answer uncached)."""
    return frozenset(_stemmer().stemWords(_WORD.findall(text.lower())))
