"""A CSV or JSONL file of articles: one article a row, its optional columns its details (``index.tables``)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from index.tables import read_table
from index.types import Details


def write_csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_each_csv_row_is_an_article_with_the_details_its_columns_give(tmp_path):
    table = write_csv(tmp_path / "archive.csv", "title,date,source,url,text",
                      'Budget passed,2025-03-01,Daily Post,,"Ann Lee said the budget passed. The vote was 12-3."',
                      ',,,https://www.example.org/news/1,"Rain fell on Tuesday, the agency said."')
    docs, errors = read_table(table)
    assert errors == []
    assert [d.name for d in docs] == ["archive.csv#1", "archive.csv#2"]
    assert docs[0].text == "Ann Lee said the budget passed. The vote was 12-3."
    assert docs[0].details == Details("Budget passed", "Daily Post", date(2025, 3, 1))
    assert docs[1].details == Details(None, "example.org", None)  # no source column value: the url's site
    assert docs[0].key == f"{table.resolve()}#1" and docs[1].key == f"{table.resolve()}#2"


def test_a_jsonl_line_is_an_article_and_blank_lines_are_not_rows(tmp_path):
    table = tmp_path / "feed.jsonl"
    table.write_text(json.dumps({"text": "The vote was 12-3.", "published": "2024-11-05"}) + "\n\n"
                     + json.dumps({"text": "Rain fell.", "title": "Weather"}) + "\n", encoding="utf-8")
    docs, errors = read_table(table)
    assert errors == []
    assert [(d.name, d.text, d.details.title, d.details.published) for d in docs] == [
        ("feed.jsonl#1", "The vote was 12-3.", None, date(2024, 11, 5)),
        ("feed.jsonl#2", "Rain fell.", "Weather", None),
    ]


def test_rows_without_text_are_named_and_the_rest_still_read(tmp_path):
    table = write_csv(tmp_path / "a.csv", "title,text", "Empty,", "Full,The vote was 12-3.")
    docs, errors = read_table(table)
    assert [d.name for d in docs] == ["a.csv#2"]
    assert [(str(e.path), e.reason) for e in errors] == [("a.csv#1", "no text in this row")]


def test_a_table_without_a_text_column_is_one_clear_error(tmp_path):
    docs, errors = read_table(write_csv(tmp_path / "a.csv", "title,body", "T,The vote was 12-3."))
    assert docs == []
    assert [e.reason for e in errors] == ["no 'text' column (columns: title, body)"]


def test_a_jsonl_line_that_is_not_json_stops_the_file_with_a_reason(tmp_path):
    table = tmp_path / "a.jsonl"
    table.write_text('{"text": "The vote was 12-3."}\n{not json\n', encoding="utf-8")
    docs, errors = read_table(table)
    assert [d.name for d in docs] == ["a.jsonl#1"]
    assert len(errors) == 1 and errors[0].reason.startswith("cannot be read as JSONL (after 1 rows)")


def test_ingesting_a_table_stores_each_row_once_and_again_does_nothing(tmp_path, pipeline):
    table = write_csv(tmp_path / "archive.csv", "title,text",
                      'Budget,"Ann Lee said the budget passed. The vote was 12-3."',
                      'Weather,"Rain fell on Tuesday. The agency said roads were closed."',
                      'Empty,')
    first = pipeline.ingest([table])
    assert sorted((r.file, r.status) for r in first.results) == [
        ("archive.csv#1", "added"), ("archive.csv#2", "added"), ("archive.csv#3", "failed")]
    assert sorted(a.title for a in pipeline.store.articles()) == ["Budget", "Weather"]
    again = pipeline.ingest([table])
    assert sorted(r.status for r in again.results) == ["failed", "unchanged", "unchanged"]
    assert len(pipeline.store.articles()) == 2
