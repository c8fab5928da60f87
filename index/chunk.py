"""Chunk: ``Article`` → ``list[Chunk]``, cut at sentence boundaries, with offsets into the article.

Sentences come from pysbd, which knows that "U.S." or "Sen." do not end a sentence. Chunks tile
the article: each one runs from the start of its first sentence to the start of the next chunk,
so joining the chunks in order gives back the article text exactly. A chunk never crosses a
paragraph break unless the paragraph pieces are tiny, and never exceeds ``max_chars`` unless a
single sentence does.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from index.types import Article, Chunk


@lru_cache(maxsize=1)
def _segmenter():  # pysbd builds its rule tables once
    import pysbd

    from index.abbreviations import English

    segmenter = pysbd.Segmenter(language="en", clean=False)
    segmenter.language_module = English  # pysbd's English, its abbreviation pass without repeats
    return segmenter


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences of ``text``; each span is stripped of white space.

    >>> t = "The U.S. Senate voted 98-2. It passed the House 419-3."
    >>> [t[s:e] for s, e in split_sentences(t)]
    ['The U.S. Senate voted 98-2.', 'It passed the House 419-3.']
    """
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text):  # a line break always ends a sentence
        start, end = para.span()
        while end - start > _WINDOW:  # pysbd's time grows with the square of its input: a window at a time
            found = _segment(text, start, start + _WINDOW)
            if len(found) > 1:  # keep all but the last sentence, which the window may have cut
                spans.extend(found[:-1])
                start = found[-1][0]
            else:  # thousands of characters with no sentence end: cut at the last space
                cut = text.rfind(" ", start + 1, start + _WINDOW)
                cut = cut if cut > start else start + _WINDOW
                spans.extend(_segment(text, start, cut))
                start = cut
        spans.extend(_segment(text, start, end))
    return spans


#: The longest text given to pysbd at once (news paragraphs are shorter; a longer one is split a window at a time,
#: each window's last sentence carried into the next, so a 2 MB one-line upload costs linear time, not hours).
_WINDOW = 4000


def _segment(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the sentences pysbd finds in ``text[start:end]`` (one line, or a window of one)."""
    return [(start + s, start + e) for s, e in _segment_piece(text[start:end])]


@lru_cache(maxsize=20_000)
def _segment_piece(piece: str) -> tuple[tuple[int, int], ...]:
    """``_segment`` of one piece of text, relative to it: a line met again (a byline, a footer, wire copy run twice;
    over half the lines of ``../shared/data``) is not split again."""
    return tuple(_segment_uncached(piece, 0, len(piece)))


def pysbd_sentences(text: str) -> list[str]:
    """What pysbd's ``Segmenter.segment(text)`` returns (each sentence with the white space after it), without its
    last step's cost: pysbd finds each sentence back in the text with a regular expression made for that sentence,
    which Python compiles anew every time (and which pushes pysbd's own abbreviation patterns out of the ``re``
    module's cache of 512, so they are compiled again too). Here each is found with ``str.find``, by the same
    rule: the first occurrence, with the white space after it, that ends past the sentence before. Splitting the
    7,263 different lines of 400 articles took 4.9 CPU-s instead of 8.0, with the same sentences."""
    if not text:
        return []
    out: list[str] = []
    prior, n = 0, len(text)
    for sentence in _segmenter().processor(text).process():
        if not sentence:  # pysbd's pattern is then \s* alone
            match = next((m for m in re.finditer(r"\s*", text) if m.end() > prior), None)
            if match is not None:
                out.append(match.group())
                prior = match.end()
            continue
        at = text.find(sentence)
        while at >= 0:
            end = at + len(sentence)
            while end < n and text[end].isspace():  # pysbd's pattern ends in \s*: what str.isspace() is true of
                end += 1
            if end > prior:
                out.append(text[at:end])
                prior = end
                break
            at = text.find(sentence, end)  # finditer's next match starts where this one ended
    return out


def _segment_uncached(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = start
    for sentence in pysbd_sentences(text[start:end]):
        piece = sentence.strip()
        if not piece:
            continue
        at = text.find(piece, cursor, end)
        if at < 0:  # pysbd changed the text: the rest of the line is one sentence
            rest = text[cursor:end]
            piece = rest.strip()
            if piece:
                at = cursor + len(rest) - len(rest.lstrip())
                spans.append((at, at + len(piece)))
            break
        spans.append((at, at + len(piece)))
        cursor = at + len(piece)
    return spans


def chunk_article(article: Article, max_chars: int = 600) -> list[Chunk]:
    """Group whole sentences into chunks of at most ``max_chars`` characters that tile the article."""
    text = article.text
    sentences = split_sentences(text)
    groups: list[list[tuple[int, int]]] = []
    for span in sentences:
        if groups:
            current = groups[-1]
            length = span[1] - current[0][0]
            crosses_paragraph = "\n\n" in text[current[-1][1] : span[0]]
            small = current[-1][1] - current[0][0] < max_chars // 4
            if length <= max_chars and (not crosses_paragraph or small):
                current.append(span)
                continue
        groups.append([span])
    chunks = []
    for i, group in enumerate(groups):
        start = 0 if i == 0 else group[0][0]
        end = groups[i + 1][0][0] if i + 1 < len(groups) else len(text)
        chunk_text = text[start:end]
        chunks.append(
            Chunk(
                chunk_id=chunk_id_for(article.doc_id, start, chunk_text),
                doc_id=article.doc_id,
                text=chunk_text,
                start=start,
                end=end,
                sentences=tuple(group),
            )
        )
    return chunks


def chunk_id_for(doc_id: str, start: int, text: str) -> str:
    """A chunk's id: a hash of its article, position and text, so unchanged content keeps its id."""
    return hashlib.sha256(f"{doc_id}:{start}:{text}".encode()).hexdigest()[:24]
