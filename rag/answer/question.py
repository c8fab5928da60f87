"""Question analysis: what a question asks for, in terms that hold for any English news text.

- ``terms``: its content words (stemmed, stop words out), the question's own at weight 1, words carried over
  from earlier turns of a conversation at ``CONTEXT_WEIGHT``;
- ``expects``: the kinds of entity its wording asks for ("who" a person or an organisation, "when" a date,
  "where" a place, "how many" a number, "how much … cost" an amount of money), or none;
- ``speech``: whether it asks for someone's words ("What did the minister say …?", "Who said …?");
- ``yes_no``: whether it asks whether something is so ("Did …?", "Is it true that …?").

>>> q = analyse("When did the Senate vote on the bill?")
>>> q.expects, q.speech, sorted(q.terms)
(frozenset({'DATE'}), False, ['bill', 'senat', 'vote'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.terms import content_terms

#: How much a word carried over from an earlier turn weighs against the question's own words.
CONTEXT_WEIGHT = 0.35

#: spaCy's entity labels, grouped into the kinds of answer a question asks for.
GROUPS: dict[str, frozenset[str]] = {
    "PERSON": frozenset({"PERSON"}),
    "ORG": frozenset({"ORG", "NORP"}),
    "PLACE": frozenset({"GPE", "LOC", "FAC"}),
    "DATE": frozenset({"DATE", "TIME"}),
    "NUMBER": frozenset({"CARDINAL", "QUANTITY", "PERCENT", "ORDINAL"}),
    # an amount is often told as a bare figure ("420 million euros" is read as a number and a word)
    "MONEY": frozenset({"MONEY", "CARDINAL", "QUANTITY"}),
}

# What the wording of a question asks for: its question word, or the noun after "what"/"which" (general English
# nouns for kinds of answer; nothing of any one corpus).
_KIND_NOUNS: dict[str, frozenset[str]] = {
    "DATE": frozenset("year years date dates day days month months time decade season week weekend".split()),
    "PLACE": frozenset("city cities country countries place places town towns venue venues state states region "
                       "stadium ground capital location island province county village".split()),
    "ORG": frozenset("team teams party parties company companies club clubs organisation organization agency "
                     "body committee newspaper outlet firm bank group union ministry department court side "
                     "network channel university school network board government".split()),
    "PERSON": frozenset("player players person people man woman judge minister leader captain coach official "
                        "president author spokesman spokeswoman spokesperson secretary manager chief actor "
                        "director winner ceo chairman founder scientist researcher".split()),
    "NUMBER": frozenset("number percentage percent score tally margin rate age total figure count share "
                        "majority".split()),
    "MONEY": frozenset("cost price amount fee fine salary budget sum worth value revenue profit".split()),
}
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_SPEECH_WORDS = frozenset(
    "say says said saying tell told tells quote quoted quotes quotation words word remark remarks comment comments "
    "commented statement claim claimed claims warn warned describe described call called react reacted reaction "
    "respond responded response reply replied add added stated state insist insisted accuse accused argue "
    "argued admit admitted explain explained announce announced tweet tweeted wrote write urge urged".split())
_YES_NO_OPENINGS = frozenset("did does do is was were are has have had can could will would should".split())


@dataclass(frozen=True)
class Question:
    text: str
    #: Content terms with their weights (the question's own 1.0, carried ones ``CONTEXT_WEIGHT``).
    terms: dict[str, float]
    #: The entity groups (keys of ``GROUPS``) its wording asks for; empty when it asks for none in particular.
    expects: frozenset[str]
    #: The question word class: who, when, where, how-many, what, which, why, how, yes-no or none.
    wh: str
    speech: bool
    yes_no: bool
    #: The question's words, lower-cased (for finding the names it gives among an answer's entities).
    words: tuple[str, ...]


def words_of(text: str) -> tuple[str, ...]:
    """Lower-cased words.

    >>> words_of("Who's the U.S. envoy?")
    ("who's", 'the', 'u', 's', 'envoy')
    """
    return tuple(_WORD.findall(text.lower()))


def _wh(words: tuple[str, ...]) -> str:
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in ("who", "whom", "whose", "who's"):
            return "who"
        if w == "when":
            return "when"
        if w == "where":
            return "where"
        if w == "how" and nxt in ("many", "much", "old", "long", "far", "big", "large"):
            return "how-many"
        if w == "why":
            return "why"
        if w in ("which", "what", "what's"):
            return "which" if w == "which" else "what"
        if w == "how":
            return "how"
    return "yes-no" if words and words[0] in _YES_NO_OPENINGS else "none"


def _expects(words: tuple[str, ...], wh: str) -> frozenset[str]:
    """The entity groups asked for: by the question word, and by the noun that follows "what"/"which"/"whose"
    ("which team", "what exact date", "how much money").

    >>> sorted(_expects(words_of("Which two teams met in the final?"), "which"))
    ['ORG']
    >>> sorted(_expects(words_of("What did the minister say?"), "what"))
    []
    >>> sorted(_expects(words_of("How much did the stadium cost?"), "how-many"))
    ['MONEY']
    """
    kinds: set[str] = set()
    kinds |= {"who": {"PERSON", "ORG"}, "when": {"DATE"}, "where": {"PLACE"}}.get(wh, set())
    for i, w in enumerate(words):
        if w not in ("what", "which", "whose", "how", "what's"):
            continue
        for noun in words[i + 1 : i + 4]:
            if noun in _AUXILIARIES:
                break
            found = [kind for kind, nouns in _KIND_NOUNS.items() if noun in nouns or noun.rstrip("s") in nouns]
            kinds.update(found)
            if found or noun not in _MODIFIERS:
                break
    if wh == "how-many":
        kinds.add("MONEY" if "much" in words and (_KIND_NOUNS["MONEY"] | _MONEY_VERBS) & set(words) else "NUMBER")
    if "MONEY" in kinds:
        kinds.discard("NUMBER")
    return frozenset(kinds)


_AUXILIARIES = frozenset("did does do is was were are has have had will would can could should might may".split())
#: Words between "which" and the noun that says what kind of answer is asked for ("which two teams").
_MODIFIERS = frozenset("much many two three four five other exact specific particular precise kind sort type of "
                       "new former current first last main same".split())
_MONEY_VERBS = frozenset("cost costs pay paid spend spent money earn earned fined charged raise raised".split())


@lru_cache(maxsize=4096)
def _analyse(question: str, context: tuple[str, ...]) -> Question:
    words = words_of(question)
    wh = _wh(words)
    terms = {t: 1.0 for t in content_terms(question)}
    for word in context:
        for t in content_terms(word):
            terms.setdefault(t, CONTEXT_WEIGHT)
    speech = bool(_SPEECH_WORDS & set(words))
    yes_no = wh == "yes-no" or bool(re.search(r"\b(is it true|is that (right|true|correct))\b", question, re.I))
    return Question(question, terms, _expects(words, wh), wh, speech, yes_no, words)


def analyse(question: str, context: tuple[str, ...] = ()) -> Question:
    """What ``question`` asks for (``context``: words carried over from the conversation)."""
    return _analyse(question, tuple(context))
