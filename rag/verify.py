"""Verify: an ``Answer`` + the passages it came from → the same answer, with every claim checked.

A citation stands only if its quote is the exact text of a retrieved passage at the cited span
(and so verbatim text of the stored article). An answer sentence whose citations all fail is
dropped; an answer with nothing left abstains. Backends that generate text (LLMs) go through the
same check as the extractive one.
"""

from __future__ import annotations

import dataclasses
import re

from rag.types import Answer, Citation, Passage

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


def verify(answer: Answer, passages: list[Passage]) -> Answer:
    """Drop citations that are not verbatim and sentences left without one; renumber what stays."""
    if answer.abstained:
        return answer
    good = {c.n: c for c in answer.citations if quote_is_verbatim(c, passages)}
    kept_text: list[str] = []
    kept: list[Citation] = []
    renumber: dict[int, int] = {}
    for body, marks_text in split_claims(answer.text):  # a body without markers has no valid number: dropped
        numbers = [int(n) for n in re.findall(r"\[(\d+)\]", marks_text)]
        valid = [n for n in numbers if n in good]
        body = body.strip()
        if not valid or not body:
            continue
        marks = []
        for n in valid:
            if n not in renumber:
                renumber[n] = len(renumber) + 1
                c = good[n]
                kept.append(dataclasses.replace(c, n=renumber[n]))
            marks.append(f"[{renumber[n]}]")
        kept_text.append(f"{body} {' '.join(marks)}")
    dropped = len(answer.citations) - len(kept)
    answer.trace["verify"] = {"citations_checked": len(answer.citations), "dropped": dropped}
    if not kept:
        from rag.answer import abstention
        from rag.condense import Query

        out = abstention(Query(answer.query, answer.query), passages)
        out.trace = answer.trace
        return out
    answer.text, answer.citations = " ".join(kept_text), kept
    return answer
