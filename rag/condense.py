"""Condense: question + history → a standalone query the user is shown.

Rule-based, so it needs no LLM: a follow-up ("And what did Tillerson say there?") is recognised by
its pronouns, its opening "and/what about", or its brevity, and carries the content words of the
conversation's previous questions it does not already name. Those carried words weigh less than
the follow-up's own words when answer sentences are scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.terms import content_terms

_FOLLOW_UP = re.compile(
    r"^\s*(and|but|so|also|what about|how about|then)\b|\b(he|she|it|they|them|him|her|his|its|their|there|that|"
    r"this|those|these|then|the same)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Query:
    """What retrieval and answering work from."""

    text: str
    question: str
    context: tuple[str, ...] = field(default=())

    @property
    def rewritten(self) -> bool:
        return bool(self.context)


def is_follow_up(question: str) -> bool:
    """Does ``question`` lean on the conversation before it?

    >>> is_follow_up("And what did Tillerson say there?"), is_follow_up("How did the Senate vote on the bill?")
    (True, False)
    """
    return bool(_FOLLOW_UP.search(question)) or len(content_terms(question)) <= 1


def condense(question: str, history: list[str] | tuple[str, ...] = ()) -> Query:
    """The standalone query for ``question`` asked after the user's earlier ``history`` questions.

    >>> condense("And what did Tillerson say there?", ["What did Lavrov say in Manila?"]).text
    'And what did Tillerson say there? (Lavrov, Manila)'
    """
    question = question.strip()
    if not history or not is_follow_up(question):
        return Query(text=question, question=question)
    own = set(content_terms(question))
    carried: dict[str, str] = {}
    for earlier in reversed(list(history)[-2:]):
        for word in re.findall(r"(?u)\b\w[\w'-]*\w\b", earlier):
            terms = content_terms(word)
            if terms and terms[0] not in own and terms[0] not in carried:
                carried[terms[0]] = word
    if not carried:
        return Query(text=question, question=question)
    words = tuple(carried.values())
    return Query(text=f"{question} ({', '.join(words)})", question=question, context=words)
