"""The eval corpora: what each is made of, who wrote its questions, and that its evidence is stored text."""

from __future__ import annotations

import pytest

from eval import metrics as m
from eval.corpus import DEFAULT_DATA_ROOT, Corpus, corpus_names, load_corpus, materialise, missing_data
from eval.run import TYPES
from rag.errors import NotFoundError

CORPORA = {name: load_corpus(name) for name in corpus_names()}
DATA = [c for c in CORPORA.values() if c.articles is not None]
needs_data = pytest.mark.skipif(not DEFAULT_DATA_ROOT.is_dir(), reason=f"{DEFAULT_DATA_ROOT} is not on this machine")


def test_there_are_the_seeds_four_dev_corpora_and_one_test_corpus_in_that_order():
    roles = [c.role for c in CORPORA.values()]
    assert roles[0] == "regression" and roles[-1] == "test"
    assert roles.count("dev") >= 4 and roles.count("test") == 1
    assert list(CORPORA)[0] == "seeds"


@pytest.mark.parametrize("corpus", DATA, ids=lambda c: c.name)
def test_a_data_corpus_has_twelve_articles_sixty_questions_and_every_type(corpus: Corpus):
    assert len(corpus.articles) >= 12
    assert len({a.doc for a in corpus.articles}) == len(corpus.articles)
    items = corpus.items()
    assert len(items) >= 60
    assert {i.type for i in items} == set(TYPES)
    assert len({i.id for i in items}) == len(items)


@pytest.mark.parametrize("corpus", DATA, ids=lambda c: c.name)
def test_its_sets_say_who_wrote_them_as_whom_and_whether_anything_was_fitted_on_them(corpus: Corpus):
    for qs in corpus.sets:
        assert qs.persona and qs.author and qs.written
        assert "blind" in qs.author
        assert qs.fitting is (corpus.role == "dev")


def test_a_validation_corpus_is_never_fitted_on():
    from eval.train import main as train

    validation = [name for name, c in CORPORA.items() if c.role == "validation"]
    assert validation and list(CORPORA).index(validation[0]) < list(CORPORA).index("mixed")  # the test one stays last
    with pytest.raises(SystemExit):
        train(["--corpora", validation[0], "--out", "/nonexistent/model.json"])


def test_the_seed_sets_are_a_regression_suite_every_one_of_which_was_fitted_on():
    seeds = CORPORA["seeds"]
    assert seeds.articles is None and len(seeds.sets) == 113
    assert all(s.fitting for s in seeds.sets)
    assert seeds.sets[0].file == "qa.jsonl"


def test_a_corpus_with_several_sets_prefixes_ids_with_the_set_it_comes_from():
    items = CORPORA["seeds"].items(("qa", "007"))
    assert {i.id.split("/")[0] for i in items} == {"qa", "007"}
    with pytest.raises(NotFoundError, match="no set"):
        CORPORA["seeds"].items(("999",))


def test_an_unknown_corpus_is_an_error_naming_the_corpora():
    with pytest.raises(NotFoundError, match="politics25"):
        load_corpus("politcs25")


def test_a_corpus_whose_data_is_absent_says_so_in_one_line(tmp_path):
    message = missing_data(CORPORA["politics25"], tmp_path)
    assert message and "missing" in message and "\n" not in message


@needs_data
@pytest.mark.parametrize("corpus", DATA, ids=lambda c: c.name)
def test_every_evidence_string_is_verbatim_text_of_the_article_as_newsrag_prepares_it(corpus: Corpus, tmp_path):
    """Load → clean → describe, as ingestion does, without the model: the evidence must survive cleaning (and,
    for a web page, main-text extraction), since it has to be retrieved and cited from the stored text."""
    from index.ingest import prepare
    from index.load import load_file

    folder = materialise(corpus, DEFAULT_DATA_ROOT, tmp_path / corpus.name)
    texts = {p.stem: m.normalise(prepare(load_file(p, 10_000_000)).text) for p in folder.iterdir()}
    assert set(texts) == {a.doc for a in corpus.articles}
    missing = [(item.id, ev.doc, ev.text[:60]) for item in corpus.items() for ev in item.evidence
               if m.normalise(ev.text) not in texts[ev.doc]]
    assert not missing


@needs_data
def test_materialising_twice_rewrites_nothing(tmp_path):
    corpus = CORPORA["bbc05"]
    folder = materialise(corpus, DEFAULT_DATA_ROOT, tmp_path / "c")
    times = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    (folder / "stale.txt").write_text("not part of the corpus")
    materialise(corpus, DEFAULT_DATA_ROOT, folder)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == times


def _scored(qid: str, kind: str, correct: bool, answerable: bool = True) -> dict:
    return {"id": qid, "type": kind, "answerable": answerable, "correct": correct, "recall": 1.0, "recall_share": 1.0,
            "mrr": 1.0, "citation_precision": 1.0, "citation_recall": 1.0, "cited_chars": 120,
            "abstained": not answerable, "latency_ms": 5.0}


def test_the_corpus_row_reports_follow_ups_apart_and_names_the_targets_it_misses():
    from eval.corpus import load_corpus
    from eval.report import corpora_markdown
    from eval.run import EvalReport, summarise
    from eval.suite import CorpusRun, summary_row
    from index.ingest import IngestReport

    rows = [_scored("a", "factoid", True), _scored("b", "factoid", True), _scored("c", "follow-up", True),
            _scored("d", "follow-up", False), _scored("e", "unanswerable", False, answerable=False)]
    report = EvalReport("newsrag", rows, *summarise(rows))
    row = summary_row(CorpusRun(load_corpus("bbc05"), [], IngestReport(), report))
    assert (row["follow_up_correct"], row["follow_ups"]) == (0.5, 2)
    assert row["answer_correct"] == 0.75 and "answer_correct" in row["missed"]
    assert "0.50 of 2" in corpora_markdown([row])
