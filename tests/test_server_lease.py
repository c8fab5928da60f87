"""Writers on several machines share one library through a Chroma server, one at a time: each has a data folder of
its own (so the folder's writer lock cannot see the others), and the writer lease kept on the server itself
(``index/lease.py``) lets one write while the others wait, is taken over when its holder dies, and stops a holder
that stalled past it before that holder writes again. Every test runs on the run's real ``chroma run``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from served import ChromaServer

from index.store import Store
from rag.config import Settings
from rag.errors import StoreBusyError
from rag.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
TTL = 1.5


def machine(server: ChromaServer, folder: Path, collection: str, **overrides) -> Settings:
    """The settings of one "machine": its own data folder, the shared server and collection."""
    return Settings(data_dir=folder, chroma_url=server.url, collection=collection, **{"lease_ttl": TTL, **overrides})


def article(folder: Path, name: str, town: str, times: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f"{town} ferry timetable\n\nThe {town} ferry will sail {times} a day from June, the "
                               f"harbour office of {town} said on Friday.\n", encoding="utf-8")
    return folder


HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from rag.config import Settings
    from rag.pipeline import Pipeline
    from rag.errors import NewsragError

    data, url, collection, ttl, news = sys.argv[1:6]
    pipeline = Pipeline(Settings(data_dir=Path(data), chroma_url=url, collection=collection, lease_ttl=float(ttl)))
    pipeline.embedder.embed(["warm up"])  # the model is loaded before the lease is taken
    with pipeline.store.writing():
        print("held", flush=True)
        sys.stdin.readline()
        try:
            report = pipeline.ingest([Path(news)])
        except NewsragError as exc:
            print("stopped:", exc, flush=True)
            sys.exit(3)
        print("ingested:", [(r.status, r.reason) for r in report.results], flush=True)
""")


def start_holder(settings: Settings, news: Path) -> subprocess.Popen:
    """Another machine's writer: takes the lease, says "held", and ingests ``news`` when told to (a line on stdin)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(settings.data_dir), str(settings.chroma_url),
                             settings.collection, str(settings.lease_ttl), str(news)],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "held", line + proc.stdout.read()
    return proc


def says(proc: subprocess.Popen, text: str) -> bool:
    """Read the process's messages until one says ``text`` (True) or it ends (False)."""
    assert proc.stderr is not None
    return any(text in line for line in iter(proc.stderr.readline, ""))


def test_a_writer_on_another_machine_waits_for_the_first_and_is_told_who_holds_the_library(chroma_server, tmp_path):
    collection = chroma_server.collection()
    first = Store(machine(chroma_server, tmp_path / "a", collection))
    told: list[str] = []
    second = Store(machine(chroma_server, tmp_path / "b", collection, lock_wait=1.0))
    second.notify = told.append
    with first.writing():
        with second.writing(blocking=False) as held:
            assert not held
        with pytest.raises(StoreBusyError, match=rf"being written by PID {os.getpid()} on .*gave up after waiting"):
            with second.writing():
                pass
    assert told and f"PID {os.getpid()}" in told[0] and collection in told[0]
    with second.writing(blocking=False) as held:  # released: the next writer takes it at once
        assert held


def test_the_lease_of_a_killed_writer_is_taken_over_once_it_stops_beating(chroma_server, tmp_path):
    collection = chroma_server.collection()
    holder = start_holder(machine(chroma_server, tmp_path / "a", collection), article(tmp_path / "news-a", "a.txt",
                                                                                      "Quarnby", "nine times"))
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    told: list[str] = []
    second = Store(machine(chroma_server, tmp_path / "b", collection, lock_wait=60))
    second.notify = told.append
    with second.writing() as held:
        assert held
    assert told and f"PID {holder.pid} on" in told[0]  # it waited for the dead writer's lease to go stale first


def test_a_rerun_from_the_killed_writer_s_own_data_folder_takes_the_library_at_once(chroma_server, tmp_path):
    collection = chroma_server.collection()
    holder = start_holder(machine(chroma_server, tmp_path / "a", collection, lease_ttl=600),
                          article(tmp_path / "news-a", "a.txt", "Quarnby", "nine times"))
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    rerun = Store(machine(chroma_server, tmp_path / "a", collection, lease_ttl=600, lock_wait=0))
    with rerun.writing(blocking=False) as held:  # it holds the folder's lock the killed writer held: no stale wait
        assert held
    elsewhere = Store(machine(chroma_server, tmp_path / "b", collection, lease_ttl=600, lock_wait=0))
    with rerun.writing(), elsewhere.writing(blocking=False) as held:  # while another machine still waits its turn
        assert not held


def test_a_writer_that_stalled_past_its_lease_stops_before_writing_beside_the_writer_that_took_it_over(
        chroma_server, tmp_path, embedder):
    collection = chroma_server.collection()
    holder = start_holder(machine(chroma_server, tmp_path / "a", collection),
                          article(tmp_path / "news-a", "late.txt", "Quarnby", "nine times"))
    os.kill(holder.pid, signal.SIGSTOP)  # a process paused (swapped out, debugged, a VM frozen) for longer than ttl
    try:
        second = Pipeline(machine(chroma_server, tmp_path / "b", collection, lock_wait=60), embedder=embedder)
        report = second.ingest([article(tmp_path / "news-b", "on-time.txt", "Ellerby", "six times")])
        assert report.ok
    finally:
        os.kill(holder.pid, signal.SIGCONT)
    output = holder.communicate("go\n", timeout=120)[0]
    assert holder.returncode == 3 and "lost its hold on the library" in output, output
    stored = second.store.articles()
    assert [a.file for a in stored] == ["on-time.txt"]
    assert not second.store.repair()  # and it left nothing half-written


def test_ingests_from_two_machines_into_one_collection_queue_and_keep_every_article_once(chroma_server, tmp_path,
                                                                                         embedder):
    collection = chroma_server.collection()
    first = Store(machine(chroma_server, tmp_path / "holder", collection))
    news = {name: article(tmp_path / f"news-{name}", f"{name}.txt", town, times)
            for name, town, times in (("a", "Quarnby", "nine times"), ("b", "Ellerby", "six times"))}
    env = {**os.environ, "NEWSRAG_LEASE_TTL": str(TTL), "NEWSRAG_COLLECTION": collection}
    with first.writing():  # both ingests start while a third writer holds the library, so they must queue
        procs = [subprocess.Popen([sys.executable, "-c", "from rag.cli import main; main()", "--data-dir",
                                   str(tmp_path / f"machine-{name}"), "--chroma-url", chroma_server.url,
                                   "ingest", str(folder)],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for name, folder in news.items()]
        waited = [says(proc, f"being written by PID {os.getpid()}") for proc in procs]
    outputs = [(proc.communicate(timeout=300), proc.returncode) for proc in procs]
    assert all(waited), outputs
    for (out, err), code in outputs:
        assert code == 0, out + err
    reader = Pipeline(machine(chroma_server, tmp_path / "reader", collection), embedder=embedder)
    assert sorted(a.file for a in reader.store.articles()) == ["a.txt", "b.txt"]
    assert not reader.store.repair()
    assert "nine times a day" in reader.ask("How many times a day will the Quarnby ferry sail?").text


def test_writers_racing_for_the_lease_hold_it_one_at_a_time(chroma_server, tmp_path):
    import threading
    import time

    collection = chroma_server.collection()
    holding, most, holds = [0], [0], []
    count = threading.Lock()

    machines = [machine(chroma_server, tmp_path / f"m{n}", collection, lock_wait=120) for n in range(4)]

    def writer(n: int) -> None:
        store = Store(machines[n])
        for _ in range(3):
            with store.writing():
                with count:
                    holding[0] += 1
                    most[0] = max(most[0], holding[0])
                time.sleep(0.05)
                with count:
                    holding[0] -= 1
                    holds.append(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1 and sorted(holds) == sorted(list(range(4)) * 3), (most, holds)


def test_a_library_whose_name_looks_like_a_lease_is_never_taken_for_one_nor_deleted(chroma_server, tmp_path,
                                                                                      embedder):
    collection = chroma_server.collection()
    lookalike = f"{collection}-writer-0000000007"
    other = Pipeline(machine(chroma_server, tmp_path / "other", lookalike), embedder=embedder)
    assert other.ingest([article(tmp_path / "news", "a.txt", "Quarnby", "nine times")]).ok
    store = Store(machine(chroma_server, tmp_path / "a", collection, lock_wait=0))
    for _ in range(2):
        with store.writing(blocking=False) as held:  # not kept waiting by it, and not deleting it when done
            assert held
    again = Pipeline(other.settings, embedder=embedder)
    assert again.store.chunks.count() > 0
    assert "nine times a day" in again.ask("How many times a day will the Quarnby ferry sail?").text
