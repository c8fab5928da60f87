"""The served app through its API (gradio_client), against a real `newsrag serve` subprocess.

One server per module: it ingests the seeds into a fresh data folder, warms up, then listens on a
free loopback port.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from served import serving

MANILA = "What did Lavrov say in Manila?"
SENATE = "How did the Senate vote on the sanctions bill?"


def message_text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serving(tmp_path_factory, "ui-api")


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def library_files(client) -> list[str]:
    table = client.predict(api_name="/library")[0]
    return [row[0] for row in table["data"]]


def test_manila_question_cites_article_000(client):
    result = client.predict(MANILA, "[]", api_name="/ask")
    assert set(result) >= {"answer", "abstained", "query", "citations", "passages", "timings_ms"}
    assert not result["abstained"]
    assert result["citations"]
    assert all(c["file"].startswith("000_") for c in result["citations"])
    assert "Lavrov" in result["answer"]
    assert "[1]" in result["answer"]


def test_follow_up_is_rewritten_and_stays_in_manila(client):
    result = client.predict("And what did Tillerson say there?", json.dumps([MANILA]), api_name="/ask")
    assert "Manila" in result["query"]
    files = {c["file"][:3] for c in result["citations"]}
    assert files == {"000"}


def test_history_may_be_a_list(client):
    result = client.predict("And what did Tillerson say there?", [MANILA], api_name="/ask")
    assert "Manila" in result["query"]


def test_upload_then_ask_the_new_article(client, tmp_path):
    article = tmp_path / "zanzibar_cloves.txt"
    article.write_text(
        "Zanzibar clove harvest breaks a sixty-year record\n\n"
        "STONE TOWN, March 5, 2019 - The Zanzibar State Trading Corporation said on Tuesday that the "
        "island's clove harvest reached 9,412 tonnes this season, the largest crop since 1959.\n\n"
        "Farmers on Pemba island credited the early rains for the record harvest. Exporters expect prices "
        "to fall slightly as the new crop reaches markets in India and Indonesia.\n",
        encoding="utf-8",
    )
    from gradio_client import handle_file

    status, table, *_ = client.predict(handle_file(str(article)), api_name="/upload")
    assert "added" in status, status
    assert "zanzibar_cloves.txt" in [row[0] for row in table["data"]]
    result = client.predict("How many tonnes of cloves did Zanzibar harvest?", "[]", api_name="/ask")
    assert not result["abstained"], result
    assert any(c["file"] == "zanzibar_cloves.txt" for c in result["citations"])
    assert "9,412" in result["answer"]


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("photo.txt", bytes(range(256)) * 8, "binary"),
    ("empty.txt", b"", "empty"),
])
def test_bad_upload_is_refused_and_changes_nothing(client, tmp_path, name, data, reason):
    from gradio_client import handle_file

    before = library_files(client)
    path = tmp_path / name
    path.write_bytes(data)
    status, table, *_ = client.predict(handle_file(str(path)), api_name="/upload")
    assert "✗" in status and reason in status, status
    assert "Nothing was changed" in status
    assert [row[0] for row in table["data"]] == before
    assert library_files(client) == before


def test_unknown_citation_key_shows_a_message_not_a_traceback(client):
    shown = client.predict("nosuchdoc:0:5", api_name="/source")
    assert "Traceback" not in shown
    assert "nosuchdoc" in shown


def test_source_endpoint_highlights_the_cited_span(client):
    cite = client.predict(MANILA, "[]", api_name="/ask")["citations"][0]
    shown = client.predict(f"{cite['doc_id']}:{cite['start']}:{cite['end']}", api_name="/source")
    import html

    assert f"<mark id=\"nr-mark\">{html.escape(cite['quote'])}</mark>" in shown


def test_eight_concurrent_chats_all_get_complete_answers(server):
    from gradio_client import Client

    def chat(i: int) -> str:
        c = Client(server, verbose=False)
        messages, _ = c.predict(SENATE, [], "extractive", 5, "", "", [], api_name="/chat")
        return message_text(messages[-1])

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(chat, range(8)))
    assert len(answers) == 8
    for answer in answers:
        assert "98-2" in answer
        assert "nr-citations" in answer, answer  # the final message, with its citation list
        assert "[1]" in answer


def test_chat_follow_up_shows_the_standalone_query(client):
    messages, _ = client.predict(MANILA, [], "extractive", 5, "", "", [], api_name="/chat")
    messages, _ = client.predict("And what did Tillerson say there?", messages, "extractive", 5, "", "", [],
                                 api_name="/chat")
    last = message_text(messages[-1])
    assert "Standalone query" in last and "Manila" in last
    assert 'href="#nr-cite:' in last
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2


def test_chat_reaction_follow_up_is_answered_from_the_answer_just_shown(client):
    messages, _ = client.predict("What did Zakharova say about Crimea?", [], "extractive", 5, "", "", [],
                                 api_name="/chat")
    assert "Crimea is part of the Russian Federation" in message_text(messages[-1])
    messages, _ = client.predict("How did Trump react?", messages, "extractive", 5, "", "", [], api_name="/chat")
    assert "Within hours, Trump tweeted" in message_text(messages[-1])


def test_chat_abstention_is_marked_and_lists_closest_passages(client):
    messages, _ = client.predict("Who won the 1998 FIFA World Cup?", [], "extractive", 5, "", "", [],
                                 api_name="/chat")
    last = message_text(messages[-1])
    assert "nr-abstain" in last and "Not answered" in last
    assert "not an answer" in last
    assert "nr-citations" not in last


def test_chat_bad_filter_shows_the_message(client):
    messages, _ = client.predict(MANILA, [], "extractive", 5, "yesterday", "", [], api_name="/chat")
    last = message_text(messages[-1])
    assert "Since must be a date" in last and "Traceback" not in last


def test_chat_filters_by_source(client):
    messages, _ = client.predict(MANILA, [], "extractive", 5, "", "", ["002_95e9d33b01bd44bf.txt"], api_name="/chat")
    last = message_text(messages[-1])
    assert "000_" not in last


def test_evaluate_a_small_jsonl(client, tmp_path):
    from gradio_client import handle_file

    qa = tmp_path / "mini.jsonl"
    qa.write_text("\n".join(json.dumps(item) for item in [
        {"id": "t1", "type": "numeric", "question": "How did the Senate vote on the sanctions bill?",
         "answers": ["98-2"], "evidence": [{"doc": "000", "text": "98-2"}]},
        {"id": "t2", "type": "unanswerable", "question": "Who won the 1998 FIFA World Cup?", "answers": [],
         "evidence": []},
    ]) + "\n", encoding="utf-8")
    totals, rows, chart, note = client.predict(handle_file(str(qa)), 5, api_name="/evaluate")
    assert totals["data"] and all(len(r) == 2 for r in totals["data"])
    assert len(rows["data"]) == 2
    assert "id" in rows["headers"]
    assert chart and Path(chart).exists()
    assert "report.md" in note


# -- pure rendering ----------------------------------------------------------------------------------


def test_text_is_escaped_for_html_and_markdown():
    from ui.render import text

    assert text("<script>*x*</script> [1] a_b") == "&lt;script&gt;&#42;x&#42;&lt;/script&gt; &#91;1&#93; a&#95;b"


def test_split_sentences_keeps_markers_with_their_sentence():
    from ui.render import split_sentences

    assert split_sentences("A said x. [1] B said y. [2] [3]") == ["A said x. [1]", " B said y. [2] [3]"]
    assert "".join(split_sentences("no markers")) == "no markers"


def test_parse_cite_round_trips():
    from ui.render import cite_key, parse_cite

    assert parse_cite(cite_key("7913dfa1", 10, 42)) == ("7913dfa1", 10, 42)
    with pytest.raises(ValueError):
        parse_cite("nonsense")


def test_source_html_marks_the_span_and_escapes_the_article():
    from index.types import Article
    from ui.render import source_html

    article = Article("d1", "a.txt", "Hi <script>alert(1)</script>. Quote here. End.", title="T & <b>")
    shown = source_html(article, 30, 41)
    assert '<mark id="nr-mark">Quote here.</mark>' in shown
    assert "&lt;script&gt;" in shown and "<script>" not in shown
    assert "T &amp; &lt;b&gt;" in shown and "date unknown" in shown and "source: unknown" in shown
