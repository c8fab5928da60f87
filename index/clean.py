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
"""

from __future__ import annotations

import re

import ftfy

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
_PROSE_END = re.compile(r"""[.!?]["'”’)]*\s*$""")
_TEASER = re.compile(r"\s*(\.\.\.|…)\s*$")


def clean(raw: str) -> str:
    """Article text of ``raw``: furniture removed, the rest verbatim.

    >>> clean("Open in App\\nTillerson met Lavrov.\\n\\nTags: Russia\\nRelated Stories\\nSome Headline")
    'Tillerson met Lavrov.'
    """
    lines = ftfy.fix_encoding(raw).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    in_related = False
    for line in lines:
        line = line.rstrip()
        bare = line.strip()
        if _RELATED_HEADING.match(bare):
            in_related = True
            continue
        if in_related:
            if not bare or not _PROSE_END.search(bare):
                continue  # a headline of the related-stories list
            in_related = False
        if bare.rstrip(":").lower() in FURNITURE_LINES or _PREFIXED.match(bare):
            continue
        kept.append(line)
    kept = _drop_teasers(kept)
    text = "\n".join(kept)
    text = re.sub(r"\n[ \t]*\n(\s*\n)+", "\n\n", text)
    return text.strip()


def _drop_teasers(lines: list[str]) -> list[str]:
    """Drop a line that ends in an ellipsis when a later line starts with the same words."""
    out = []
    for i, line in enumerate(lines):
        match = _TEASER.search(line)
        if match:
            stem = line[: match.start()].strip()
            if len(stem) > 30 and any(later.strip().startswith(stem) for later in lines[i + 1 :]):
                continue
        out.append(line)
    return out
