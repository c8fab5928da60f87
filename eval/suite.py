"""Every eval corpus, each in a store of its own beside the seeds, with the plain llama-index baseline beside it.

    result = run_corpus(pipeline, load_corpus("sport25"), data_root, k=5, compare="llamaindex-default")
    rows = [summary_row(result)]                      # one row per corpus: what ``newsrag eval --corpus`` prints

A corpus's store lives in ``<data dir>/corpora/<name>/`` (its articles are written to ``articles/`` there, so an
unchanged corpus is neither re-written nor re-embedded on the next run). The seeds are ingested into every
corpus's store, as a user's library starts with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.corpus import Corpus
from eval.run import EvalReport, QAItem
from index.ingest import IngestReport
from rag.config import Settings
from rag.pipeline import SEEDS_DIR, Pipeline

#: The targets a corpus row is checked against (issue: answers that hold on any news corpus).
TARGETS = {"answer_correct": 0.80, "citation_precision": 0.80, "citation_recall": 0.80, "abstain_recall": 0.70,
           "false_abstention_share": 0.05}


@dataclass
class CorpusRun:
    corpus: Corpus
    items: list[QAItem]
    ingest: IngestReport
    newsrag: EvalReport
    baseline: EvalReport | None = None


def corpus_settings(settings: Settings, name: str) -> Settings:
    """The main settings with the store moved to ``<data_dir>/corpora/<name>`` (and, on a Chroma server, a
    collection of its own)."""
    update: dict[str, object] = {"data_dir": settings.data_dir / "corpora" / name}
    if settings.chroma_url:
        update["collection"] = f"{settings.collection}-{name}"
    return Settings(**{**settings.model_dump(), **update})


def corpus_pipeline(main: Pipeline, corpus: Corpus, data_root: Path) -> tuple[Pipeline, list[Path], IngestReport]:
    """The corpus's own pipeline (sharing ``main``'s loaded model), with the seeds and its articles ingested."""
    from eval.corpus import materialise

    settings = corpus_settings(main.settings, corpus.name)
    pipeline = Pipeline(settings, embedder=main.embedder)
    inputs = [SEEDS_DIR]
    if corpus.articles is not None:
        inputs.append(materialise(corpus, data_root, settings.data_dir / "articles"))
    return pipeline, inputs, pipeline.ingest(inputs)


def run_corpus(main: Pipeline, corpus: Corpus, data_root: Path, k: int = 5, backend: str | None = None,
               compare: str | None = None, sets: tuple[str, ...] = (),
               run: Callable[[Any, list[QAItem], int, str], EvalReport] | None = None) -> CorpusRun:
    """Ask every question of ``corpus`` (or of its named ``sets``) of newsrag, and of the baseline ``compare``."""
    from eval.baseline import make_baseline
    from eval.run import evaluate, pipeline_system

    def default_run(system: Any, items: list[QAItem], k: int, name: str) -> EvalReport:
        return evaluate(system, items, k=k, name=name)

    run = run or default_run
    items = corpus.items(sets)
    pipeline, inputs, ingested = corpus_pipeline(main, corpus, data_root)
    pipeline.warm_up(backend)
    newsrag = run(pipeline_system(pipeline, backend), items, k, "newsrag")
    baseline = None
    if compare:
        system = make_baseline(compare, pipeline, inputs)
        from rag.pipeline import WARM_UP_QUESTIONS

        for question in WARM_UP_QUESTIONS:
            system(question, [], k)
        baseline = run(system, items, k, system.name)
    return CorpusRun(corpus, items, ingested, newsrag, baseline)


def summary_rows(result: CorpusRun) -> list[dict[str, Any]]:
    """The table's rows for one corpus run: one, or for the regression corpus asked with several sets (the seeds),
    one for its first set ("seeds:qa") and one for the rest ("seeds:sets"), which the targets name apart."""
    stems = list(dict.fromkeys(row["id"].split("/")[0] for row in result.newsrag.rows if "/" in row["id"]))
    if len(stems) < 2 or result.corpus.role != "regression":
        return [summary_row(result)]
    first = stems[0]
    return [summary_row(result, f"{result.corpus.name}:{first}", lambda i: i.startswith(f"{first}/")),
            summary_row(result, f"{result.corpus.name}:sets", lambda i: not i.startswith(f"{first}/"))]


def _subset(report: EvalReport, keep: Callable[[str], bool]) -> EvalReport:
    from eval.run import summarise

    rows = [row for row in report.rows if keep(row["id"])]
    totals, by_type = summarise(rows)
    return EvalReport(report.system, rows, totals, by_type)


def summary_row(result: CorpusRun, label: str | None = None, keep: Callable[[str], bool] | None = None
                ) -> dict[str, Any]:
    """What the per-corpus table shows of one run (or of the questions whose id ``keep`` keeps): newsrag's
    figures, the baseline's answer correctness, and which targets are missed."""
    newsrag, baseline = result.newsrag, result.baseline
    if keep is not None:
        newsrag = _subset(newsrag, keep)
        baseline = _subset(baseline, keep) if baseline else None
    t = newsrag.totals
    answerable = int(t["answerable"])
    unanswerable = int(t["questions"]) - answerable
    row: dict[str, Any] = {
        "corpus": label or result.corpus.name, "role": result.corpus.role,
        "articles": len(result.corpus.articles) if result.corpus.articles is not None else 3,
        "questions": int(t["questions"]), "answerable": answerable, "unanswerable": unanswerable,
        "answer_correct": t["answer_correct"], "recall_at_k": t["recall_at_k"],
        "citation_precision": t["citation_precision"], "citation_recall": t["citation_recall"],
        "abstain_recall": t["abstain_recall"] if unanswerable else None,
        "false_abstentions": int(t["false_abstentions"]),
        "false_abstention_share": round(t["false_abstentions"] / answerable, 4) if answerable else 0.0,
        "cited_chars": t["cited_chars"], "latency_median_ms": t["latency_median_ms"],
        "baseline_answer_correct": baseline.totals["answer_correct"] if baseline else None,
        # follow-ups ("and what did she say there?") are condensed with the previous question's entities first
        "follow_up_correct": newsrag.by_type.get("follow-up", {}).get("answer_correct"),
        "follow_ups": sum(r["type"] == "follow-up" for r in newsrag.rows),
        "failed_ingest": [r.line() for r in result.ingest.failed],
    }
    row["missed"] = missed_targets(row)
    return row


def missed_targets(row: dict[str, Any]) -> list[str]:
    """The targets a corpus row misses, by name.

    >>> missed_targets({"answer_correct": 0.9, "citation_precision": 0.7, "citation_recall": 0.8,
    ...                 "abstain_recall": None, "false_abstention_share": 0.06, "baseline_answer_correct": 0.95})
    ['citation_precision', 'false_abstention_share', 'ahead_of_baseline']
    """
    missed = []
    for key, target in TARGETS.items():
        value = row.get(key)
        if value is None:
            continue
        if (value > target) if key == "false_abstention_share" else (value < target):
            missed.append(key)
    baseline = row.get("baseline_answer_correct")
    if baseline is not None and row["answer_correct"] <= baseline:
        missed.append("ahead_of_baseline")
    return missed
