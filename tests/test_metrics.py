"""Every metric on hand-worked examples taken from the seed articles."""

from __future__ import annotations

import doctest

import pytest

from eval import metrics as m

HOUSE = "It passed the House on Tuesday 419-3."
SENATE = "The bill was approved overwhelmingly by the Senators 98-2 and that gives Congress new powers."
CRIMEA = '"Crimea is part of the Russian Federation," she told reporters.'


def test_docstring_examples_hold():
    result = doctest.testmod(m)
    assert result.attempted >= 15 and result.failed == 0


def test_normalise_case_whitespace_and_curly_quotes():
    assert m.normalise("  \u201cCrimea  is\tPART\u201d\n of \u2018it\u2019 ") == "\"crimea is part\" of 'it'"


def test_contains_ignores_case_spacing_and_quote_style():
    assert m.contains(CRIMEA, "\u201ccrimea is  PART of the russian federation,\u201d")
    assert not m.contains(CRIMEA, "Crimea is part of Ukraine")
    assert not m.contains(CRIMEA, "   ")  # an empty needle never matches


# -- retrieval -------------------------------------------------------------------------------------

PASSAGES = ["Trump tweeted.", f"Some context. {SENATE} {HOUSE}", "Medvedev spoke."]


def test_recall_at_k_needs_every_evidence_string_in_the_top_k():
    evidence = [HOUSE, "The bill was approved overwhelmingly by the Senators 98-2"]
    assert m.recall_at_k(evidence, PASSAGES, k=1) == 0.0
    assert m.recall_at_k(evidence, PASSAGES, k=2) == 1.0
    assert m.recall_at_k(evidence + ["Medvedev spoke."], PASSAGES, k=2) == 0.0  # 2 of 3 found: still 0
    assert m.evidence_share(evidence + ["Medvedev spoke."], PASSAGES, k=2) == pytest.approx(2 / 3)
    assert m.evidence_share(evidence + ["Medvedev spoke."], PASSAGES, k=3) == 1.0


def test_evidence_split_across_two_passages_is_not_found():
    # matched by containment in one passage: a sentence cut in half by chunking is not retrieved
    assert m.recall_at_k([HOUSE], ["It passed the House", "on Tuesday 419-3."], k=2) == 0.0


def test_reciprocal_rank_is_one_over_the_first_rank_with_any_evidence():
    assert m.reciprocal_rank([HOUSE], PASSAGES) == 0.5
    assert m.reciprocal_rank(["Medvedev spoke", HOUSE], PASSAGES) == 0.5  # the first hit wins
    assert m.reciprocal_rank(["Trump TWEETED"], PASSAGES) == 1.0
    assert m.reciprocal_rank(["Lavrov"], PASSAGES) == 0.0
    assert m.reciprocal_rank([HOUSE], []) == 0.0


def test_empty_evidence_is_vacuously_recalled_but_has_no_rank():
    assert m.recall_at_k([], PASSAGES, k=5) == 1.0
    assert m.evidence_share([], PASSAGES, k=5) == 1.0
    assert m.reciprocal_rank([], PASSAGES) == 0.0


# -- answers ---------------------------------------------------------------------------------------


def test_answer_correct_needs_every_key_phrase():
    answer = "The U.S. lawmakers passed new sanctions on Russia, Iran and\nNorth  Korea [1]."
    assert m.answer_correct(answer, ["Russia", "Iran", "north korea"])
    assert not m.answer_correct(answer, ["Russia", "Cuba"])
    assert m.answer_correct(answer, [])  # no key phrases: vacuously correct
    assert m.answer_correct("\u201cfull-fledged economic war\u201d", ['"full-fledged economic war"'])


# -- citations -------------------------------------------------------------------------------------


def test_overlap_by_containment_either_way():
    assert m.overlaps(HOUSE, "the house on tuesday 419-3")
    assert m.overlaps("the house on tuesday 419-3", HOUSE)


def test_overlap_by_a_long_common_run():
    # 49 common characters ("the bill was approved overwhelmingly by the senat"): at least 40, though under
    # 60% of the shorter text (93 characters)
    a = "Earlier: The bill was approved overwhelmingly by the Senate, 98 to 2, on Thursday evening in Washington."
    assert len(m.normalise(SENATE)) == 93
    assert m.longest_common_run(m.normalise(a), m.normalise(SENATE)) == 49
    assert m.overlaps(a, SENATE)
    # a short run under 40 characters and under 60% of the shorter text: no overlap
    assert not m.overlaps("Trump tweeted on Tuesday.", HOUSE)  # " on tuesday" is 11 of 25 characters


def test_overlap_by_share_of_the_shorter_text():
    # " the house on tuesday " (22 characters) is over 60% (18) of the 30-character quote
    quote = "So the house on tuesday voted."
    assert len(m.normalise(quote)) == 30
    assert m.longest_common_run(m.normalise(quote), m.normalise(HOUSE)) == 22
    assert m.overlaps(quote, HOUSE)


def test_citation_precision_counts_quotes_on_evidence_or_a_key_phrase():
    evidence = [HOUSE]
    quotes = [HOUSE, "Tass news agency quoted the ministry.", "The vote was 419-3 in the end."]
    assert m.citation_precision(quotes, evidence, ["419-3"]) == pytest.approx(2 / 3)
    assert m.citation_precision(quotes, evidence, ["Tass"]) == pytest.approx(2 / 3)
    assert m.citation_precision(quotes, evidence, ["Tass", "419-3"]) == 1.0


def test_citation_precision_without_citations_is_zero():
    assert m.citation_precision([], [HOUSE], ["419-3"]) == 0.0


def test_citation_recall_is_the_share_of_evidence_some_quote_overlaps():
    quotes = [f"{SENATE} {HOUSE}"]  # one long quote holding both sentences
    assert m.citation_recall(quotes, [HOUSE, SENATE]) == 1.0
    assert m.citation_recall([HOUSE], [HOUSE, SENATE]) == 0.5
    assert m.citation_recall([], [HOUSE]) == 0.0
    assert m.citation_recall([HOUSE], []) == 1.0  # no evidence: vacuously recalled


def test_curly_quoted_citation_matches_straight_quoted_evidence():
    curly = "\u201cCrimea is part of the Russian Federation,\u201d she told reporters."
    assert m.citation_precision([curly], [CRIMEA], []) == 1.0
    assert m.citation_recall([curly], [CRIMEA]) == 1.0


def test_cited_chars_sums_quote_lengths():
    assert m.cited_chars([HOUSE, "abc"]) == len(HOUSE) + 3 == 40
    assert m.cited_chars([]) == 0


# -- abstention ------------------------------------------------------------------------------------


def test_abstention_precision_recall_and_false_abstentions():
    # questions:   unans  unans  ans    ans    unans
    abstained = [True, False, True, False, True]
    unanswerable = [True, True, False, False, True]
    scores = m.abstention_scores(abstained, unanswerable)
    assert scores == {"abstain_precision": pytest.approx(2 / 3), "abstain_recall": pytest.approx(2 / 3),
                      "false_abstentions": 1.0}


def test_never_abstaining_scores_zero_not_an_error():
    assert m.abstention_scores([False, False], [True, False]) == {
        "abstain_precision": 0.0, "abstain_recall": 0.0, "false_abstentions": 0.0}
    assert m.abstention_scores([], []) == {"abstain_precision": 0.0, "abstain_recall": 0.0, "false_abstentions": 0.0}
    with pytest.raises(ValueError):
        m.abstention_scores([True], [])


# -- latency ---------------------------------------------------------------------------------------


def test_percentiles_of_few_values_interpolate_linearly():
    assert m.percentile([300.0], 95) == 300.0
    assert m.percentile([100.0, 200.0], 50) == 150.0
    assert m.percentile([100.0, 200.0], 95) == pytest.approx(195.0)  # 100 + 0.95 * 100
    assert m.percentile([40, 10, 30, 20], 50) == 25.0  # unsorted input
    assert m.percentile([10, 20, 30, 40, 1000], 95) == pytest.approx(808.0)  # 40 + 0.8 * 960
    assert m.percentile([], 95) == 0.0
    with pytest.raises(ValueError):
        m.percentile([1.0], 101)


def test_mean():
    assert m.mean([1.0, 0.0, 0.5]) == 0.5
    assert m.mean([]) == 0.0


def test_a_key_phrase_is_stated_even_when_quote_marks_interrupt_it():
    answer = 'Trump commented that the Crimea peninsula was \u201ctaken\u201d by Russia. [1]'
    assert m.answer_correct(answer, ["TAKEN by Russia"])
    assert not m.answer_correct(answer, ["taken from Russia"])
    assert m.citation_supported('Crimea was "taken" by Russia.', [], ["taken by Russia"])
