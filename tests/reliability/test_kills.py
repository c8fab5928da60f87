"""A `newsrag ingest` killed with SIGKILL at each step of a write, of a first ingest and of a replacement: whatever
the moment, readers see every article whole or not at all (and each file in one version, never none or two), and a
rerun leaves exactly the ids the content hashes predict, every article complete, no duplicate, and answers the
questions exactly as a store that was never interrupted does.

The kills land where the probe of issue 23 found damage: in the long article's chunk batches, in its sentence
vectors, after its last batch but before it is marked complete, while an old version is being deleted, and while
the BM25 cache is saved (``index.faults``; small write batches make each article take several). These runs commit an
article at a time (``NEWSRAG_INGEST_GROUP=1``), so each kill lands in one chosen article; the last test kills a
default run, whose articles all go in one group, and checks that the group is stored whole or not at all.
"""

from __future__ import annotations

import math
import shutil
import signal
import time
from pathlib import Path

import pytest
from conftest import newsrag
from corpus import CORPUS

from index.chunk import chunk_article
from index.ingest import prepare
from index.load import find_sources, load_source
from index.store import COMPLETE, Store
from index.types import Article
from rag.config import Settings
from rag.pipeline import Pipeline

pytestmark = pytest.mark.reliability

BATCH = 8  # rows per Chroma write in these runs, so that one article takes several writes
ONE_BY_ONE = {"NEWSRAG_WRITE_BATCH": str(BATCH), "NEWSRAG_INGEST_GROUP": "1"}  # an article per commit


def prepared(folder: Path) -> list[Article]:
    sources, errors = find_sources([folder])
    assert not errors
    return [prepare(load_source(s, 2_000_000)) for s in sources]


def batches(article: Article) -> tuple[int, int]:
    chunks = chunk_article(article, Settings().chunk_chars)
    return math.ceil(len(chunks) / BATCH), math.ceil(sum(len(c.sentences) for c in chunks) / BATCH)


def kill_points(articles: list[Article], written: list[int]) -> dict[str, str]:
    """``NEWSRAG_FAULT`` values for each step, aimed at the long article (the second of ``written``, the indexes
    of the articles the run writes, in order; the first is already complete when the kill comes)."""
    long = written.index(CORPUS.long)
    chunk_batches = sum(batches(articles[k])[0] for k in written[:long])
    sentence_batches = sum(batches(articles[k])[1] for k in written[:long])
    assert batches(articles[CORPUS.long]) >= (2, 4), "the long article must take several writes"
    return {"chunks": f"chunks:{chunk_batches + 1}", "sentences": f"sentences:{sentence_batches + 3}",
            "complete": f"complete:{long + 1}", "delete": "delete:1", "bm25": "bm25"}


def expected_ids(articles: list[Article]) -> tuple[set[str], set[str], set[str]]:
    """The doc, chunk and sentence ids that the articles' content hashes give."""
    docs, chunks, sentences = set(), set(), set()
    for article in articles:
        docs.add(article.doc_id)
        for chunk in chunk_article(article, Settings().chunk_chars):
            chunks.add(chunk.chunk_id)
            sentences.update(f"{chunk.chunk_id}:{n}" for n in range(len(chunk.sentences)))
    return docs, chunks, sentences


def all_ids(collection) -> list[str]:
    return list(collection.get(include=[])["ids"])


def answers(pipeline: Pipeline, version: int) -> list[tuple]:
    """Each question's answer, abstention and citations; every answer must state the fact asked for."""
    out = []
    for fact in CORPUS.questions(version):
        answer = pipeline.ask(fact.question)
        assert fact.answer in answer.text and not answer.abstained, (fact, answer.text)
        out.append((fact.question, answer.text, answer.abstained,
                    [(c.article.file, c.start, c.end) for c in answer.citations]))
    return out


def check_while_killed(data: Path, embedder, may_show: set[str], files: int | None) -> Pipeline:
    """What a reader sees of a killed run's store: only whole articles, each file once (all of them, when ``files``
    says how many must be there), and questions answered without an error."""
    reader = Pipeline(Settings(data_dir=data), embedder=embedder)
    shown = reader.articles()
    assert {a.doc_id for a in shown} <= may_show
    assert len({a.key for a in shown}) == len(shown)  # never two versions of one file
    if files is not None:
        assert len(shown) == files  # and never none
    for article in shown:
        assert len(reader.store.article(article.doc_id).text) == article.chars  # rebuilt whole
    for fact in CORPUS.questions():
        reader.ask(fact.question)
    return reader


def check_exact(data: Path, embedder, articles: list[Article], clean: list[tuple], version: int) -> dict[str, int]:
    """After the rerun: exactly the predicted ids, every article complete and its text as cleaned, one BM25 cache,
    and the answers of a store that was never interrupted."""
    store = Store(Settings(data_dir=data))
    docs, chunks, sentences = expected_ids(articles)
    rows = store.manifest.get(include=["metadatas"])
    assert set(rows["ids"]) == docs and {m["state"] for m in rows["metadatas"]} == {COMPLETE}
    assert sorted(all_ids(store.chunks)) == sorted(chunks)
    assert sorted(all_ids(store.sentences)) == sorted(sentences)
    by_id = {a.doc_id: a for a in articles}
    for stored in store.articles():
        assert store.article(stored.doc_id).text == by_id[stored.doc_id].text
    assert [p.name for p in (data / "bm25" / "newsrag").iterdir()] == [store.fingerprint()]
    pipeline = Pipeline(Settings(data_dir=data), embedder=embedder)
    assert answers(pipeline, version) == clean
    return {"articles": len(docs), "chunks": len(chunks), "sentences": len(sentences), "questions": len(clean)}


def record(figures, scenario: str, point: str, killed, rerun, checked: dict[str, int]) -> None:
    runs = figures.setdefault("kills", [])
    assert isinstance(runs, list)
    runs.append({"scenario": scenario, "point": point, "exit": killed.returncode, "rerun": rerun.summary(),
                 "repaired": len(rerun.repaired), **checked, "lost": 0, "duplicated": 0})
    figures["faults injected (SIGKILL)"] = len(runs)
    figures["articles lost or duplicated after a rerun"] = 0
    figures["answers differing from an uninterrupted store"] = 0


# -- a first ingest ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_first(tmp_path_factory, embedder) -> list[tuple]:
    """The answers of a store that ingested the corpus in one go."""
    root = tmp_path_factory.mktemp("clean-first")
    pipeline = Pipeline(Settings(data_dir=root / "store"), embedder=embedder)
    assert pipeline.ingest([CORPUS.write(root / "news")]).ok
    return answers(pipeline, 1)


@pytest.mark.parametrize("point", ["chunks", "sentences", "complete", "bm25"])
def test_a_first_ingest_killed_at_any_step_is_finished_by_a_rerun(point, tmp_path, embedder, clean_first, figures):
    folder = CORPUS.write(tmp_path / "news")
    articles = prepared(folder)
    data = tmp_path / "store"
    fault = kill_points(articles, list(range(CORPUS.size)))[point]

    killed = newsrag(data, "ingest", str(folder), fault=fault, **ONE_BY_ONE)

    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    check_while_killed(data, embedder, {a.doc_id for a in articles}, CORPUS.size if point == "bm25" else None)
    rerun = Pipeline(Settings(data_dir=data, write_batch=BATCH), embedder=embedder).ingest([folder])
    assert rerun.ok, rerun.results
    assert (len(rerun.repaired) == 1) == (point != "bm25")  # the half-written long article, removed first
    record(figures, "first ingest", fault, killed, rerun, check_exact(data, embedder, articles, clean_first, 1))


@pytest.mark.parametrize(("point", "ahead"), [("sentences", False), ("complete", False), ("sentences", True)],
                         ids=["sentences", "complete", "sentences-worked-ahead"])
def test_a_group_of_articles_killed_before_its_commit_shows_none_of_them_and_a_rerun_stores_them_all(
        point, ahead, tmp_path, embedder, clean_first, figures):
    # worked ahead: two worker processes read, split, embed and annotate the articles (index.ahead)
    folder = CORPUS.write(tmp_path / "news")
    articles = prepared(folder)
    data = tmp_path / "store"
    fault = {"sentences": "sentences:3", "complete": "complete:1"}[point]  # the corpus is one group by default

    killed = newsrag(data, "ingest", str(folder), fault=fault, NEWSRAG_WRITE_BATCH=str(BATCH),
                     NEWSRAG_INGEST_AHEAD_BYTES="0" if ahead else str(10**9))

    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert check_while_killed(data, embedder, {a.doc_id for a in articles}, 0).articles() == []
    rerun = Pipeline(Settings(data_dir=data, write_batch=BATCH), embedder=embedder).ingest([folder])
    assert rerun.ok, rerun.results
    assert len(rerun.repaired) == CORPUS.size  # every half-written article of the group, removed first
    record(figures, "first ingest, one group" + (", worked ahead" if ahead else ""), fault, killed, rerun,
           check_exact(data, embedder, articles, clean_first, 1))


def test_an_ingest_worked_ahead_stopped_with_ctrl_c_leaves_no_worker_and_a_rerun_finishes_it(
        tmp_path, embedder, clean_first, figures):
    # two worker processes read, split and embed ahead (index.ahead); Ctrl-C comes while an article is written
    folder = CORPUS.write(tmp_path / "news")
    articles = prepared(folder)
    data = tmp_path / "store"

    stopped = newsrag(data, "ingest", str(folder), fault="sentences:3:INT", NEWSRAG_INGEST_AHEAD_BYTES="0",
                      MARK=str(data), **ONE_BY_ONE)  # MARK: an environment the workers inherit, to find them by

    assert stopped.returncode == 1 and "Aborted!" in stopped.stderr, stopped.stderr[-2000:]
    assert "Traceback" not in stopped.stderr  # the workers ignore Ctrl-C: their parent stops them
    deadline = time.monotonic() + 10
    while (left := [p for p in Path("/proc").glob("[0-9]*") if worker_of(p, data)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left
    check_while_killed(data, embedder, {a.doc_id for a in articles}, None)
    rerun = Pipeline(Settings(data_dir=data, write_batch=BATCH), embedder=embedder).ingest([folder])
    assert rerun.ok, rerun.results
    record(figures, "first ingest, worked ahead, Ctrl-C", "sentences:3:INT", stopped, rerun,
           check_exact(data, embedder, articles, clean_first, 1))


def worker_of(proc: Path, data: Path) -> bool:
    """Whether ``proc`` is a worker process (``spawn_main``) of the run marked with ``data``, not yet a zombie."""
    try:
        return (f"MARK={data}".encode() in (proc / "environ").read_bytes()
                and b"spawn_main" in (proc / "cmdline").read_bytes()
                and (proc / "stat").read_text().split()[2] != "Z")
    except OSError:
        return False


# -- a replacement -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def replacing(tmp_path_factory, embedder):
    """A store of the corpus's first version (copied for each test), the folder it was read from (each test writes
    the second version there: an article's identity is its path), and the answers of a store that took the second
    version without interruption."""
    root = tmp_path_factory.mktemp("replacing")
    folder = CORPUS.write(root / "news")
    first = Pipeline(Settings(data_dir=root / "v1-store"), embedder=embedder)
    assert first.ingest([folder]).ok
    clean = Pipeline(Settings(data_dir=root / "v2-clean"), embedder=embedder)
    assert [r.status for r in clean.ingest([CORPUS.write(root / "clean-v2", version=2)]).results].count("added") == 10
    return root / "v1-store", folder, answers(clean, 2)


@pytest.mark.parametrize("point", ["chunks", "sentences", "complete", "delete"])  # "bm25": as in a first ingest
def test_a_replacement_killed_at_any_step_keeps_one_version_and_a_rerun_finishes_it(point, tmp_path, embedder,
                                                                                    replacing, figures):
    template, folder, clean_v2 = replacing
    data = tmp_path / "v2-store"
    shutil.copytree(template, data)
    old = {a.doc_id for a in prepared(CORPUS.write(folder, version=1))}
    articles = prepared(CORPUS.write(folder, version=2))
    fault = kill_points(articles, list(CORPUS.changed))[point]

    killed = newsrag(data, "ingest", str(folder), fault=fault, **ONE_BY_ONE)

    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    check_while_killed(data, embedder, old | {a.doc_id for a in articles}, files=CORPUS.size)
    rerun = Pipeline(Settings(data_dir=data, write_batch=BATCH), embedder=embedder).ingest([folder])
    assert rerun.ok, rerun.results
    record(figures, "replacement", fault, killed, rerun, check_exact(data, embedder, articles, clean_v2, 2))
