"""`newsrag serve` answering a stream of questions while a `newsrag ingest` process writes the same library folder and
the app takes uploads of its own (the probe of issue 23: 25 of 207 questions failed with Chroma's "Error finding id",
others with BM25 cache errors, until the app was restarted). Here every question gets an answer, the uploads wait
for the other writer and go in, and the app answers from what the other process wrote without a restart."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import newsrag_started
from corpus import CORPUS
from served import start_server, stop_server

pytestmark = pytest.mark.reliability

SEED_QUESTIONS = ("What did Lavrov say in Manila?", "How did the Senate vote on the sanctions bill?",
                  "What did Zakharova say about Crimea?", "Who won the 1998 FIFA World Cup?")
QUESTIONS = SEED_QUESTIONS + tuple(f.question for f in CORPUS.questions())
ASKERS = 4


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serving")
    proc, url = start_server(tmp / "store", tmp / "serve.log", timeout=300, NEWSRAG_LOCK_WAIT="900")
    try:
        yield url, tmp / "store", tmp
    finally:
        stop_server(proc)


def upload_text(client, path) -> str:
    from gradio_client import handle_file

    # files, title, source, date, search
    status, *_ = client.predict([handle_file(str(path))], "", "", "", "", api_name="/upload")
    return str(status)


@pytest.mark.timeout(1200)
def test_questions_in_flight_while_another_process_ingests_and_the_app_uploads_all_get_answers(server, figures):
    from gradio_client import Client

    url, data, tmp = server
    folder = CORPUS.write(tmp / "news")
    uploads = []
    for n in range(3):
        path = tmp / f"upload_{n}.txt"
        path.write_text(f"Quarnby ferry timetable {n}\n\nThe Quarnby ferry will sail {n + 3} times a day from May, "
                        f"the harbour office of Quarnby said on Friday in notice number {n + 40}.\n", encoding="utf-8")
        uploads.append(path)
    writer = newsrag_started(data, "ingest", str(folder), log=tmp / "ingest.log", NEWSRAG_WRITE_BATCH="8")
    outcomes: Counter[str] = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def ask_until_done(n: int) -> None:
        client = Client(url, verbose=False)
        i = n
        while not stop.is_set() or i < n + 8:  # at least eight each, and on until the ingest has finished
            question = QUESTIONS[i % len(QUESTIONS)]
            try:
                result = client.predict(question, "[]", api_name="/ask")
                kind = "abstained" if result["abstained"] else "answered"
                assert isinstance(result["answer"], str) and "Traceback" not in result["answer"]
            except Exception as exc:  # noqa: BLE001 - any failure of a question is what this test counts
                kind = "error"
                with lock:
                    errors.append(f"{question}: {type(exc).__name__}: {exc}"[:300])
            with lock:
                outcomes[kind] += 1
            i += 1

    with ThreadPoolExecutor(max_workers=ASKERS + 1) as pool:
        askers = [pool.submit(ask_until_done, n) for n in range(ASKERS)]
        try:
            time.sleep(5)  # the ingest is under way: the uploads wait for its writer lock, then go in
            statuses = list(pool.map(lambda p: upload_text(Client(url, verbose=False), p), uploads))
            code = writer.wait(timeout=900)
        finally:
            stop.set()  # a failed upload must not leave the askers asking forever
        for asker in askers:
            asker.result(timeout=600)

    ingest_log = (tmp / "ingest.log").read_text()
    assert code == 0, ingest_log[-3000:]
    assert errors == [], errors[:5]
    assert all("added" in s for s in statuses), statuses
    client = Client(url, verbose=False)  # what the other process wrote, answered without a restart
    for fact in CORPUS.questions():
        result = client.predict(fact.question, "[]", api_name="/ask")
        assert fact.answer in result["answer"], (fact, result["answer"])
    result = client.predict("How many times a day will the Quarnby ferry sail, according to notice number 41?", "[]",
                            api_name="/ask")
    assert any(c["file"].startswith("upload_") for c in result["citations"]), result
    table = client.predict("", api_name="/library")[0]  # the table itself, or an update carrying it
    library = {row[3] for row in table.get("value", table)["data"]}  # title, source, date, file, …
    assert {CORPUS.name(k) for k in range(CORPUS.size)} | {p.name for p in uploads} <= library
    total = sum(outcomes.values())
    figures["questions in flight during an ingest by another process"] = total
    figures["question errors during that ingest"] = outcomes["error"]
    figures["uploads through the app during that ingest (waited for its lock)"] = len(uploads)
    figures["concurrent askers"] = ASKERS
