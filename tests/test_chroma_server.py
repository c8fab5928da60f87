"""newsrag on a Chroma server (`--chroma-url`, NEWSRAG_CHROMA_URL) works as on its own folder: a real `chroma run`
from the chromadb package, started here on a free port, holds the library; ingestion, re-ingestion, answers and
their citations are those of the embedded store, and another process's ingest is answered from without a
restart (the BM25 index follows the server's collection)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from served import ChromaServer, free_port

from index.store import SERVER_MAX_AGE
from rag.config import Settings
from rag.errors import NewsragError
from rag.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
QUESTIONS = ("What did Lavrov say in Manila?", "How did the Senate vote on the sanctions bill?",
             "What did Zakharova say about Crimea?")


def on_server(server: ChromaServer, tmp_path: Path) -> Settings:
    """A new library on the run's Chroma server (``conftest.chroma_server``), in collections of its own."""
    return Settings(data_dir=tmp_path / "data", chroma_url=server.url, collection=server.collection())


def spans(answer) -> list[tuple[str, int, int, str]]:
    return [(c.article.file, c.start, c.end, c.quote) for c in answer.citations]


def test_the_seeds_on_a_server_give_the_answers_and_citations_of_the_folder(chroma_server, tmp_path, embedder, seeded):
    pipeline = Pipeline(on_server(chroma_server, tmp_path), embedder=embedder)
    report = pipeline.ingest([SEEDS])
    assert report.ok and [r.status for r in report.results] == ["added"] * 3, report.results
    assert not (tmp_path / "data" / "chroma").exists()  # the vectors live on the server, not in the folder
    for question in QUESTIONS:
        on_server_answer, local = pipeline.ask(question), seeded.ask(question)
        assert on_server_answer.text == local.text
        assert spans(on_server_answer) == spans(local)
        for c in on_server_answer.citations:  # verbatim text of the article the server stores
            assert pipeline.store.article(c.article.doc_id).text[c.start:c.end] == c.quote


def test_on_a_server_unchanged_articles_do_no_work_and_a_changed_one_replaces_its_chunks(chroma_server, tmp_path,
                                                                                        embedder, seeds_copy):
    pipeline = Pipeline(on_server(chroma_server, tmp_path), embedder=embedder)
    assert pipeline.ingest([seeds_copy]).ok
    chunks = pipeline.store.chunks.count()
    again = pipeline.ingest([seeds_copy])
    assert [r.status for r in again.results] == ["unchanged"] * 3
    assert pipeline.store.chunks.count() == chunks
    changed = sorted(seeds_copy.iterdir())[2]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nThe Quarnby harbour office said the ferry will "
                       "sail six times a day from May.\n", encoding="utf-8")
    report = pipeline.ingest([seeds_copy])
    assert sorted(r.status for r in report.results) == ["replaced", "unchanged", "unchanged"], report.results
    assert len(pipeline.store.articles()) == 3
    answer = pipeline.ask("How many times a day will the Quarnby ferry sail?")
    assert "six times a day" in answer.text and answer.citations[0].article.file == changed.name


def test_another_process_ingesting_through_the_server_is_answered_from_without_a_restart(chroma_server, tmp_path,
                                                                                          embedder):
    settings = on_server(chroma_server, tmp_path)
    chroma_url = chroma_server.url
    reader = Pipeline(settings, embedder=embedder)
    assert reader.ingest([SEEDS]).ok
    news = tmp_path / "news"
    news.mkdir()
    (news / "ferry.txt").write_text("Quarnby ferry timetable\n\nThe Quarnby ferry will sail nine times a day from "
                                    "June, the harbour office of Quarnby said on Friday.\n", encoding="utf-8")
    env = {**os.environ, "NEWSRAG_CHROMA_URL": chroma_url, "NEWSRAG_COLLECTION": settings.collection}
    writer = subprocess.Popen([sys.executable, "-c", "from rag.cli import main; main()", "--data-dir",
                               str(tmp_path / "writer-data"), "--chroma-url", chroma_url, "ingest", str(news)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    asked = 0
    while writer.poll() is None:  # questions in flight while the other process writes
        assert not reader.ask(QUESTIONS[asked % len(QUESTIONS)]).abstained
        asked += 1
    output = writer.communicate()[0]
    assert writer.returncode == 0 and "ferry.txt" in output, output
    time.sleep(SERVER_MAX_AGE)  # a server's commits reach another process within this (its manifest is re-read)
    answer = reader.ask("How many times a day will the Quarnby ferry sail?")
    assert "nine times a day" in answer.text, answer.text
    assert {a.file for a in reader.store.articles()} >= {"ferry.txt"}


def test_a_server_that_does_not_answer_is_a_clear_error(tmp_path, embedder):
    nowhere = Settings(data_dir=tmp_path / "data", chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(NewsragError, match="Chroma server"):
        Pipeline(nowhere, embedder=embedder).store.articles()
