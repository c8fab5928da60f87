"""A CSV of articles ingested by a `newsrag ingest` that is killed (SIGKILL) in the middle, then run again: the rerun
resumes where the killed one stopped, and the store holds every row exactly once (the ids its content hashes
predict, no duplicate, every article complete); a third run has nothing to do."""

from __future__ import annotations

import json
import signal

import pytest
from conftest import newsrag

from index.chunk import chunk_article
from index.ingest import prepare
from index.store import COMPLETE, Store
from index.tables import read_table
from rag.config import Settings

pytestmark = pytest.mark.reliability

#: Short articles written for the test, one a row; different enough that no two share a hash.
ROWS = [(f"Report {n}", f"The council met on day {n} of the session. Member {n} proposed budget line {n * 7}. "
                        f"The vote on line {n * 7} was {n + 3}-{n}. The mayor said the result for district {n} "
                        "would be published within a week.") for n in range(1, 9)]


def test_a_killed_table_ingest_resumes_with_nothing_lost_or_duplicated(tmp_path):
    table = tmp_path / "archive.csv"
    table.write_text("title,text\n" + "".join(f'{t},"{x}"\n' for t, x in ROWS), encoding="utf-8")
    data = tmp_path / "store"
    # rows of 4 sentences committed two at a time (groups of 8 sentences): the run dies after 2 commits (4 rows),
    # the 3rd group fully written but not yet marked complete
    batches = {"NEWSRAG_WRITE_BATCH": "4", "NEWSRAG_INGEST_GROUP": "8"}
    killed = newsrag(data, "ingest", str(table), fault="complete:3", **batches)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    partial = Store(Settings(data_dir=data))
    assert len(partial.complete_ids()) == 4

    rerun = newsrag(data, "ingest", "--json", str(table), **batches)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert sorted(r["status"] for r in report["results"]) == ["added"] * 4 + ["unchanged"] * 4
    assert len(report["repaired"]) == 2  # the half-written 3rd group's two rows, removed before they were written again

    docs, errors = read_table(table)
    assert not errors
    articles = [prepare(d, d.details) for d in docs]
    chunks = [c for a in articles for c in chunk_article(a, Settings().chunk_chars)]
    store = Store(Settings(data_dir=data))
    manifest = store.manifest.get(include=["metadatas"])
    assert sorted(manifest["ids"]) == sorted(a.doc_id for a in articles)
    assert all(m["state"] == COMPLETE for m in manifest["metadatas"])
    chunk_ids = store.chunks.get(include=[])["ids"]
    assert sorted(chunk_ids) == sorted(c.chunk_id for c in chunks)
    sentence_ids = store.sentences.get(include=[])["ids"]
    assert sorted(sentence_ids) == sorted(f"{c.chunk_id}:{n}" for c in chunks for n in range(len(c.sentences)))
    assert sorted(a.title for a in store.articles()) == sorted(t for t, _ in ROWS)

    third = newsrag(data, "ingest", "--json", str(table))
    assert [r["status"] for r in json.loads(third.stdout)["results"]] == ["unchanged"] * len(ROWS)
