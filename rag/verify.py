"""Verify: an ``Answer`` + the passages it came from → the same answer, with every claim checked.

Every sentence of every answer goes through the same checks (``rag.support``): it must cite; a citation stands
only if its quote is the exact text of a retrieved passage at the cited span (and so verbatim text of the stored
article) or, for a generated answer, if its number names a passage that was given; the sentence's links, numbers,
dates and names must be in what it cites, and its content close to one of the cited sentences. A generated
sentence's citations are then mapped to the sentence of the passage that supports it, so that
``quote == article_text[start:end]`` for every answer. Sentences that fail are dropped from the text and listed,
with their support scores and reasons, in ``Answer.sentences``; citations are renumbered in order of use. An
answer with nothing left abstains (the pipeline then gives the extractive answer in place of a generated one).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from rag.support import Source, SupportChecker, Verdict
from rag.types import Answer, Citation, Passage, SentenceSupport

_MARKS = re.compile(r"((?:\s*\[\d+\])+)")


def split_claims(text: str) -> list[tuple[str, str]]:
    """An answer cut into (body, markers) pairs; a trailing body without markers comes with "".

    Bodies may hold brackets of their own ("[the US sanctions]"): only ``[digits]`` are markers.

    >>> split_claims("A said x. [1] B said y. [2][3] tail")
    [('A said x.', ' [1]'), (' B said y.', ' [2][3]'), (' tail', '')]
    """
    pieces = _MARKS.split(text)  # body, marks, body, marks, …, trailing body
    pairs = list(zip(pieces[0::2], pieces[1::2], strict=False))
    if pieces[-1].strip():
        pairs.append((pieces[-1], ""))
    return pairs


def quote_is_verbatim(citation: Citation, passages: list[Passage]) -> bool:
    """Is ``citation.quote`` the text of some passage of the same article at ``start:end``?"""
    for p in passages:
        c = p.chunk
        if c.doc_id == citation.article.doc_id and c.start <= citation.start < citation.end <= c.end:
            return c.text[citation.start - c.start : citation.end - c.start] == citation.quote
    return False


def mask_quotes(text: str, quotes: Sequence[str]) -> tuple[str, list[str]]:
    """``text`` with each quote it holds replaced by a placeholder, so that an article's own "[2]" inside a quote is
    not read as a marker; ``unmask`` puts them back.

    >>> masked, quotes = mask_quotes("He resigned [2], it said. [1]", ["He resigned [2], it said."])
    >>> split_claims(masked), unmask(split_claims(masked)[0][0], quotes)
    ([('\\x000\\x00', ' [1]')], 'He resigned [2], it said.')
    """
    found: list[str] = []
    for quote in dict.fromkeys(q for q in quotes if q and _MARKS.search(q)):
        if quote in text:
            text = text.replace(quote, f"\x00{len(found)}\x00")
            found.append(quote)
    return text, found


def unmask(text: str, quotes: Sequence[str]) -> str:
    return re.sub(r"\x00(\d+)\x00", lambda m: quotes[int(m.group(1))], text)


def sources_of(passages: Sequence[Passage]) -> dict[int, Source]:
    """The sources a generated answer's ``[n]`` name: the passages, numbered from 1 as the prompt gave them."""
    return {n: Source.of_passage(n, p) for n, p in enumerate(passages, start=1)}


def verify(answer: Answer, passages: list[Passage], checker: SupportChecker | None = None) -> Answer:
    """Check every sentence; keep those supported, renumber their citations, list all of them in
    ``answer.sentences``. Without a ``checker`` (a caller with no embedding model) support is lexical only."""
    if answer.abstained:
        return answer
    checker = checker or SupportChecker()
    if answer.generated:
        from rag.llm.prompt import claims

        sources = sources_of(passages)
        verdicts = [checker.check(text, cites, sources) for text, cites in claims(answer.text)]
        return assemble(answer, verdicts, sources, passages)
    good = {c.n: c for c in answer.citations if quote_is_verbatim(c, passages)}
    sources = {n: Source.of_citation(c, passages) for n, c in good.items()}
    verdicts = []
    masked, quotes = mask_quotes(answer.text, [c.quote for c in answer.citations])
    for body, marks_text in split_claims(masked):
        body = unmask(body, quotes)
        if not body.strip():
            continue
        numbers = tuple(int(n) for n in re.findall(r"\[(\d+)\]", marks_text))
        verdict = checker.check(body, numbers, sources, framed=True)
        verdicts.append(verdict)
    checked = len(answer.citations)
    spans = {(c.article.doc_id, c.start, c.end): (c.answer_start, c.answer_end) for c in good.values()}
    out = assemble(answer, verdicts, sources, passages)
    # the span an extractive answer leads with stays marked in the quote it was found in
    out.citations = [dataclasses.replace(c, answer_start=a, answer_end=e)
                     if (a, e) != (None, None) and a is not None and c.start <= a and e is not None and e <= c.end
                     else c
                     for c in out.citations
                     for a, e in [spans.get((c.article.doc_id, c.start, c.end), (None, None))]]
    out.trace["verify"].update(citations_checked=checked, dropped=checked - len(out.citations))
    return out


def assemble(answer: Answer, verdicts: Sequence[Verdict], sources: dict[int, Source],
             passages: list[Passage]) -> Answer:
    """The answer made of the kept verdicts: each sentence followed by its citations, numbered in order of use;
    every verdict listed in ``answer.sentences``. Nothing kept: an abstention that keeps the list."""
    kept_text: list[str] = []
    citations: list[Citation] = []
    number: dict[tuple[str, int, int], int] = {}
    sentences: list[SentenceSupport] = []
    for v in verdicts:
        if not v.kept:
            sentences.append(SentenceSupport(v.text, False, v.score, v.lexical, v.dense, v.cited, v.reasons))
            continue
        marks = []
        for n in v.cited:
            source = sources[n]
            start, end = v.support[n]
            key = (source.article.doc_id, start, end)
            if key not in number:
                number[key] = len(number) + 1
                citations.append(Citation(number[key], source.article, start, end, source.sentence((start, end))))
            if f"[{number[key]}]" not in marks:
                marks.append(f"[{number[key]}]")
        kept_text.append(f"{v.text} {' '.join(marks)}")
        sentences.append(SentenceSupport(v.text, True, v.score, v.lexical, v.dense,
                                         tuple(int(m[1:-1]) for m in marks), v.reasons))
    answer.trace["verify"] = {"sentences": len(verdicts), "sentences_kept": len(kept_text),
                              "sentences_dropped": len(verdicts) - len(kept_text)}
    if not kept_text:
        from rag.answer import abstention
        from rag.condense import Query

        out = abstention(Query(answer.query, answer.query), passages)
        out.trace = answer.trace
        out.generated, out.sentences = answer.generated, sentences
        return out
    answer.text, answer.citations, answer.sentences = " ".join(kept_text), citations, sentences
    return answer
