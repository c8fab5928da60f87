"""A large ingest works ahead in two other processes (``index.ahead``); the library it builds is the one this
process alone would build, and the workers never outlive it."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.pipeline import Pipeline

ROOT = Path(__file__).resolve().parent.parent

ARTICLES = {
    "budget.txt": "Budget passes after long night\n\nAnn Lee said the budget passed on Tuesday. The vote was 12-3. "
                  "Critics in the U.S. Senate called it a gamble.\n\nReporting by Sam Cole. Copyright 2025.",
    "storm.html": "<html><head><title>Storm closes roads</title></head><body><article><h1>Storm closes roads</h1>"
                  "<p>Rain fell across the county on 3 March 2025. The agency said 14 roads were closed.</p>"
                  "<p>Reporting by Sam Cole. Copyright 2025.</p></article></body></html>",
    "match.txt": "Club signs a striker\n\nThe club signed a striker for 2 million pounds. He scored twice on his "
                 "debut against Leeds. \"He is a natural,\" said the manager, Joe Park.\n\nReporting by Sam Cole. "
                 "Copyright 2025.",
    "empty.txt": "   \n",
}


def library(source: Path, data: Path, embedder, ahead_bytes: int) -> dict[str, dict]:
    """Ingest ``source`` (a folder or a CSV file) into a new library; every stored row of its three collections."""
    pipeline = Pipeline(Settings(data_dir=data, ingest_ahead_bytes=ahead_bytes), embedder=embedder)
    report = pipeline.ingest([source])
    assert sorted(r.status for r in report.results) == ["added", "added", "added", "failed"], report.results
    store = pipeline.store
    rows: dict[str, dict] = {}
    for name, collection in (("chunks", store.chunks), ("sentences", store.sentences), ("articles", store.manifest)):
        got = collection.get(include=["embeddings", "metadatas", "documents"])
        for i, vector, meta, doc in zip(got["ids"], got["embeddings"], got["metadatas"], got["documents"],
                                        strict=True):
            rows[f"{name}:{i}"] = {"vector": np.asarray(vector), "meta": meta, "doc": doc}
    return rows


def news_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def news_table(tmp_path: Path) -> Path:
    """The same texts as rows of a CSV file of articles (the page's markup kept as its text, the empty one a row
    without text)."""
    table = tmp_path / "news.csv"
    with table.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "source"])
        writer.writerows([[text, "Wire"] for text in ARTICLES.values()])
    return table


@pytest.mark.parametrize("make", [news_folder, news_table], ids=["folder", "csv"])
def test_a_library_built_ahead_in_other_processes_is_the_one_built_here(make, embedder, tmp_path):
    source = make(tmp_path)

    here = library(source, tmp_path / "here", embedder, ahead_bytes=10**9)
    ahead = library(source, tmp_path / "ahead", embedder, ahead_bytes=0)

    assert sorted(here) == sorted(ahead)
    assert any(key.startswith("sentences:") for key in here)
    for key, row in here.items():
        assert ahead[key]["doc"] == row["doc"], key
        written = {"written"}  # when the article was stored
        assert ({k: v for k, v in ahead[key]["meta"].items() if k not in written}
                == {k: v for k, v in row["meta"].items() if k not in written}), key  # entities, spans, titles, dates
        np.testing.assert_array_equal(ahead[key]["vector"], row["vector"], err_msg=key)


def test_an_ingest_worked_ahead_embeds_no_sentence_in_this_process(counting, tmp_path):
    folder = news_folder(tmp_path)
    pipeline = Pipeline(Settings(data_dir=tmp_path / "store", ingest_ahead_bytes=0), embedder=counting)

    assert pipeline.ingest([folder]).count("added") == 3

    assert counting.texts == 1  # the model's probe, checked against the library's record; the workers did the rest
    assert pipeline.store.sentences.count() > 9


def test_a_float32_library_is_ingested_here_whatever_its_size(float32_embedder, tmp_path):
    from index.ahead import Ahead

    pipeline = Pipeline(Settings(data_dir=tmp_path / "store", ingest_ahead_bytes=0), embedder=float32_embedder)
    ahead = pipeline.ingestor._ahead(10**9)

    assert isinstance(ahead, Ahead) and ahead._pool is None  # a batch's float32 vectors depend on the batch


WATCHED = """
import os, signal, sys, time
from pathlib import Path
from index.ahead import Ahead
ahead = Ahead(export=Path(sys.argv[1]))
pids = [p.pid for p in ahead._pool._processes.values()] if ahead._pool._processes else []
while len(pids) < 2:
    time.sleep(0.1)
    pids = list(ahead._pool._processes)
print(" ".join(map(str, pids)), flush=True)
time.sleep(3)  # the workers load their models
os.kill(os.getpid(), signal.SIGKILL)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state not in ("Z", "X")


def test_workers_exit_when_the_ingest_that_started_them_is_killed(embedder):
    export = embedder.engine.folder
    done = subprocess.run([sys.executable, "-c", WATCHED, str(export)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    pids = [int(p) for p in done.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 30
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in pids), f"workers {pids} outlived their killed parent"


@pytest.mark.parametrize("workers", [0, 2])
def test_files_read_ahead_come_back_in_order_with_their_errors(workers, tmp_path, embedder):
    from index.ahead import Ahead
    from index.load import find_sources
    from rag.errors import InputError

    sources, _ = find_sources([news_folder(tmp_path)])

    with Ahead(workers=workers, export=embedder.engine.folder) as ahead:
        prepared = ahead.prepare_sources(sources, 1_000_000)

    assert [type(p).__name__ for p in prepared] == ["Article", "InputError", "Article", "Article"]
    error = prepared[1]
    assert isinstance(error, InputError) and error.path.name == "empty.txt" and error.reason == "empty file"
    assert [getattr(p, "title", None) for p in prepared] == [
        "Budget passes after long night", None, "Club signs a striker", "Storm closes roads"]


def test_articles_left_when_the_workers_die_are_split_here(embedder):
    from index.ahead import Ahead
    from index.chunk import chunk_article
    from index.types import Article

    articles = [Article(f"d{i}", f"{i}.txt", f"Story {i} opens. " + "The council met again on Monday. " * 1500)
                for i in range(12)]  # about 50,000 characters each: a batch apiece

    with Ahead(export=embedder.engine.folder) as ahead:
        splits = ahead.split(articles, 600)
        first = next(splits)
        for process in list(ahead._pool._processes.values()):
            process.kill()
        rest = list(splits)

    assert first.vectors is not None  # worked out ahead
    assert [s.chunks for s in [first, *rest]] == [chunk_article(a, 600) for a in articles]
    assert rest[-1].vectors is None  # split here, to be embedded here


def _sent_slowly(flag: str) -> bytes:
    """A result large enough that sending it back takes a while; ``flag`` is written just before it is sent."""
    result = b"x" * 400_000_000
    Path(flag).write_text("sending")
    return result


@pytest.mark.timeout(120)
def test_a_worker_killed_while_it_sends_a_result_breaks_the_pool_instead_of_hanging_it(tmp_path):
    """concurrent.futures alone waits for the rest of a half-sent message for ever (``future.result()`` hung here in
    each of four tries); ``_result`` notices the dead worker and reports the pool broken within a second."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from index.ahead import _result

    flag = tmp_path / "flag"
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        future = pool.submit(_sent_slowly, str(flag))
        while not flag.exists():
            time.sleep(0.01)
        time.sleep(0.4)  # mid-send on this machine: 0.3-0.6 s after the flag, plain futures hung every time
        for process in list(pool._processes.values()):
            process.kill()
        try:
            outcome = len(_result(future, pool))
        except BrokenProcessPool:
            outcome = "broken"
        assert outcome in ("broken", 400_000_000)  # either way it returns: never a hang
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
