"""The store when runs are interrupted or compete: an article is wholly stored or absent, one process writes at a
time and says so, an article is known by its path (never its bare file name), symbolic links are not followed,
the BM25 cache is never half-written, and questions and folders that cannot be used get a message.

Real Chroma under tmp_path and the real model; an interrupted run is a real `newsrag` process killed with SIGKILL at
a fault point (``index.faults``). The full matrix of kill points, concurrent writers and a loaded server is
``tests/reliability`` (`make test-reliability`).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from index.lexical import LexicalIndex
from rag.cli import cli
from rag.config import Settings
from rag.errors import NotFoundError, QuestionError, StoreBusyError
from rag.pipeline import Pipeline

ROOT = Path(__file__).resolve().parent.parent

BRIDGE = ("Aldmoor council approves footbridge\n\nThe council of Aldmoor voted 12-3 on Monday to build a footbridge "
          "over the Wend river. The bridge will cost 4.2 million euros, the treasurer said.\n")
LIBRARY = ("Brenford opens a library\n\nBrenford opened its new library on Tuesday. The building holds 80,000 books "
           "and was paid for by a bequest of 2.5 million euros.\n")


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def newsrag_process(data_dir: Path, *args: str, fault: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "NEWSRAG_WRITE_BATCH": "4", **env}
    environ.pop("NEWSRAG_FAULT", None)
    if fault:
        environ["NEWSRAG_FAULT"] = fault
    return subprocess.run([sys.executable, "-c", "from rag.cli import main; main()", "--data-dir", str(data_dir),
                           *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300)


def hold_writer_lock(data_dir: Path, seconds: float) -> subprocess.Popen:
    """Another process that holds the library's writer lock for ``seconds`` (as an ingest would)."""
    code = ("import sys, time; from pathlib import Path; from index.locks import WriterLock\n"
            "with WriterLock(Path(sys.argv[1]), 0).hold():\n"
            "    print('held', flush=True); time.sleep(float(sys.argv[2]))\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(data_dir), str(seconds)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


# -- identity: a path, never a bare file name ------------------------------------------------------


def test_two_folders_files_of_the_same_name_are_two_articles(pipeline, tmp_path):
    a = write(tmp_path / "c" / "a", "story.txt", BRIDGE)
    b = write(tmp_path / "c" / "b", "story.txt", LIBRARY)
    assert [r.status for r in pipeline.ingest([a]).results] == ["added"]
    assert [r.status for r in pipeline.ingest([b]).results] == ["added"]  # not "replaced"
    assert sorted(a.title for a in pipeline.articles()) == ["Aldmoor council approves footbridge",
                                                            "Brenford opens a library"]
    with pytest.raises(NotFoundError, match="'story.txt' names 2 articles"):  # both shown as story.txt: ask which
        pipeline.article("story.txt")


def test_a_folders_files_are_shown_by_their_path_below_it(pipeline, tmp_path):
    write(tmp_path / "c" / "a", "story.txt", BRIDGE)
    write(tmp_path / "c" / "b", "story.txt", LIBRARY)
    pipeline.ingest([tmp_path / "c"])
    assert [a.file for a in pipeline.articles()] == ["a/story.txt", "b/story.txt"]


def test_a_changed_file_replaces_itself_whether_named_directly_or_through_its_folder(pipeline, tmp_path):
    path = write(tmp_path / "news", "bridge.txt", BRIDGE)
    (first,) = pipeline.ingest([tmp_path / "news"]).results
    path.write_text(BRIDGE + "Work starts in May.\n", encoding="utf-8")
    (second,) = pipeline.ingest([path]).results
    assert (first.status, second.status) == ("added", "replaced")
    assert [a.doc_id for a in pipeline.articles()] == [second.doc_id]


def test_an_upload_replaces_the_earlier_upload_of_its_name_not_a_file_of_that_name(pipeline, tmp_path):
    write(tmp_path / "news", "bridge.txt", BRIDGE)
    pipeline.ingest([tmp_path / "news"])
    (up1,) = pipeline.ingest_upload("bridge.txt", LIBRARY.encode()).results
    (up2,) = pipeline.ingest_upload("bridge.txt", (LIBRARY + "It opens at nine.\n").encode()).results
    assert (up1.status, up2.status) == ("added", "replaced")
    assert len(pipeline.articles()) == 2


def test_a_symlink_to_a_secret_is_not_ingested_from_a_folder_or_by_name(pipeline, tmp_path):
    secret = write(tmp_path, "passwd", "root:x:0:0:root:/root:/bin/bash\nThe login shell of root is bash.\n")
    folder = tmp_path / "news"
    write(folder, "bridge.txt", BRIDGE)
    (folder / "x.txt").symlink_to(secret)

    by_folder = pipeline.ingest([folder])
    by_name = pipeline.ingest([folder / "x.txt"])

    assert sorted((Path(r.file).name, r.status) for r in by_folder.results) == [("bridge.txt", "added"),
                                                                                  ("x.txt", "failed")]
    assert [(Path(r.file).name, r.status) for r in by_name.results] == [("x.txt", "failed")]
    assert "symbolic link, not followed" in by_name.results[0].reason
    assert [a.file for a in pipeline.articles()] == ["bridge.txt"]
    answer = pipeline.ask("What is the login shell of root?")
    assert all("root" not in c.quote for c in answer.citations)


def test_follow_symlinks_reads_links_inside_the_folder_and_never_one_outside(settings, embedder, tmp_path):
    pipeline = Pipeline(settings.model_copy(update={"follow_symlinks": True}), embedder=embedder)
    secret = write(tmp_path, "passwd.txt", "root:x:0:0:root:/root:/bin/bash\n")
    folder = tmp_path / "news"
    story = write(folder / "sub", "bridge.txt", BRIDGE)
    (folder / "latest.txt").symlink_to(story)
    (folder / "x.txt").symlink_to(secret)
    report = pipeline.ingest([folder])
    assert sorted((Path(r.file).name, r.status) for r in report.results) == [
        ("bridge.txt", "duplicate"), ("latest.txt", "added"), ("x.txt", "failed")]
    assert "outside" in [r for r in report.results if r.status == "failed"][0].reason


# -- interrupted runs ------------------------------------------------------------------------------


@pytest.mark.reliability  # two real processes: `make test-reliability`
def test_an_ingest_killed_while_writing_sentence_vectors_leaves_nothing_visible_and_a_rerun_finishes(tmp_path,
                                                                                                     embedder):
    folder = tmp_path / "news"
    write(folder, "a_bridge.txt", BRIDGE)
    data = tmp_path / "store"
    assert newsrag_process(data, "ingest", str(folder)).returncode == 0  # committed before the kill
    write(folder, "b_library.txt", LIBRARY + " ".join(f"Shelf {i} holds {i * 100} books." for i in range(30)))

    killed = newsrag_process(data, "ingest", str(folder), fault="sentences:3")  # in b_library.txt's sentences

    assert killed.returncode == -signal.SIGKILL
    reader = Pipeline(Settings(data_dir=data), embedder=embedder)
    assert [a.file for a in reader.articles()] == ["a_bridge.txt"]  # the half-written one is absent
    partial = reader.store.chunks.get(where={"file": "b_library.txt"}, include=[])["ids"]
    assert partial  # its chunks are on disk, but no reader sees them:
    assert not {p.article.file for p in reader.retriever.retrieve("How many books does shelf 7 hold?", 5)} - {
        "a_bridge.txt"}
    assert all(n.metadata["file"] == "a_bridge.txt" for n in reader.store.nodes())

    rerun = newsrag_process(data, "ingest", str(folder))

    assert rerun.returncode == 0, rerun.stderr
    assert "(first removed the half-written b_library.txt" in rerun.stderr
    assert [line.split(": ")[1].split(" (")[0] for line in rerun.stdout.splitlines()[:2]] == [
        "already in the library", "added to the library"]
    store = Pipeline(Settings(data_dir=data), embedder=embedder).store
    assert [a.file for a in store.articles()] == ["a_bridge.txt", "b_library.txt"]
    for article in store.articles():
        assert store.article(article.doc_id).text  # rebuilt whole from its chunks


# -- one writer at a time --------------------------------------------------------------------------


def test_a_second_writer_is_told_who_writes_and_gives_up_after_the_wait(tmp_path, embedder):
    data = tmp_path / "store"
    holder = hold_writer_lock(data, 60)
    try:
        told: list[str] = []
        pipeline = Pipeline(Settings(data_dir=data, lock_wait=1), embedder=embedder)
        pipeline.store.notify = told.append
        with pytest.raises(StoreBusyError) as info:
            pipeline.ingest([write(tmp_path / "news", "bridge.txt", BRIDGE)])
    finally:
        holder.kill()
        holder.wait()
    (line,) = told  # said once, before waiting
    assert re.fullmatch(rf"The library at {re.escape(str(data))} is being written by PID {holder.pid} \(-c .+, "
                        r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\); waiting up to 1 s for it to finish \(several writers "
                        r"at once need a Chroma server: NEWSRAG_CHROMA_URL\)\.", line), line
    assert f"is being written by PID {holder.pid}" in str(info.value) and "gave up after waiting 1 s" in str(info.value)
    assert Pipeline(Settings(data_dir=data), embedder=embedder).articles() == []


def test_a_waiting_writer_goes_on_once_the_other_has_finished(tmp_path, embedder):
    data = tmp_path / "store"
    holder = hold_writer_lock(data, 2)
    told: list[str] = []
    pipeline = Pipeline(Settings(data_dir=data, lock_wait=60), embedder=embedder)
    pipeline.store.notify = told.append
    started = time.monotonic()
    report = pipeline.ingest([write(tmp_path / "news", "bridge.txt", BRIDGE)])
    holder.wait()
    assert report.ok and len(told) == 1 and "waiting up to 60 s" in told[0]
    assert time.monotonic() - started >= 1  # it did wait for the holder


def test_the_cli_says_who_holds_the_library_in_one_line(tmp_path):
    data = tmp_path / "store"
    holder = hold_writer_lock(data, 60)
    try:
        result = newsrag_process(data, "ingest", str(write(tmp_path / "news", "bridge.txt", BRIDGE)),
                                 NEWSRAG_LOCK_WAIT="0")
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: The library at {data} is being written by PID {holder.pid} "
        f"({result.stderr.split('(', 1)[1].split(')')[0]}); gave up after waiting 0 s; try again when it has finished, "
        "or set NEWSRAG_LOCK_WAIT to wait longer (several writers at once need a Chroma server: NEWSRAG_CHROMA_URL).",
    ]


# -- the BM25 cache ---------------------------------------------------------------------------------


def test_the_bm25_cache_is_one_folder_named_by_the_stores_fingerprint_and_leftovers_go(pipeline, settings, tmp_path):
    pipeline.ingest([write(tmp_path / "news", "bridge.txt", BRIDGE)])
    leftover = settings.bm25_dir / ".tmp-killed"  # what a writer killed while saving the cache leaves
    leftover.mkdir()
    (leftover / "partial").write_text("x")
    pipeline.ingest([write(tmp_path / "news", "library.txt", LIBRARY)])
    assert [p.name for p in settings.bm25_dir.iterdir()] == [pipeline.store.fingerprint()]


def test_a_reader_rebuilds_the_bm25_index_in_memory_and_leaves_the_cache_to_the_writer(pipeline, settings, embedder,
                                                                                       tmp_path):
    pipeline.ingest([write(tmp_path / "news", "bridge.txt", BRIDGE)])
    for cache in settings.bm25_dir.iterdir():
        cache.rename(settings.bm25_dir / ".tmp-gone")
    holder = hold_writer_lock(settings.data_dir, 60)  # another process is writing
    try:
        reader = LexicalIndex(Pipeline(settings, embedder=embedder).store, settings.bm25_dir)
        hits = reader.retriever(3).retrieve("footbridge Wend")
        assert hits and hits[0].node.metadata["file"] == "bridge.txt"
        assert [p.name for p in settings.bm25_dir.iterdir()] == [".tmp-gone"]  # nothing written without the lock
    finally:
        holder.kill()
        holder.wait()


# -- libraries from before the manifest ------------------------------------------------------------


def test_a_library_written_before_the_manifest_gets_one_on_first_use(pipeline, settings, embedder, tmp_path):
    pipeline.ingest([write(tmp_path / "news", "bridge.txt", BRIDGE), write(tmp_path / "news", "library.txt", LIBRARY)])
    before = [(a.doc_id, a.file, a.title, a.chunks) for a in pipeline.articles()]
    question = pipeline.ask("How did the council of Aldmoor vote?")
    pipeline.store.client.delete_collection(f"{settings.collection}-articles")  # as an older newsrag left it

    later = Pipeline(settings, embedder=embedder)

    assert [(a.doc_id, a.file, a.title, a.chunks) for a in later.articles()] == before
    assert later.ask("How did the council of Aldmoor vote?").text == question.text


# -- what cannot be asked or opened ----------------------------------------------------------------


def test_a_question_over_the_length_limit_is_refused_with_the_limit_named(seeded):
    with pytest.raises(QuestionError, match=r"The question is 1,001 characters long; the limit is 1,000 "
                                            r"\(NEWSRAG_MAX_QUESTION_CHARS\)"):
        seeded.ask("x" * 1001)
    with pytest.raises(QuestionError, match="An earlier question is 5,000 characters long"):
        seeded.ask("And then?", history=["y" * 5000])


def test_the_cli_turns_an_unusable_data_folder_into_one_line(tmp_path):
    as_file = tmp_path / "library"
    as_file.write_text("not a folder")
    result = CliRunner(env={"NEWSRAG_RAISE": None}).invoke(cli, ["--data-dir", str(as_file), "sources"])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {as_file} is a file, not a folder: give --data-dir (NEWSRAG_DATA_DIR) a folder "
                             "for the library (it is made if missing).\n")


def test_the_cli_turns_a_truncated_chroma_database_into_one_line(seeded, tmp_path):
    import shutil

    data = tmp_path / "store"
    shutil.copytree(seeded.settings.data_dir, data)
    database = data / "chroma" / "chroma.sqlite3"
    with database.open("r+b") as f:
        f.truncate(database.stat().st_size // 3)
    for args in (["sources"], ["ask", "What did Lavrov say in Manila?"]):
        result = CliRunner(env={"NEWSRAG_RAISE": None}).invoke(cli, ["--data-dir", str(data), *args])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"Error: The library at {data} cannot be read by Chroma (")
        assert "move" in result.stderr and "Traceback" not in result.output


def test_a_first_use_that_was_interrupted_is_finished_by_the_next_one(seeded, tmp_path, embedder):
    import shutil

    data = tmp_path / "store"
    shutil.copytree(seeded.settings.data_dir, data)
    pipeline = Pipeline(Settings(data_dir=data), embedder=embedder)
    pipeline.delete("002")  # as if the first use had been killed before the third seed
    report = pipeline.ensure_seeds()
    assert report is not None and [r.status for r in report.results] == ["unchanged", "unchanged", "added"]
    assert pipeline.ensure_seeds() is None and len(pipeline.articles()) == 3
