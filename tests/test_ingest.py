"""Ingest: files → articles in a real Chroma store; idempotent, replacing, and all-or-nothing per file. Each test
on a library runs on a Chroma folder and on a Chroma server (``[folder]``, ``[server]``: tests/conftest.py)."""

from __future__ import annotations

import json
import shutil
import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from index.annotate import annotate, encode
from index.clean import clean
from index.ingest import FileResult, IngestReport
from index.store import SERVER_MAX_AGE
from index.types import Details
from rag.config import Settings
from rag.pipeline import Pipeline
from rag.types import Filters

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
F000, F001, F002 = "000_8a1e73fa9af65f5f.txt", "001_96ac95c0c53d5726.txt", "002_95e9d33b01bd44bf.txt"
NEW_PARAGRAPH = "\nLavrov later told reporters in Manila that the quokka was not discussed.\n"

pytestmark = pytest.mark.both_stores  # every test on a library runs on a Chroma folder and on a Chroma server


def chunk_ids(pipeline: Pipeline, file: str | None = None) -> list[str]:
    where = {"file": file} if file else None
    return sorted(pipeline.store.chunks.get(where=where, include=[])["ids"])


def sentence_ids(pipeline: Pipeline) -> list[str]:
    return sorted(pipeline.store.sentences.get(include=[])["ids"])


def sentence_doc_ids(pipeline: Pipeline) -> set[str]:
    return {m["doc_id"] for m in pipeline.store.sentences.get(include=["metadatas"])["metadatas"]}


def seen_by_a_running_pipeline(settings: Settings) -> None:
    """Wait until another pipeline's commit is seen by one already running: at once on a folder (its generation
    file changes); a Chroma server has no file to look at, so there the library is re-read once the last look is
    ``SERVER_MAX_AGE`` seconds old."""
    if settings.chroma_url:
        time.sleep(SERVER_MAX_AGE)


def copy_library(source: Pipeline, target: Pipeline) -> None:
    """Every row of ``source``'s collections (ids, vectors, texts, metadata), their collection metadata (the
    embedding model the library was built with) and its BM25 cache, into ``target``'s new, empty library: on a
    Chroma server, what copying the data folder does for an embedded one."""
    for name in ("chunks", "sentences", "manifest"):
        rows, into = getattr(source.store, name), getattr(target.store, name)
        got = rows.get(include=["embeddings", "documents", "metadatas"])
        documents = got["documents"] if any(d is not None for d in got["documents"]) else None
        into.add(ids=got["ids"], embeddings=got["embeddings"], documents=documents, metadatas=got["metadatas"])
        marks = {k: v for k, v in (rows.metadata or {}).items() if not k.startswith("hnsw:")}
        if marks:
            into.modify(metadata=marks)
    shutil.copytree(source.settings.bm25_dir, target.settings.bm25_dir)


@pytest.fixture(scope="module")
def templates(tmp_path_factory, embedder, library_settings):
    """``templates(kind)``: the seeds ingested once into a fresh library on that store, with its report (embedding
    is the slow part; tests copy this library)."""
    made: dict[str, tuple[Pipeline, IngestReport]] = {}

    def template(kind: str) -> tuple[Pipeline, IngestReport]:
        if kind not in made:
            articles = tmp_path_factory.mktemp(f"seeds-{kind}") / "articles"
            shutil.copytree(SEEDS, articles)
            store = tmp_path_factory.mktemp(f"template-{kind}") / "store"
            pipe = Pipeline(library_settings(kind, store), embedder=embedder)
            made[kind] = pipe, pipe.ingest([articles])
        return made[kind]

    return template


@pytest.fixture
def seeds_ingested(templates, store_kind) -> tuple[Pipeline, IngestReport]:
    """The seeds ingested once into a library on the store this test runs on, and the report of that ingest."""
    return templates(store_kind)


@pytest.fixture
def ingested_from(seeds_ingested):
    """The folder ``ingested``'s articles were read from (an article's identity is its file's path): a test may
    change its files, which are put back afterwards."""
    template, report = seeds_ingested
    folder = Path(report.results[0].file).parent
    yield folder
    shutil.rmtree(folder)
    shutil.copytree(SEEDS, folder)


@pytest.fixture
def ingested(seeds_ingested, settings, counting) -> Pipeline:
    """A writable library holding the three seeds (a copy of ``seeds_ingested``'s: its folder, or its collections on
    the server), counting embeddings."""
    template, _ = seeds_ingested
    if settings.chroma_url:
        copy_library(template, Pipeline(settings, embedder=counting))
    else:
        shutil.copytree(template.settings.data_dir, settings.data_dir)
    return Pipeline(settings, embedder=counting)


def test_ingesting_the_seeds_adds_three_articles(seeds_ingested):
    pipeline, report = seeds_ingested
    assert [(Path(r.file).name, r.status) for r in report.results] == [
        (F000, "added"), (F001, "added"), (F002, "added"),
    ]
    assert report.ok and report.summary() == "3 added"
    assert pipeline.store.count() == sum(r.chunks for r in report.results)
    assert [a.file for a in pipeline.articles()] == [F000, F001, F002]
    assert [a.chunks for a in pipeline.articles()] == [r.chunks for r in report.results]
    # one stored vector per sentence, for the extractive answerer
    assert len(sentence_ids(pipeline)) == sum(
        len(json.loads(m["sentences"])) for m in pipeline.store.chunks.get(include=["metadatas"])["metadatas"]
    )


def test_each_sentence_is_embedded_once_and_a_chunk_vector_is_its_sentences_weighted_mean(pipeline, counting,
                                                                                         seeds_copy):
    pipeline = Pipeline(pipeline.settings, embedder=counting)
    pipeline.ingest([seeds_copy])
    chunks = pipeline.store.chunks.get(include=["metadatas", "embeddings"])
    sentences = pipeline.store.sentences.get(include=["metadatas", "embeddings"])
    # the model read every sentence once, a probe of the model, and no chunk text
    assert counting.texts == len(sentences["ids"]) + 1
    by_chunk: dict[str, list[tuple[int, np.ndarray]]] = {}
    for meta, vector in zip(sentences["metadatas"], sentences["embeddings"], strict=True):
        by_chunk.setdefault(meta["chunk_id"], []).append((meta["end"] - meta["start"], np.asarray(vector)))
    for chunk_id, vector in zip(chunks["ids"], chunks["embeddings"], strict=True):
        mean = sum(n * v for n, v in by_chunk[chunk_id])
        assert np.allclose(vector, mean / np.linalg.norm(mean), atol=1e-5)


def test_a_sentence_that_comes_again_is_read_once_and_stored_as_if_read_again(pipeline, counting, embedder,
                                                                               tmp_path):
    footer = "All materials posted herein are protected by copyright law of Norland."
    folder = tmp_path / "articles"
    folder.mkdir()
    towns = ["Aldmoor", "Brackwell", "Corrin"]
    for i, town in enumerate(towns):
        (folder / f"{town}.txt").write_text(f"{town} council votes on a footbridge\n\nThe council of {town} voted "
                                          f"{i + 10}-3 on Monday to build a footbridge in Paris.\n\n{footer}\n",
                                          encoding="utf-8")
    pipeline = Pipeline(pipeline.settings, embedder=counting)
    pipeline.ingest([folder])
    stored = pipeline.store.sentences.get(include=["embeddings", "metadatas"])
    stored["documents"] = [pipeline.store.article(m["doc_id"]).text[m["start"] : m["end"]] for m in stored["metadatas"]]
    assert len(stored["ids"]) == 9 and stored["documents"].count(footer) == 3
    assert counting.texts == 7 + 1  # the six other sentences, the footer once, and the model's probe
    # each copy has the vector and the entities it would have were it read alone
    alone = embedder.embed([footer])[0]
    copies = [i for i, text in enumerate(stored["documents"]) if text == footer]
    assert all(np.allclose(stored["embeddings"][i], alone, atol=1e-6) for i in copies)
    assert {stored["metadatas"][i]["ents"] for i in copies} == {encode(annotate([footer])[0])}
    # and the next ingest of a page with that footer reads only its new sentences
    (folder / "Dunmore.txt").write_text(f"Dunmore council votes on a tram\n\nThe council of Dunmore voted 9-4.\n\n"
                                        f"{footer}\n", encoding="utf-8")
    pipeline.ingest([folder])
    assert counting.texts == 8 + 2


def test_reingesting_unchanged_files_changes_nothing_and_embeds_nothing(ingested, counting, seeds_copy):
    ids, sentences = chunk_ids(ingested), sentence_ids(ingested)
    report = ingested.ingest([seeds_copy])
    assert [r.status for r in report.results] == ["unchanged", "unchanged", "unchanged"]
    assert counting.calls == 0
    assert chunk_ids(ingested) == ids
    assert sentence_ids(ingested) == sentences
    assert ingested.store.count() == len(ids)


def test_a_changed_file_replaces_its_old_chunks_and_leaves_the_others_alone(ingested, counting, ingested_from):
    before_000, before_002 = chunk_ids(ingested, F000), chunk_ids(ingested, F002)
    old_ids = set(chunk_ids(ingested, F001))
    (old_doc,) = ingested.store.by_file(F001)

    path = ingested_from / F001
    path.write_text(path.read_text(encoding="utf-8") + NEW_PARAGRAPH, encoding="utf-8")
    report = ingested.ingest([ingested_from])

    assert [r.status for r in report.results] == ["unchanged", "replaced", "unchanged"]
    assert counting.calls == 1  # only the changed file was embedded
    (new_doc,) = ingested.store.by_file(F001)  # one version of the file, not two
    assert new_doc != old_doc and report.results[1].doc_id == new_doc
    assert not ingested.store.has(old_doc)
    now = chunk_ids(ingested, F001)
    assert not old_ids & set(now)
    assert len(now) == report.results[1].chunks
    assert chunk_ids(ingested, F000) == before_000
    assert chunk_ids(ingested, F002) == before_002
    assert len(ingested.articles()) == 3
    assert ingested.store.article(new_doc).text.endswith("the quokka was not discussed.")
    assert sentence_doc_ids(ingested) == {a.doc_id for a in ingested.articles()}  # old sentence vectors gone


def test_delete_removes_an_article_by_file_prefix(ingested):
    (doc,) = ingested.store.by_file(F001)
    result = ingested.delete("001")
    assert result == FileResult(F001, "deleted", doc, result.chunks)
    assert result.chunks > 0
    assert [a.file for a in ingested.articles()] == [F000, F002]
    assert not ingested.store.has(doc)
    assert chunk_ids(ingested, F001) == []
    assert doc not in sentence_doc_ids(ingested)
    hits = ingested.lexical.retriever(5).retrieve("Zakharova Crimea Spicer")  # BM25 forgot its words too
    assert all(n.node.metadata["file"] != F001 for n in hits)


# -- bad input: one failed line that names the file and says why; the store is untouched --------------

BAD_FILES = {
    "binary": ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    "empty": ("empty.txt", b"", "empty"),
    "blank": ("blank.txt", b"  \n\n\t ", "empty"),
    "latin-1": ("cafe.txt", "Lavrov drank caf\xe9.".encode("latin-1"), "not UTF-8 text (undecodable byte 0xe9"),
    "furniture": (
        "nav.txt",
        b"Open in App\nCity\nEpaper\nTags: Russia, US\nRelated Stories\nSome Headline Here\n",
        "nothing but page furniture",
    ),
}


def test_every_bad_file_fails_with_its_name_and_reason_and_the_store_is_unchanged(ingested, counting, tmp_path):
    before, sentences = chunk_ids(ingested), sentence_ids(ingested)
    for case, (name, data, reason) in BAD_FILES.items():
        bad = tmp_path / case / name
        bad.parent.mkdir()
        bad.write_bytes(data)

        report = ingested.ingest([bad])

        (result,) = report.results
        assert result.status == "failed" and not report.ok, case
        assert result.file == str(bad), case
        assert reason in result.reason, case
        assert result.line().startswith(f"✗ {bad}: "), case
        assert chunk_ids(ingested) == before and sentence_ids(ingested) == sentences, case
    assert counting.calls == 0


def test_a_file_over_the_size_limit_fails_and_names_the_limit(ingested, settings, embedder, tmp_path):
    before = chunk_ids(ingested)
    small = Pipeline(settings.model_copy(update={"max_file_bytes": 1_000}), embedder=embedder)
    big = tmp_path / "long.txt"
    big.write_text("Lavrov met Tillerson in Manila. " * 50)  # 1,600 bytes

    (result,) = small.ingest([big]).results

    assert result.status == "failed" and result.file == str(big)
    assert "too large (1,600 bytes; the limit is 1,000" in result.reason
    assert chunk_ids(ingested) == before


def test_a_folder_without_articles_fails_and_names_what_it_skipped(ingested, tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG")
    before = chunk_ids(ingested)
    failed, skipped = ingested.ingest([folder]).results
    assert failed.status == "failed" and failed.file == str(folder)
    assert "no articles" in failed.reason
    assert (skipped.status, skipped.file) == ("skipped", str(folder / "a.png"))
    assert chunk_ids(ingested) == before


def test_every_file_a_folder_ingest_leaves_out_is_reported_with_the_reason(pipeline, tmp_path):
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    (folder / "vote.txt").write_text("Ann Lee said the council vote was 12-3.", encoding="utf-8")
    (folder / "sub" / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / "notes").write_text("no extension", encoding="utf-8")
    report = pipeline.ingest([folder])
    lines = {Path(r.file).name: (r.status, r.reason) for r in report.results}
    assert lines["vote.txt"][0] == "added"
    assert lines["photo.jpg"] == ("skipped", "not an article file (.jpg; newsrag reads .txt, .md, .html, .htm, "
                                             ".pdf, .docx)")
    assert lines["notes"][0] == "skipped" and "no extension" in lines["notes"][1]
    assert report.ok and report.summary() == "1 added, 2 skipped"
    assert all(r.line().startswith("– ") for r in report.results if r.status == "skipped")


def test_a_bad_file_does_not_stop_the_good_ones_beside_it(pipeline, seeds_copy, tmp_path):
    bad = seeds_copy / "broken.txt"
    bad.write_bytes(b"\x00\x01\x02")
    report = pipeline.ingest([tmp_path / "nope.txt", bad, seeds_copy / F002])
    assert [(r.status, Path(r.file).name) for r in report.results] == [
        ("failed", "nope.txt"), ("failed", "broken.txt"), ("added", F002),
    ]
    assert "no such file" in report.results[0].reason
    assert [a.file for a in pipeline.articles()] == [F002]


def test_the_same_text_under_two_names_in_one_batch_is_stored_once(pipeline, seeds_copy):
    copy = Path(shutil.copy(seeds_copy / F002, seeds_copy / "copy_of_002.txt"))
    report = pipeline.ingest([seeds_copy / F002, copy])
    assert [r.status for r in report.results] == ["added", "duplicate"]
    assert report.results[1].reason == f"same text as {F002}"
    assert [a.file for a in pipeline.articles()] == [F002]


def test_a_stored_text_under_a_new_name_is_not_embedded_again(ingested, counting, seeds_copy):
    copy = Path(shutil.copy(seeds_copy / F002, seeds_copy / "copy_of_002.txt"))
    (result,) = ingested.ingest([copy]).results
    assert result.status == "unchanged" and counting.calls == 0
    assert len(ingested.articles()) == 3


# -- the BM25 cache follows the store --------------------------------------------------------------


def test_the_bm25_index_reads_every_chunk_a_page_at_a_time(ingested, monkeypatch):
    # a library of 100,000 chunks cannot be read in one Chroma ``get`` (SQLite's variable limit): pages of _PAGE rows
    import index.store

    everything = sorted(n.node_id for n in ingested.store.nodes())
    monkeypatch.setattr(index.store, "_PAGE", 7)
    paged = ingested.store.nodes()
    assert sorted(n.node_id for n in paged) == everything and len(everything) == ingested.store.count() > 7
    assert all(n.get_content() and n.ref_doc_id for n in paged)


def test_the_bm25_cache_is_rebuilt_when_missing(ingested, settings, embedder):
    fingerprint = ingested.store.fingerprint()
    assert [p.name for p in settings.bm25_dir.iterdir()] == [fingerprint]  # one cache, named by what it indexes
    shutil.rmtree(settings.bm25_dir)

    fresh = Pipeline(settings, embedder=embedder)
    hits = fresh.lexical.retriever(3).retrieve("Ministry's Collegium")

    assert hits and hits[0].node.metadata["file"] == F002
    assert "Collegium" in hits[0].node.get_content()
    assert [p.name for p in settings.bm25_dir.iterdir()] == [fingerprint]


def test_the_bm25_cache_is_rebuilt_when_another_process_changed_the_store(ingested, settings, embedder, tmp_path):
    first = ingested
    first.lexical.refresh()
    assert not first.lexical.retriever(5).retrieve("quokka")

    second = Pipeline(settings, embedder=embedder)  # e.g. the CLI while the UI runs, on the same folder
    extra = tmp_path / "zoo.txt"
    extra.write_text("Lavrov said in Manila that the quokka was not discussed.", encoding="utf-8")
    assert second.ingest([extra]).ok

    first.lexical.refresh()
    hits = first.lexical.retriever(5).retrieve("quokka")
    assert [h.node.metadata["file"] for h in hits] == ["zoo.txt"]
    assert sorted(n.node_id for n in first.store.nodes()) == chunk_ids(first)


def test_retrieval_in_a_running_pipeline_forgets_an_article_another_process_deleted(ingested, settings, embedder):
    running = ingested  # e.g. the UI
    assert F001 in {p.article.file for p in running.retriever.retrieve("Zakharova Crimea", 5)}

    Pipeline(settings, embedder=embedder).delete("001")  # e.g. `newsrag ingest --delete 001` meanwhile

    assert F001 not in {p.article.file for p in running.retriever.retrieve("Zakharova Crimea", 5)}


def test_a_store_whose_files_it_cannot_see_checks_that_bm25_hits_still_exist(ingested, settings, embedder):
    """With a Chroma server (or a client passed in) no file says that another process wrote: the BM25 index is
    checked every two seconds, and meanwhile each hit is looked up in Chroma."""
    from index.store import Store

    running = Pipeline(settings, embedder=embedder, store=Store(settings, client=ingested.store.client))
    assert running.store.version() is None
    assert (ingested.store.version() is None) == bool(settings.chroma_url)  # a folder's own store sees its files
    assert F001 in {p.article.file for p in running.retriever.retrieve("Zakharova Crimea", 5)}

    Pipeline(settings, embedder=embedder).delete("001")

    assert not running.lexical.refresh(max_age=2.0)  # trusted: checked a moment ago
    assert F001 not in {p.article.file for p in running.retriever.retrieve("Zakharova Crimea", 5)}


def test_the_stored_article_text_is_the_cleaned_file_text(ingested):
    for stored in ingested.articles():
        assert ingested.store.article(stored.doc_id).text == clean((SEEDS / stored.file).read_text(encoding="utf-8"))
        assert ingested.article(stored.file[:3]).doc_id == stored.doc_id


def test_an_upload_goes_through_the_same_path(pipeline):
    data = (SEEDS / F002).read_bytes()
    (result,) = pipeline.ingest_upload("wire.txt", data).results
    assert result.status == "added"
    assert pipeline.store.article(result.doc_id).text == clean(data.decode("utf-8"))
    (bad,) = pipeline.ingest_upload("wire.txt", b"\x00\x01").results
    assert bad.status == "failed" and bad.file == "wire.txt" and "binary" in bad.reason


def test_result_lines_say_what_happened_in_words_with_correct_plurals():
    assert FileResult("a.txt", "added", "d1", 1).line() == "✓ a.txt: added to the library (1 chunk)"
    assert FileResult("a.txt", "added", "d1", 3).line() == "✓ a.txt: added to the library (3 chunks)"
    assert FileResult("a.txt", "unchanged", "d1").line() == "= a.txt: already in the library"
    assert FileResult("b.txt", "failed", reason="empty file").line() == "✗ b.txt: not added: empty file"


# -- details: title, source and date, given on upload or edited in place -------------------------------

VOTE = b"Council backs the new bridge\n\nAnn Lee said the council vote was 12-3. The bridge opens in May.\n"


def test_details_given_on_upload_win_over_what_the_file_says(pipeline):
    given = Details(title="Bridge vote", source="Town Crier", published=date(2020, 5, 2))
    (result,) = pipeline.ingest_upload("vote.txt", VOTE, given).results
    assert result.status == "added"
    (stored,) = pipeline.articles()
    assert (stored.title, stored.source, stored.published) == ("Bridge vote", "Town Crier", date(2020, 5, 2))


def test_details_given_for_an_article_already_stored_are_set_without_embedding(pipeline, counting):
    pipeline = Pipeline(pipeline.settings, embedder=counting)
    pipeline.ingest_upload("vote.txt", VOTE)
    calls = counting.calls
    (result,) = pipeline.ingest_upload("vote.txt", VOTE, Details(published=date(2020, 5, 2))).results
    assert (result.status, result.reason) == ("unchanged", "date set")
    assert result.line() == "= vote.txt: already in the library: date set"
    assert pipeline.articles()[0].published == date(2020, 5, 2)
    assert counting.calls == calls


def test_editing_details_keeps_every_chunk_and_vector_and_reaches_retrieval_and_filters(ingested, counting):
    chunks, sentences = chunk_ids(ingested), sentence_ids(ingested)
    vectors = ingested.store.chunks.get(ids=chunks, include=["embeddings"])["embeddings"]
    before = ingested.ask("How did the Senate vote on the sanctions bill?")
    assert before.citations[0].article.published is None
    calls = counting.calls

    stored = ingested.update_details("000", Details(title="Senate passes sanctions", published=date(2017, 7, 27)))

    assert (stored.title, stored.published, stored.file) == ("Senate passes sanctions", date(2017, 7, 27), F000)
    assert chunk_ids(ingested) == chunks and sentence_ids(ingested) == sentences
    assert (ingested.store.chunks.get(ids=chunks, include=["embeddings"])["embeddings"] == vectors).all()
    assert counting.calls == calls  # nothing embedded again
    answer = ingested.ask("How did the Senate vote on the sanctions bill?")
    assert answer.citations[0].article.title == "Senate passes sanctions"
    assert {p.article.title for p in answer.passages if p.article.file == F000} == {"Senate passes sanctions"}
    july = ingested.ask("How did the Senate vote on the sanctions bill?",
                        filters=Filters(since=date(2017, 7, 1), until=date(2017, 7, 31)))
    assert {p.article.file for p in july.passages} == {F000}  # the only article dated in July 2017


def test_another_process_sees_an_edit_at_once(ingested, settings, embedder):
    running = Pipeline(settings, embedder=embedder)
    assert running.ask("How did the Senate vote on the sanctions bill?").citations[0].article.title != "Vote"
    Pipeline(settings, embedder=embedder).update_details("000", Details(title="Vote"))
    seen_by_a_running_pipeline(settings)
    answer = running.ask("How did the Senate vote on the sanctions bill?")
    assert {p.article.title for p in answer.passages if p.article.file == F000} == {"Vote"}


def test_reingesting_fills_in_details_the_store_lacks_but_keeps_the_user_s_edits(ingested, seeds_copy):
    doc = ingested.store.find("000").doc_id
    ingested.store.chunks.update(  # as an older newsrag stored it: no title
        ids=chunk_ids(ingested, F000),
        metadatas=[{"title": ""} for _ in chunk_ids(ingested, F000)])
    ingested.store.manifest.update(ids=[doc], metadatas=[{"title": ""}])  # the library's list, likewise
    ingested.store._bump()
    ingested.update_details("002", Details(title="My own title"))
    results = {Path(r.file).name: r for r in ingested.ingest([seeds_copy]).results}
    assert (results[F000].status, results[F000].reason) == ("unchanged", "title set")
    assert ingested.store.find(doc).title.startswith("The Russian Foreign Ministry has said")
    assert ingested.store.find("002").title == "My own title"
    assert results[F002].reason == ""


def test_a_deleted_article_can_be_put_back(ingested):
    article = ingested.article("001")
    ingested.delete("001")
    (result,) = ingested.restore(article).results
    assert (result.status, result.file, result.doc_id) == ("added", F001, article.doc_id)
    assert ingested.article("001").text == article.text
    answer = ingested.ask("What did Zakharova say about Crimea?")  # answered from the article put back
    assert not answer.abstained and "Zakharova" in answer.text
    assert answer.citations[0].article.file == F001


def test_retrieval_in_a_running_pipeline_finds_an_article_another_process_added(ingested, settings, embedder,
                                                                                tmp_path):
    running = ingested
    assert not any("quokka" in p.chunk.text for p in running.retriever.retrieve("quokka Manila", 5))

    extra = tmp_path / "zoo.txt"
    extra.write_text("Lavrov said in Manila that the quokka was not discussed.", encoding="utf-8")
    assert Pipeline(settings, embedder=embedder).ingest([extra]).ok
    seen_by_a_running_pipeline(settings)

    # at once on a folder: the query sees that the database file changed and brings its BM25 index up to date
    assert "zoo.txt" in {p.article.file for p in running.retriever.retrieve("quokka Manila", 5)}


def test_a_chunks_node_is_read_from_chroma_once(ingested, monkeypatch):
    store = ingested.store
    ids = chunk_ids(ingested)[:3]
    reads = []
    cls = type(store.vector_store)
    get_nodes = cls.get_nodes
    monkeypatch.setattr(cls, "get_nodes", lambda self, node_ids: reads.append(node_ids) or get_nodes(self, node_ids))
    first = store.chunk_nodes(ids)
    again = store.chunk_nodes(list(reversed(ids)))
    assert [n.node_id for n in first] == ids and [n.node_id for n in again] == list(reversed(ids))
    assert reads == [ids]
    assert store.chunk_nodes(["no-such-chunk"]) == []


def test_new_articles_are_embedded_together_and_each_gets_its_own_vectors(settings, counting, tmp_path):
    # three small articles in one model call; each article's chunks and sentences still get their own vectors
    folder = tmp_path / "news"
    folder.mkdir()
    texts = {"a.txt": "Ann Lee said the budget passed. The vote was 12-3.",
             "b.txt": "Rain fell on Tuesday. The agency said roads were closed.",
             "c.txt": "The club signed a striker. He scored twice on his debut."}
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    pipeline = Pipeline(settings, embedder=counting)
    report = pipeline.ingest([folder])
    assert [r.status for r in report.results] == ["added"] * 3
    assert counting.calls == 1  # one call for all three (and the model's probe)
    for stored in pipeline.store.articles():
        chunk_ids = pipeline.store.chunks.get(where={"doc_id": stored.doc_id}, include=[])["ids"]
        vectors = pipeline.store.sentence_vectors(chunk_ids)
        sentences = [t.strip() + "." for t in texts[stored.file].split(".") if t.strip()]
        alone = counting.inner.embed(sentences)
        in_order = [v for _, v in sorted(vectors.items(), key=lambda kv: kv[0][1])]  # keyed (doc_id, start)
        assert np.abs(np.stack(in_order) - alone).max() < 1e-5


def test_a_library_stored_before_entities_were_found_gets_them_once(seeded, tmp_path):
    from index.store import ENTITIES_VERSION, Store

    data = tmp_path / "old"
    shutil.copytree(seeded.settings.data_dir, data)
    store = Store(Settings(data_dir=data))
    assert store.sentences.metadata["entities"] == ENTITIES_VERSION  # marked at its first write: never scanned
    got = store.sentences.get(include=["metadatas"])
    found = {i: m["ents"] for i, m in zip(got["ids"], got["metadatas"], strict=True)}
    # as an older newsrag left it: no sentence has entities, and the collection says nothing of them
    store.sentences.update(ids=got["ids"], metadatas=[{**m, "ents": None} for m in got["metadatas"]])
    store.sentences.modify(metadata={"entities": "none yet"})
    assert not any("ents" in m for m in store.sentences.get(include=["metadatas"])["metadatas"])

    assert store.annotate_missing() == len(found)
    again = store.sentences.get(include=["metadatas"])
    assert {i: m["ents"] for i, m in zip(again["ids"], again["metadatas"], strict=True)} == found
    assert store.annotate_missing() == 0
