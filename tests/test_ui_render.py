"""What the app shows, as pure functions: answers, citations, the source panel, conversations, the
evaluation summary and the library's search (no server needed)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from index.types import Article, Chunk
from rag.render import understood_as
from rag.types import Answer, ArticleInfo, Citation, Passage
from ui import conversations, evaluation, library, render

TEXT = "Ann Lee said the council vote was 12-3. The bridge opens in May. Work starts on Monday."
INFO = ArticleInfo("d1", "vote.txt", "Council backs bridge", "Town Crier", date(2020, 5, 2))


def answer(**changes) -> Answer:
    cite = Citation(1, INFO, 0, 39, TEXT[0:39], answer_start=34, answer_end=38)
    passages = [Passage(Chunk("c1", "d1", TEXT[0:65], 0, 65), INFO, 0.91, 1),
                Passage(Chunk("c2", "d1", TEXT[65:], 65, len(TEXT)), INFO, 0.42, 2)]
    base = dict(text="Ann Lee said the council vote was 12-3. [1]", citations=[cite], abstained=False,
                query="How did the council vote?", passages=passages, trace={})
    return Answer(**{**base, **changes})


def test_text_is_escaped_for_html_and_markdown():
    assert render.text("<script>*x*</script> [1] a_b") == "&lt;script&gt;&#42;x&#42;&lt;/script&gt; &#91;1&#93; a&#95;b"


def test_split_sentences_keeps_markers_with_their_sentence():
    assert render.split_sentences("A said x. [1] B said y. [2] [3]") == ["A said x. [1]", " B said y. [2] [3]"]
    assert "".join(render.split_sentences("no markers")) == "no markers"


def test_parse_cite_round_trips_with_and_without_the_key_span():
    assert render.parse_cite(render.cite_key("7913dfa1", 10, 42)) == ("7913dfa1", 10, 42, None, None)
    assert render.parse_cite(render.cite_key("7913dfa1", 10, 42, 20, 24)) == ("7913dfa1", 10, 42, 20, 24)
    assert render.cite_key("d", 10, 42, 40, 50) == "d:10:42"  # a key span outside the quote is dropped
    with pytest.raises(ValueError):
        render.parse_cite("nonsense")


def test_source_html_marks_the_span_and_escapes_the_article():
    article = Article("d1", "a.txt", "Hi <script>alert(1)</script>. Quote here. End.", title="T & <b>")
    shown = render.source_html(article, 30, 41)
    assert '<mark id="nr-mark">Quote here.</mark>' in shown
    assert "&lt;script&gt;" in shown and "<script>" not in shown
    assert "T &amp; &lt;b&gt;" in shown and "date unknown" in shown and "source: unknown" in shown


def test_source_html_bolds_the_answer_s_key_span_inside_the_mark():
    article = Article("d1", "vote.txt", TEXT, title="Council backs bridge")
    shown = render.source_html(article, 0, 39, 34, 38)
    assert '<mark id="nr-mark">Ann Lee said the council vote was <strong class="nr-key">12-3</strong>.</mark>' in shown


def test_an_untitled_article_is_not_named_by_its_file_twice():
    shown = render.source_html(Article("d1", "000_8a1e.txt", TEXT))
    assert shown.count("000_8a1e.txt") == 1


def test_citations_name_title_date_and_source_and_carry_the_key_span():
    html = render.answer_html(answer())
    assert "Council backs bridge · 2020-05-02 · Town Crier" in html
    assert 'href="#nr-cite:d1:0:39:34:38"' in html
    assert "vote.txt" not in html.split("nr-searched")[0]  # the file name is not the reader's business


def test_what_was_searched_lists_every_passage_with_its_score_and_marks_the_cited_one():
    html = render.searched(answer())
    assert html.count("<li>") == 2
    assert "score 0.91" in html and "score 0.42" in html
    assert html.index("cited") < html.index("score 0.91") and html.count(">cited<") == 1
    assert ">&#35;1</a>" in html and ">&#35;2</a>" in html and "[1]" not in html  # "#1": never read as [1]


def test_understood_as_only_when_the_query_carries_more_than_the_question():
    assert understood_as("And what did he say there?", "And what did he say there? (Lavrov, Manila)") == \
        "And what did he say there? (Lavrov, Manila)"
    assert understood_as("um, can u tell me how the senate voted", "how the senate voted") is None
    assert understood_as("How did the Senate vote?", "How did the Senate vote?") is None
    shown = render.answer_html(answer(query="How did the council vote? (bridge)"), question="How did the council vote?")
    assert "Understood as: <em>How did the council vote? (bridge)</em>" in shown
    assert "Understood as" not in render.answer_html(answer(), question="How did the council vote?")


def test_an_answer_as_markdown_quotes_each_citation_with_its_place():
    md = render.answer_markdown("How did the council vote?", answer())
    assert md.startswith("## How did the council vote?\n\nAnn Lee said the council vote was 12-3. [1]")
    assert "[1] Council backs bridge · 2020-05-02 · Town Crier · `vote.txt`, characters 0–39" in md
    assert "> Ann Lee said the council vote was 12-3." in md


# -- conversations kept in the browser ---------------------------------------------------------------------


def test_conversations_are_saved_most_recent_first_and_exported_as_markdown():
    first_turn = [{"question": "How did the council vote?", "markdown": "## How did the council vote?\n\n12-3 [1]\n"}]
    msgs = [{"role": "user", "content": "How did the council vote?"}, {"role": "assistant", "content": "<div>…</div>"}]
    a, saved = conversations.save([], None, msgs, first_turn)
    b, saved = conversations.save(saved, None, msgs, [{"question": "When does the bridge open?", "markdown": "x"}])
    assert [c["id"] for c in saved] == [b, a]
    assert conversations.choices(saved) == [("When does the bridge open? · 1 question", b),
                                            ("How did the council vote? · 1 question", a)]
    _, saved = conversations.save(saved, a, msgs * 2, first_turn * 2)  # a goes on: back to the top
    assert [c["id"] for c in saved] == [a, b] and len(saved[0]["turns"]) == 2
    md = conversations.to_markdown(conversations.find(saved, a))
    assert md.startswith("# How did the council vote?") and md.count("## How did the council vote?") == 2
    assert [c["id"] for c in conversations.delete(saved, a)] == [b]


def test_an_empty_conversation_is_not_saved_and_foreign_storage_is_ignored():
    assert conversations.save([], None, [], []) == (None, [])
    assert conversations.clean({"not": "a list"}) == []
    assert conversations.clean([{"id": 1}, "x", {"id": "ok", "messages": [], "turns": []}]) == [
        {"id": "ok", "messages": [], "turns": []}]


def test_conversations_are_bounded():
    saved: list = []
    turns = [{"question": f"q{i}", "markdown": ""} for i in range(conversations.MAX_TURNS + 5)]
    for _ in range(conversations.MAX_CONVERSATIONS + 3):
        _, saved = conversations.save(saved, None, [], turns)
    assert len(saved) == conversations.MAX_CONVERSATIONS
    assert len(saved[0]["turns"]) == conversations.MAX_TURNS and saved[0]["turns"][-1]["question"] == turns[-1][
        "question"]


# -- the evaluation summary ------------------------------------------------------------------------------


def report(rows, totals=None):
    return SimpleNamespace(rows=rows, totals=totals or {})


ROWS = [
    {"id": "q1", "question": "How did the council vote?", "answer": "12-3 [1]", "answerable": True, "correct": True,
     "abstained": False, "ok": True, "latency_ms": 5.0},
    {"id": "q2", "question": "When does the bridge open?", "answer": "Work starts on Monday. [1]", "answerable": True,
     "correct": False, "abstained": False, "ok": False, "latency_ms": 7.0},
    {"id": "q3", "question": "Who won the 1998 World Cup?", "answer": "The articles don't say.", "answerable": False,
     "correct": None, "abstained": True, "ok": True, "latency_ms": 3.0},
    {"id": "q4", "question": "Who is the mayor?", "answer": "Nothing supports an answer.", "answerable": True,
     "correct": False, "abstained": True, "ok": False, "latency_ms": 4.0},
]
ITEMS = [SimpleNamespace(id="q2", answers=("May",)), SimpleNamespace(id="q4", answers=("Ann Lee",))]


def test_the_summary_says_in_words_how_many_went_right_and_why_not():
    f = evaluation.figures(report(ROWS, {"recall_at_k": 2 / 3, "citation_precision": 0.5}), ITEMS, k=5)
    html = evaluation.summary_html(f)
    assert "2 of 4</span> questions handled right (50%)" in html
    assert "Answered correctly:</strong> 1 of 3 (33%)" in html
    assert "Found the evidence:</strong> for 2 of 3 (67%)" in html and "among the 5 passages" in html
    assert "Declined when it should:</strong> 1 of 1 (100%)" in html and "declined 1 question it could" in html
    assert "typically takes 4 ms" in html or "typically takes 5 ms" in html


def test_the_failed_table_gives_the_answer_given_and_the_expected_phrases():
    f = evaluation.figures(report(ROWS), ITEMS)
    html = evaluation.failed_html(f)
    assert "2 questions went wrong" in html
    assert "Work starts on Monday. [1]" in html and "“May”" in html and "wrong answer" in html
    assert "(declined)" in html and "“Ann Lee”" in html and "declined, but the articles answer it" in html


def test_the_summary_leaves_out_what_the_report_does_not_give():
    f = evaluation.figures(report([ROWS[0]]), [])
    html = evaluation.summary_html(f)
    assert "Found the evidence" not in html and "Citations on target" not in html
    assert "No question went wrong" in evaluation.failed_html(f)


# -- the library's search and details -------------------------------------------------------------------


def test_library_search_needs_every_word_somewhere_in_the_row():
    a = SimpleNamespace(label="Senate passes sanctions", source="IANS", published=date(2017, 7, 27), file="x.txt",
                        doc_id="7913dfa1", chunks=3)
    b = SimpleNamespace(label="Untitled (y.txt)", source=None, published=None, file="y.txt", doc_id="aa", chunks=1)
    assert library.shown([a, b], "sanctions 2017") == [a]
    assert library.shown([a, b], "") == [a, b]
    assert library.row(b) == ["Untitled (y.txt)", "unknown", "unknown", "y.txt", 1]


def test_details_typed_by_a_person_are_read_and_a_bad_date_says_how_to_write_it():
    d = library.details("  A title ", "", "6 August 2017")
    assert (d.title, d.source, d.published) == ("A title", None, date(2017, 8, 6))
    from rag.errors import NewsragError

    with pytest.raises(NewsragError, match="like 2017-08-06"):
        library.details("", "", "soon")
