"""Distractor corpora: CSV rows become articles in a store of their own; a missing folder is skipped."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from eval import distractors as d
from eval.run import DEFAULT_QA, evaluate, load_qa
from index.load import RawDocument

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

ROWS = [
    {"category": "Politics", "url": "https://example.org/a",
     "text": "Parliament passed the budget on Monday by 300 votes to 120. The opposition said it would appeal."},
    {"category": "Sport", "url": "https://example.org/b", "text": "   "},
    {"category": "Sport", "url": "https://example.org/c",
     "text": "The home side won the cup final 3-1 after extra time.\r\nThe coach praised the defence."},
]


def write_csv(path: Path, rows: list[dict[str, str]], columns=("category", "url", "text")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_rows_become_named_documents_and_empty_rows_are_skipped_with_a_reason(tmp_path):
    path = write_csv(tmp_path / "tiny-news.csv", ROWS)
    docs, skipped = d.read_csv(path)
    assert [doc.name for doc in docs] == ["tiny-news-0001.txt", "tiny-news-0003.txt"]
    assert docs[0].text == ROWS[0]["text"]
    assert "\r" not in docs[1].text and "\nThe coach" in docs[1].text
    assert skipped == [d.SkippedRow("tiny-news-0002.txt", "empty text")]


def test_a_csv_without_a_text_column_is_skipped_not_fatal(tmp_path):
    write_csv(tmp_path / "a.csv", [{"category": "x", "body": "y"}], columns=("category", "body"))
    write_csv(tmp_path / "b.csv", ROWS[:1])
    rows = d.read_folder(tmp_path)
    assert [p.name for p in rows.files] == ["a.csv", "b.csv"]
    assert [doc.name for doc in rows.docs] == ["b-0001.txt"]
    assert rows.skipped[0].name == "a.csv" and "no 'text' column" in rows.skipped[0].reason


def test_long_fields_are_read(tmp_path):
    big = "word " * 40_000  # 200 KB: over the csv module's default field limit
    docs, _ = d.read_csv(write_csv(tmp_path / "big.csv", [{"category": "x", "url": "u", "text": big}]))
    assert len(docs[0].text) == len(big.strip())


def test_missing_folder_or_no_csv_gives_one_line_message(tmp_path):
    message = d.missing_message(tmp_path / "nowhere")
    assert message and "does not exist" in message and "\n" not in message
    (tmp_path / "empty").mkdir()
    assert "no .csv files" in (d.missing_message(tmp_path / "empty") or "")
    write_csv(tmp_path / "x.csv", ROWS)
    assert d.missing_message(tmp_path) is None


def test_distractor_settings_move_the_store(settings):
    moved = d.distractor_settings(settings)
    assert moved.data_dir == settings.data_dir / "distractors"
    assert moved.collection == settings.collection and moved.embed_model == settings.embed_model


def test_ingest_documents_reports_refused_rows_and_skips_unchanged_ones(pipeline):
    docs = [RawDocument("t-0001.txt", ROWS[0]["text"]), RawDocument("t-0002.txt", "Related Stories\n"),
            RawDocument("t-0003.txt", ROWS[2]["text"])]
    report = pipeline.ingestor.ingest_documents(docs)
    assert [r.status for r in report.results] == ["added", "failed", "added"]
    assert report.results[1].file == "t-0002.txt" and report.results[1].reason
    again = pipeline.ingestor.ingest_documents(docs)
    assert [r.status for r in again.results] == ["unchanged", "failed", "unchanged"]


def test_build_store_holds_the_seeds_and_the_rows_and_answers_from_them(pipeline, tmp_path):
    write_csv(tmp_path / "tiny-news.csv", ROWS)
    rows = d.read_folder(tmp_path)
    calls = []
    store = d.build_store(pipeline, rows, lambda done, total, name: calls.append(done))
    files = [a.file for a in store.pipeline.articles()]
    assert "tiny-news-0001.txt" in files and "tiny-news-0003.txt" in files and len(files) == 5
    assert store.rows.count("added") == 2 and store.skipped[0].reason == "empty text"
    assert store.pipeline.settings.data_dir == pipeline.settings.data_dir / "distractors"
    assert pipeline.store.count() == 0  # the main store is untouched
    assert calls[-1] == 2
    assert "2 added" in store.summary() and "1 rows left out" in store.summary()
    answer = store.pipeline.ask("By how many votes did parliament pass the budget?")
    assert any(c.article.file == "tiny-news-0001.txt" for c in answer.citations) or answer.abstained
    again = d.build_store(pipeline, rows)
    assert again.rows.count("unchanged") == 2 and again.seeds.count("unchanged") == 3


@pytest.mark.slow
@pytest.mark.timeout(5400)  # embeds ~40k sentences: about 35 min on 2 cores
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not here")
def test_seed_answers_hold_among_the_real_distractors(pipeline, request):
    if "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("embeds ~40k sentences (minutes): run with -m slow (make test-slow)")
    rows = d.read_folder(SHARED_DATA)
    assert len(rows.docs) + len(rows.skipped) == 928 + 233
    store = d.build_store(pipeline, rows)
    assert len(store.pipeline.articles()) > 1000
    items = [i for i in load_qa(DEFAULT_QA) if i.type in ("numeric", "unanswerable")]
    report = evaluate(lambda q, h, k: store.pipeline.ask(q, history=h, k=k), items, name="newsrag+distractors")
    assert report.totals["recall_at_k"] >= 0.6
