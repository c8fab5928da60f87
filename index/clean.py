"""Clean: raw text → article text, with the page furniture that scrapers leave behind removed.

Pure functions. What is removed, line by line:
- navigation and app prompts ("Open in App", "Epaper", "More From This Section", "Also Read", …);
- "Tags:" clouds and agency "Disclaimer:" lines;
- "Related Stories" blocks: the heading and the headline list under it, up to the next prose line;
- a truncated teaser ("… pressure ...") whose text is repeated in full further down.
Everything else is kept verbatim, including the headline and the byline that ``describe`` reads,
except mojibake: UTF-8 text that a scraper decoded with the wrong codec ("John\u00e2\u0080\u0099s" for
"John’s") is repaired by ``ftfy.fix_encoding``, which leaves correctly decoded text alone.
Runs of blank lines become one blank line, so paragraphs stay visible.

Cleaning takes time linear in the input (give or take a logarithm): no regular expression here can
backtrack over a long line, and teasers are matched to later lines through one sorted index of the
lines, not by comparing each teaser with every later line (which made a 2 MB file of lines ending in
"…" take minutes).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

import ftfy
import numpy as np

#: Whole lines that are navigation, not news (compared case-insensitively, trailing colon ignored).
FURNITURE_LINES = frozenset(
    s.lower()
    for s in (
        "Open in App", "City", "Epaper", "E-paper", "More From This Section", "Also Read", "Read More",
        "Read Also", "Advertisement", "ADVERTISEMENT", "Share", "Share this article", "Follow us",
        "Subscribe", "Sign in", "Log in", "Trending", "Top Stories", "Latest News", "Recommended",
        "Skip to content", "Back to top", "Comments", "Print", "Email",
    )
)
_PREFIXED = re.compile(r"^\s*(tags|disclaimer|also read|read more|read also|related)\s*:", re.IGNORECASE)
_RELATED_HEADING = re.compile(
    r"^\s*(\w+\s+)?(related|realted|more|similar|recommended)\s+(stories|news|articles)\s*$", re.IGNORECASE
)
_BLANK_RUN = re.compile(r"\n(?:[^\S\n]*\n)+")  # no two ways to match one text: linear
_CLOSERS = "\"'”’)"
_TEASER_ENDS = ("...", "…")
#: A teaser's text must be longer than this to be dropped for a later line that starts with it.
_TEASER_MIN = 30


def clean(raw: str) -> str:
    """Article text of ``raw``: furniture removed, the rest verbatim.

    >>> clean("Open in App\\nHalvorsen met Okonjo.\\n\\nTags: Norland\\nRelated Stories\\nSome Headline")
    'Halvorsen met Okonjo.'
    """
    text = ftfy.fix_encoding(raw).replace("\r\n", "\n").replace("\r", "\n")
    lines = _BLANK_RUN.sub("\n\n", text).split("\n")  # a run of blank lines is one blank line, whatever its length
    kept: list[str] = []
    in_related = False
    for line in lines:
        line = line.rstrip()
        bare = line.strip()
        if _RELATED_HEADING.match(bare):
            in_related = True
            continue
        if in_related:
            if not bare or not ends_as_prose(bare):
                continue  # a headline of the related-stories list
            in_related = False
        if bare.rstrip(":").lower() in FURNITURE_LINES or _PREFIXED.match(bare):
            continue
        kept.append(line)
    kept = _drop_teasers(kept)
    text = "\n".join(line for i, line in enumerate(kept) if line.strip() or i == 0 or kept[i - 1].strip())
    return text.strip()


def ends_as_prose(line: str) -> bool:
    """A stripped line that ends a sentence (closing quotes and brackets aside).

    >>> ends_as_prose('He said "no."'), ends_as_prose("Sport headlines")
    (True, False)
    """
    return line.rstrip(_CLOSERS).endswith((".", "!", "?"))


def _teaser_stem(line: str) -> str | None:
    """The text of a line that ends in an ellipsis (a rstripped line), without it."""
    for end in _TEASER_ENDS:
        if line.endswith(end):
            return line[: -len(end)].strip()
    return None


def _drop_teasers(lines: list[str]) -> list[str]:
    """Drop a line that ends in an ellipsis when a later line starts with the same words.

    >>> _drop_teasers(["The minister said the talks would go on ...", "Other news",
    ...                "The minister said the talks would go on for a week."])
    ['Other news', 'The minister said the talks would go on for a week.']
    """
    stems = {i: stem for i, line in enumerate(lines) if (stem := _teaser_stem(line)) and len(stem) > _TEASER_MIN}
    if not stems:
        return lines
    latest = _LatestWithPrefix([line.strip() for line in lines])
    return [line for i, line in enumerate(lines) if i not in stems or latest(stems[i]) <= i]


class _LatestWithPrefix:
    """The last index of a line that starts with a given text, in O(log n) a question: the lines sorted (lines with
    one prefix are then neighbours), with a sparse table of the largest original index over each power-of-two run.

    >>> _LatestWithPrefix(["ab", "b", "abc", "c"])("ab"), _LatestWithPrefix(["x"])("y")
    (2, -1)
    """

    def __init__(self, lines: list[str]) -> None:
        order = sorted(range(len(lines)), key=lines.__getitem__)
        self.sorted = [lines[i] for i in order]
        self.table = [np.asarray(order, dtype=np.int64)]
        width = 1
        while 2 * width <= len(order):
            prev = self.table[-1]
            self.table.append(np.maximum(prev[:-width], prev[width:]))
            width *= 2

    def __call__(self, prefix: str) -> int:
        # the lines that start with ``prefix`` are those from ``prefix`` up to (not including) its successor
        lo = bisect_left(self.sorted, prefix)
        last = ord(prefix[-1]) if prefix else 0x10FFFF
        if last < 0x10FFFF:
            hi = bisect_left(self.sorted, prefix[:-1] + chr(last + 1), lo=lo)
        else:
            hi = bisect_right(self.sorted, prefix, lo=lo, key=lambda s: s[: len(prefix)])
        if hi <= lo:
            return -1
        level = (hi - lo).bit_length() - 1
        row = self.table[level]
        return int(max(row[lo], row[hi - (1 << level)]))
