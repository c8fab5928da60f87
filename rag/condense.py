"""Condense: question + history → a standalone query the user is shown.

Rule-based, so it needs no LLM: a follow-up ("And what did Halvorsen say there?") is recognised by
its pronouns, its opening "and/what about", a reaction with no object ("How did Ferreira react?") or
its brevity, and carries the content words of the conversation's previous questions it does not
already name. Those carried words weigh less than the follow-up's own words when answer sentences
are scored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.terms import content_terms

#: "How did Ferreira react?": a reaction with no object is to what the conversation was just about.
REACTION = re.compile(r"\b(react|respond|reply|comment)\w*\s*\?*\s*$", re.IGNORECASE)
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|so|also|what about|how about|then)\b|\b(he|she|it|they|them|him|her|his|its|their|there|that|"
    r"this|those|these|then|the same)\b|" + REACTION.pattern,
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Query:
    """What retrieval and answering work from."""

    text: str
    question: str
    context: tuple[str, ...] = field(default=())
    #: Where the previous answer's cited sentences end, as (doc_id, offset): "How did Ferreira react?" asks
    #: about what comes right after them.
    follows: tuple[tuple[str, int], ...] = field(default=())

    @property
    def rewritten(self) -> bool:
        return bool(self.context)


def is_follow_up(question: str) -> bool:
    """Does ``question`` lean on the conversation before it?

    >>> is_follow_up("And what did Halvorsen say there?"), is_follow_up("How did the Senate vote on the bill?")
    (True, False)
    """
    return bool(_FOLLOW_UP.search(question)) or len(content_terms(question)) <= 1


#: What a format asks for, not what: "Short answer:", "Just the date:", "Cities only -", "In a word,".
_FORMAT = (r"((short|quick|brief|simple) answer|in (short|brief|a word)|one (word|line)( answer)?|"
           r"(just|only) (the )?[a-z]+|[a-z]+ only)( please)?\s*[:,–—-]")
#: What a spoken or chatty question says before it asks: "um", "hey", "can you tell me", "do you know"; and
#: what a question says about the answer's format.
_PREAMBLE = re.compile(
    r"^\s*((" + _FORMAT + r"|(hey|hi|hello|ok(ay)?|um+|uh+|er+m?|hmm+|so|well|right|alright|yeah|please|"
    r"quick question)\b[,.!:]*"
    r"|(can|could|would|will) (you|u) (please )?(tell|remind|show|give) me( please)?\b[,:]*"
    r"|(do|does|did) (you|u|anyone) (happen to )?(know|remember|recall)\b[,:]*"
    r"|i('d| would)? (want|need|like|wanna|'d like|would like)( to)? (know|ask)\b[,:]*"
    r"|(tell|remind|show) me( please)?\b[,:]*)\s*)+",
    re.IGNORECASE,
)
#: What it says after: "…, please", "… thanks".
_CODA = re.compile(r"[\s,]+(please|thanks|thank you|thx)\s*([?.!]*)\s*$", re.IGNORECASE)
#: "I heard …", "Someone told me …", "Is it true that …": what opens a claim the asker wants checked.
_CLAIM_OPENING = re.compile(
    r"^\s*((i|i've|i have) (heard|read|was told|been told|think|thought|believe|remember)|is it (true|right|correct)"
    r"|(someone|somebody|people|everyone|a friend|my [\w-]+|they) (told me|tells me|said|says|claimed|claims|reckons?"
    r"|insists?)|apparently|supposedly)\b( that)?[,:]?\s*",
    re.IGNORECASE,
)
#: "… - is that right?", "…. correct?", "…, right? Who …": what asks whether the claim before it holds.
_CLAIM_TAG = re.compile(r"\s*([,.;:–—-]\s*|\s)((is|was) (that|this|it) (right|true|correct|so)|am i right)\s*\?"
                        r"|\s*[,.;:–—-]\s*(correct|right|true|or not)\s*\?", re.IGNORECASE)
#: Chat spellings of the words the rules read ("wat did okonjo say abt it"), and contractions typed without
#: their apostrophe.
_CHAT_WORDS = {
    "wat": "what", "wot": "what", "whats": "what's", "wats": "what's", "wen": "when", "wher": "where", "hw": "how",
    "y": "why", "whos": "who's", "u": "you", "ur": "your", "r": "are", "abt": "about", "ppl": "people",
    "cuz": "because", "coz": "because", "bc": "because", "b4": "before", "govt": "government", "pls": "please",
    "plz": "please", "thx": "thanks", "didnt": "didn't", "doesnt": "doesn't", "dont": "don't", "isnt": "isn't",
    "wasnt": "wasn't", "werent": "weren't", "wont": "won't", "cant": "can't", "havent": "haven't",
    "hasnt": "hasn't", "wouldnt": "wouldn't", "shouldnt": "shouldn't", "couldnt": "couldn't",
}
_CHAT_WORD = re.compile(rf"(?<![\w.'’-])({'|'.join(_CHAT_WORDS)})(?![\w.'’-])", re.IGNORECASE)  # not the U of U.S.


def plain(question: str, known: Callable[[str], bool] | None = None) -> str:
    """The question without what a spoken or chatty one says around it, so that it opens with what it asks,
    and with chat spellings of question words spelt out; never a single capital letter (the initial of a name:
    "B R Osei") or a word the articles use (``known``).

    >>> plain("um hey can you tell me when norland annexed ostland please")
    'when norland annexed ostland'
    >>> plain("Do you remember who signed the bill?"), plain("So, what did Okonjo say?")
    ('who signed the bill?', 'what did Okonjo say?')
    >>> plain("Tell me what Halvorsen said in Lund."), plain("Did Ferreira sign it?")
    ('what Halvorsen said in Lund.', 'Did Ferreira sign it?')
    >>> plain("wat did u say abt norlands sanctions, whats the vote")
    "what did you say about norlands sanctions, what's the vote"
    >>> plain("What did the U.S. say?"), plain("Which judge sat with Justice B R Osei?")
    ('What did the U.S. say?', 'Which judge sat with Justice B R Osei?')
    >>> plain("Short answer: um, where did they meet?"), plain("Just the countries: who does the bill hit?")
    ('where did they meet?', 'who does the bill hit?')
    >>> plain("someone told me the scandal was about Marsh. correct?"), plain("Kessler, right? Who else?")
    ('the scandal was about Marsh?', 'Kessler? Who else?')
    """
    def respell(m: re.Match[str]) -> str:
        word = m[0]
        if (len(word) == 1 and word.isupper()) or (known is not None and known(word)):
            return word
        return _CHAT_WORDS[word.lower()]

    question = _CHAT_WORD.sub(respell, question)
    rest = _CLAIM_OPENING.sub("", _PREAMBLE.sub("", question.strip(), count=1), count=1)
    rest = _CODA.sub(r"\2", _CLAIM_TAG.sub("?", rest)).strip()
    return rest if len(rest.split()) >= 2 else question.strip()


def condense(question: str, history: list[str] | tuple[str, ...] = (), known: Callable[[str], bool] | None = None
             ) -> Query:
    """The standalone query for ``question`` asked after the user's earlier ``history`` questions (``known``: is
    a word one the articles use, which spelling repair must leave alone).

    >>> condense("And what did Halvorsen say there?", ["What did Okonjo say in Tampere?"]).text
    'And what did Halvorsen say there? (Okonjo, Tampere)'
    """
    question = plain(question, known)
    history = [plain(earlier, known) for earlier in history]
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
