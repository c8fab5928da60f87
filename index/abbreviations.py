"""pysbd's English rules, with its abbreviation pass doing each of its rewrites once instead of once per occurrence.

pysbd marks the period after an abbreviation ("Sen.", "No.", "al.") so that it does not end a sentence. For each
abbreviation of its list that a line holds, it rewrites the whole line once for *every* occurrence of it, though
each rewrite is a global substitution decided by the matched text alone (and, in principle, the next word's case):
a long paragraph with "al" in forty words ("also", "all", "already" match its pattern) is rewritten forty times the
same way. A rewrite only turns a period into pysbd's marker, which no later rewrite of the same text can match
again, so the repeats change nothing; here each distinct one is done once. Why hand-written: pysbd has no option
for it. ``tests/test_properties.py`` holds ``index.chunk.pysbd_sentences``, which uses these rules, to the sentences
of pysbd's own ``Segmenter.segment()`` on any text.

>>> from pysbd.processor import Processor
>>> Processor("Sen. Al Lee also met all aides at No. 10 with al. et al. on Jan. 3.", English).process()
['Sen. Al Lee also met all aides at No. 10 with al. et al. on Jan. 3.']
"""

from __future__ import annotations

import re

from pysbd.lang.english import English as _PysbdEnglish


class English(_PysbdEnglish):
    """pysbd's English, as ``pysbd.Segmenter(language="en")`` uses it, but for the abbreviation pass."""

    class AbbreviationReplacer(_PysbdEnglish.AbbreviationReplacer):
        def search_for_abbreviations_in_string(self, text: str) -> str:
            # pysbd 0.3.4's method, line for line, but for the `done` set
            lowered = text.lower()
            for abbr in self.lang.Abbreviation.ABBREVIATIONS:
                stripped = abbr.strip()
                if stripped not in lowered:
                    continue
                abbrev_match = re.findall(rf"(?:^|\s|\r|\n){stripped}", text, flags=re.IGNORECASE)
                if not abbrev_match:
                    continue
                next_word_start = r"(?<={" + str(re.escape(stripped)) + "} ).{1}"
                char_array = re.findall(next_word_start, text)
                done: set[tuple[str, bool]] = set()
                for ind, match in enumerate(abbrev_match):
                    # what scan_for_replacements reads of a match: the matched text and the next word's case
                    key = (match.strip(), str(char_array[ind] if ind < len(char_array) else "").isupper())
                    if key not in done:
                        done.add(key)
                        text = self.scan_for_replacements(text, match, ind, char_array)
            return text
