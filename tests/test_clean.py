"""Clean: page furniture never reaches the article text; every line of news survives verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.clean import clean

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def raw(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


# -- 002: an IANS wire story scraped with all of its page around it ---------------------------------

BODY_002 = [
    "'Russia-US ties approach dangerous confrontational point'",
    "By IANS | Updated: July 22, 2021 10:15 IST",
    'Moscow, July 22 The Russia-US relations have approached a "dangerous confrontational point" and are marked '
    "by systemic pressure from Washington, a statement issued by the Foreign Ministry in Moscow said.",
    "Ties between Russia and the US have been deteriorating in recent years due to Washington's actions, according "
    "to the statement published on Wednesday following a meeting of the Ministry's Collegium.",
    "Russia is under systemic pressure from the US and its allies, which is largely driven by ideological factors, "
    "it said.",
    "Washington's position grossly violates international law and will be met with firm opposition, it said, adding "
    "that Russia will uphold its legitimate interests.",
    "According to the Ministry, the June summit between Russian President Vladimir Putin and his US counterpart Joe "
    "Biden in Geneva showed there were opportunities for reviving constructive dialogue in areas where interests "
    "coincide such as strategic stability, climate change, cybersecurity, and the resolution of regional conflicts.",
]


def test_the_002_body_paragraphs_are_all_in_the_raw_file():
    """A check of the expectations themselves: they are copied from the file, not paraphrased."""
    lines = raw("002").split("\n")
    for paragraph in BODY_002:
        assert paragraph in lines


def test_002_keeps_its_headline_byline_and_body_verbatim_and_nothing_else():
    assert clean(raw("002")) == "\n\n".join(BODY_002)


@pytest.mark.parametrize(
    "furniture",
    [
        "Open in App",
        "City",
        "Epaper",
        "Tags:",
        "Vladimir PutinMoscowForeign Ministry",  # the tag cloud
        "Disclaimer:",
        "auto-published from an agency feed",
        "Related Stories",
        "Realted Stories",
        "Permanent Consumer Protection Mechanism",
        "Irani Boy",
        "Cognitive Test",
        "Prays for Joe Biden",
        "Accepts PM Modi",
        "Chaddi Baniyan",
        "Monsoon Session",
        "Thackeray",
        "Assembly Bypoll",
        "systemic pressure ...",  # the truncated teaser of the first paragraph
    ],
)
def test_002_furniture_is_gone(furniture):
    assert furniture not in clean(raw("002"))


def test_002_the_teaser_goes_but_the_full_paragraph_it_repeats_stays():
    text = clean(raw("002"))
    assert text.count("The Russia-US relations have approached") == 1
    assert "marked by systemic pressure from Washington" in text


# -- 001 and 000: plain text with a few navigation lines in the middle --------------------------------


def test_001_also_read_and_disclaimer_go_but_the_paragraphs_after_also_read_stay():
    source = raw("001")
    text = clean(source)
    assert "Also Read" not in text
    assert "Disclaimer" not in text
    assert "Business Standard Journalist" not in text
    after_also_read = source.split("Also Read\n", 1)[1].split("\nDisclaimer:", 1)[0]
    assert after_also_read.startswith("Under increasing pressure over his administration's relationship")
    assert text.endswith(after_also_read)
    assert len(after_also_read.split("\n")) == 8  # Trump on Obama, Crimea, Spicer, Zakharova, campaign


def test_001_everything_but_the_two_furniture_lines_is_kept_in_order():
    lines = [line for line in raw("001").split("\n") if line != "Also Read" and not line.startswith("Disclaimer:")]
    assert clean(raw("001")) == "\n".join(lines).strip()


def test_000_more_from_this_section_goes_and_nothing_else_changes():
    source = raw("000")
    assert "\nMore From This Section\n" in source
    assert clean(source) == source.replace("More From This Section\n", "").strip()


# -- the function itself ---------------------------------------------------------------------------


def test_text_without_furniture_comes_back_unchanged_apart_from_outer_whitespace():
    text = (
        "MOSCOW (Reuters) - Lavrov met Tillerson in Manila.\n"
        "\n"
        "They discussed the sanctions... and more.\n"
        "Tags are not a heading in this sentence: Read More about it tomorrow.\n"
    )
    assert clean("\n\n  " + text + "  \n\n") == text.strip()


def test_runs_of_blank_lines_become_one_blank_line():
    assert clean("One.\n\n\n\n\nTwo.") == "One.\n\nTwo."


def test_a_related_stories_list_ends_at_the_next_prose_line():
    raw_text = "Lavrov spoke.\nRelated Stories\nSome Headline Here\nAnother Headline\nThe talks resumed on Monday."
    assert clean(raw_text) == "Lavrov spoke.\nThe talks resumed on Monday."


def test_a_teaser_is_kept_when_its_full_text_never_follows():
    raw_text = "The ministry said relations were marked by systemic pressure ...\nNothing else."
    assert clean(raw_text) == raw_text


def test_mojibake_from_a_wrong_codec_is_repaired_and_correct_text_left_alone():
    # Scraped rows of ../shared/data hold UTF-8 decoded as Latin-1/cp1252: "â\x80\x99" for "’".
    assert clean("Reba Monica John\u00e2\u0080\u0099s moments") == "Reba Monica John’s moments"
    assert clean("two men\u00e2\u0080\u0094Donald J. Trump") == "two men—Donald J. Trump"
    right = "Mumbai’s “Efforts” — café in Zürich, 10:15 IST."
    assert clean(right) == right


# -- bounded work ----------------------------------------------------------------------------------


def pathological(limit: int = 1_999_000) -> str:
    """Just under the 2 MB upload limit of distinct lines that each end in an ellipsis: every line is a teaser whose
    text might start a later line (this took 151 s to clean when each teaser was compared with every later line)."""
    lines, size, n = [], 0, 0
    while size < limit - 80:
        line = f"Report {n:07d} on the council budget, continued on the next page …"
        lines.append(line)
        size += len(line.encode()) + 1
        n += 1
    return "\n".join(lines)


@pytest.mark.timeout(30)  # a hang guard, not a speed test: the time is measured by `make test-reliability`
def test_a_2mb_file_of_teasers_is_cleaned_in_one_pass_and_keeps_every_line():
    text = pathological()
    assert 1_990_000 < len(text.encode()) < 2_000_000
    assert clean(text) == text  # no later line starts with any of them: all kept


@pytest.mark.timeout(30)
def test_teasers_whose_text_follows_are_dropped_however_many_there_are():
    full = [f"Report {n:05d} on the council budget, which the mayor signed on Monday." for n in range(20_000)]
    teasers = [line[:40] + " …" for line in full]
    assert clean("\n".join(teasers + full)) == "\n".join(full)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text", [
    "a" + " " * 1_000_000 + "b",  # a regex that backtracks over a run of spaces is quadratic in it
    "Related Stories\n" + ".'" * 500_000,
    "One.\n" + "\n \t\n" * 300_000 + "Two.",
], ids=["space-run", "quote-run", "blank-lines"])
def test_long_runs_that_defeat_backtracking_regexes_are_cleaned(text):
    out = clean(text)
    assert out == {"a": "a" + " " * 1_000_000 + "b", "R": ".'" * 500_000, "O": "One.\n\nTwo."}[text[0]]
