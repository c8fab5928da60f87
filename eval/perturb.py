"""Ask the question set as other users type it: ``newsrag eval --perturb lower,nopunct``.

Each perturbation is a deterministic rewrite of a question (and of its conversation's earlier questions), so
a run is repeatable and its figures can be set beside the set as written. They stand in for users no set was
written by: the voice-assistant driver (``lower,nopunct,filler``), the teenager typing on a phone (``chat``),
anyone who misspells a name (``typo``). The gold answers and evidence stay as they are.

    >>> perturb("How did the Senate vote on the sanctions bill?", ("lower", "nopunct"))
    'how did the senate vote on the sanctions bill'
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

from eval.run import QAItem
from rag.errors import NewsragError


def lower(question: str) -> str:
    """Everything in lower case, names too.

    >>> lower("What did Lavrov say in Manila?")
    'what did lavrov say in manila?'
    """
    return question.lower()


_PUNCTUATION = re.compile(r"[?!.,;:\"“”()—–]+(?=\s|$)|(?<=\s)[\"“”(]+|^[\"“(]+")


def nopunct(question: str) -> str:
    """No punctuation around words, as a speech transcript has none (apostrophes and "U.S." stay).

    >>> nopunct('Did the U.S. sign it? "Yes," he said (twice).')
    'Did the U.S sign it Yes he said twice'
    """
    return re.sub(r"\s+", " ", _PUNCTUATION.sub(" ", question)).strip()


def filler(question: str) -> str:
    """Said to a voice assistant: "um can you tell me" before the question.

    >>> filler("When did Russia annex Crimea?")
    'um can you tell me when did Russia annex Crimea?'
    """
    return "um can you tell me " + question[:1].lower() + question[1:]


_CHAT = ((r"\bwhat's\b", "whats"), (r"\bwhat\b", "wat"), (r"\byou\b", "u"), (r"\bdidn't\b", "didnt"),
         (r"\bdoesn't\b", "doesnt"), (r"\bdon't\b", "dont"), (r"\bwho's\b", "whos"), (r"\babout\b", "abt"),
         (r"\bpeople\b", "ppl"), (r"\bbecause\b", "cuz"), (r"\bare\b", "r"), (r"(?<=\w)'s\b", "s"))


def chat(question: str) -> str:
    """Typed on a phone: lower case, "wat", "u", "abt", apostrophes left out.

    >>> chat("What's the vote? What did you say about Russia's reply?")
    'whats the vote? wat did u say abt russias reply?'
    """
    question = question.lower()
    for pattern, spelling in _CHAT:
        question = re.sub(pattern, spelling, question)
    return question


_LONG_NAME = re.compile(r"\b([A-Z][a-z]{2})([a-z])([a-z]{2,})\b")


def typo(question: str) -> str:
    """Every capitalised word of six letters or more loses its fourth letter (or, before a double letter, one of
    the pair): "Tillerson" is typed "Tilerson", "Lavrov" "Lavov".

    >>> typo("What did Tillerson tell Lavrov in Manila?")
    'What did Tilerson tell Lavov in Manla?'
    """
    return _LONG_NAME.sub(lambda m: m[1] + m[3] if m[2] != m[3][0] else m[1] + m[2] + m[3][1:], question)


#: The perturbations by name, in the order they are applied when several are asked for.
PERTURBATIONS: dict[str, Callable[[str], str]] = {
    "typo": typo, "chat": chat, "lower": lower, "nopunct": nopunct, "filler": filler,
}


def parse(spec: str) -> tuple[str, ...]:
    """``"lower,nopunct"`` → ``("lower", "nopunct")``, in ``PERTURBATIONS`` order; an unknown name is an error."""
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in PERTURBATIONS]
    if unknown or not names:
        raise NewsragError(f"Unknown perturbation {', '.join(unknown) or repr(spec)}; choose from: "
                           f"{', '.join(PERTURBATIONS)} (several joined by commas).")
    return tuple(n for n in PERTURBATIONS if n in names)


def perturb(question: str, names: Sequence[str]) -> str:
    for name in PERTURBATIONS:
        if name in names:
            question = PERTURBATIONS[name](question)
    return question


def perturb_items(items: Sequence[QAItem], names: Sequence[str]) -> list[QAItem]:
    """The items with each question and each earlier question of its conversation perturbed."""
    return [dataclasses.replace(item, question=perturb(item.question, names),
                                history=tuple(perturb(h, names) for h in item.history)) for item in items]
