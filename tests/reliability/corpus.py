"""A corpus written for the reliability tests: council news from towns that do not exist, each article with its own
facts (a vote, a cost, a month), so every question has one right answer and every sentence is its article's own
(no two articles share a sentence, so a store rebuilt in another order answers alike). One article is long enough to
need many write batches; ``version=2`` changes some articles, as a newsroom's corrections would."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

_STARTS = ("Ald", "Bren", "Cadden", "Dun", "Els", "Farrow", "Glen", "Har", "Ivel", "Jess", "Kel", "Lang", "Mor",
           "Nether", "Oak", "Pen", "Quarn", "Ros", "Stan", "Thorn")
_ENDS = ("moor", "ford", "ham", "mere", "worth", "by")
PROJECTS = ("a footbridge over the river", "a library extension", "a bus depot", "a swimming pool", "a solar farm",
            "a cycle lane", "a market hall", "a flood wall", "a youth centre", "a car park")
PEOPLE = ("Mara Ilves", "Tomas Reed", "Ana Brook", "Owen Pike", "Lena Marsh", "Ivo Stone", "Rita Vale", "Sam Hale")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def town(k: int) -> str:
    return _STARTS[k % len(_STARTS)] + _ENDS[(k // len(_STARTS)) % len(_ENDS)]


@dataclass(frozen=True)
class Fact:
    town: str
    question: str
    answer: str  # a phrase the answer must contain


def facts(k: int) -> tuple[int, int, str, str]:
    rng = random.Random(k)
    yes = rng.randint(8, 30)
    return yes, rng.randint(1, yes - 1), PROJECTS[k % len(PROJECTS)], MONTHS[rng.randrange(len(MONTHS))]


def article(k: int, version: int = 1, extra_paragraphs: int = 0) -> str:
    rng = random.Random(1000 + k)
    name = town(k)
    yes, no, project, month = facts(k)
    if version == 2:
        yes += 1
    person, other = rng.sample(PEOPLE, 2)
    paragraphs = [
        f"{name} council approves {project.split(' over')[0]}",
        f"By Newsrag Test Desk | Updated: {month} {1 + k % 27}, 2019",
        f"The council of {name} voted {yes}-{no} on {DAYS[k % 5]} to build {project}. "
        f"The work will cost {rng.randint(2, 40)}.{rng.randint(1, 9)} million euros, treasurer {person} said.",
        f"Work on the {name} project is due to start in {month} and to take {rng.randint(5, 30)} months. "
        f"{other}, who leads the opposition in {name}, called the plan {rng.choice(['rushed', 'costly', 'overdue'])}.",
    ]
    for p in range(2 + extra_paragraphs):
        district = f"{_STARTS[(k + p + 3) % len(_STARTS)]}gate"
        paragraphs.append(
            f"Residents of the {district} district of {name} filed {rng.randint(10, 900)} comments in round {p + 1}. "
            f"Officials in {name} counted {rng.randint(2, 60)} meetings on the subject in round {p + 1}. "
            f"A survey of {rng.randint(100, 2000)} households in {name} followed in round {p + 1}."
        )
    if version == 2:
        paragraphs.append(f"Correction: an earlier version of this {name} report gave the vote as {yes - 1}-{no}.")
    return "\n\n".join(paragraphs) + "\n"


@dataclass(frozen=True)
class Corpus:
    size: int
    long: int  # the index of the long article
    changed: tuple[int, ...]  # the articles that version 2 changes

    @property
    def towns(self) -> list[str]:
        return [town(k) for k in range(self.size)]

    def name(self, k: int) -> str:
        return f"{k:03d}_{town(k).lower()}.txt"

    def text(self, k: int, version: int = 1) -> str:
        changed = version == 2 and (k in self.changed)
        return article(k, 2 if changed else 1, extra_paragraphs=30 if k == self.long else 0)

    def write(self, folder: Path, version: int = 1) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(self.size):
            (folder / self.name(k)).write_text(self.text(k, version), encoding="utf-8")
        return folder

    def questions(self, version: int = 1) -> list[Fact]:
        out = []
        for k in (0, 3, self.long, self.size - 1, *self.changed[:2]):
            yes, no, project, _ = facts(k)
            if version == 2 and k in self.changed:
                yes += 1
            out.append(Fact(town(k), f"How did the council of {town(k)} vote on {project}?", f"{yes}-{no}"))
        return list({f.question: f for f in out}.values())


CORPUS = Corpus(size=10, long=5, changed=(2, 5, 8))
