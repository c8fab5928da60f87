"""The runner on the real pipeline and seeds: rows, totals, the report files, the CLI and the baseline."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from eval.baseline import LlamaIndexDefault, make_baseline
from eval.run import DEFAULT_QA, EvalReport, evaluate, load_qa, pipeline_system, score_item, write_report
from rag.errors import NotFoundError
from rag.types import Answer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMALL = ("q02", "q03", "q09", "q05")  # numeric, follow-up, multi-doc, unanswerable
SHARES = ("correct", "recall", "recall_share", "mrr", "citation_precision", "citation_recall")


@pytest.fixture(scope="module")
def small_items():
    by_id = {item.id: item for item in load_qa(DEFAULT_QA)}
    return [by_id[i] for i in SMALL]


@pytest.fixture(scope="module")
def report(seeded, small_items) -> EvalReport:
    calls = []
    result = evaluate(pipeline_system(seeded), small_items, k=5,
                      progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 4) and calls[-1] == (4, 4)
    return result


def test_one_row_per_question_with_metrics_in_range(report):
    assert [r["id"] for r in report.rows] == list(SMALL)
    for row in report.rows:
        for key in ("id", "type", "question", "answer", "abstained", "correct", "recall", "mrr",
                    "citation_precision", "citation_recall", "cited_chars", "latency_ms", "citations"):
            assert key in row
        if row["answerable"]:
            assert all(0.0 <= float(row[key]) <= 1.0 for key in SHARES), row
        else:
            assert all(row[key] is None for key in SHARES), row  # unanswerable: excluded
        assert row["latency_ms"] > 0


def test_totals_and_by_type(report):
    t = report.totals
    for key in ("answer_correct", "recall_at_k", "recall_share", "mrr", "citation_precision", "citation_recall",
                "abstain_precision", "abstain_recall"):
        assert 0.0 <= t[key] <= 1.0, key
    assert t["questions"] == 4 and t["answerable"] == 3
    assert t["latency_p95_ms"] >= t["latency_median_ms"] > 0
    assert t["false_abstentions"] >= 0 and t["cited_chars"] >= 0
    assert list(report.by_type) == ["numeric", "multi-doc", "follow-up", "unanswerable"]
    assert set(report.by_type["unanswerable"]) == {"questions", "abstain_rate"}
    assert 0.0 <= report.by_type["multi-doc"]["recall_at_k"] <= 1.0


def test_the_easy_numeric_question_is_retrieved(report):
    # "The bill was approved overwhelmingly by the Senators 98-2": one sentence, the top passages hold it
    row = report.rows[0]
    assert row["recall"] == 1.0 and row["mrr"] > 0


def test_a_follow_up_is_asked_as_the_chat_asks_it_with_the_previous_answer_at_hand(seeded, monkeypatch):
    asked = []
    ask = seeded.ask
    monkeypatch.setattr(seeded, "ask", lambda q, *a, **kw: asked.append((q, kw.get("previous"))) or ask(q, *a, **kw))
    answer = pipeline_system(seeded)("And how did the House vote on it?", ["How did the Senate vote on the bill?"], 5)
    (first, _), (last, previous) = asked[0], asked[-1]
    assert first == "How did the Senate vote on the bill?"  # answered before the follow-up is asked
    assert last == "And how did the House vote on it?" and previous is not None
    assert "98-2" in previous.text
    assert len(asked) == 2  # the follow-up did not ask the previous question again
    assert answer.trace["rewritten"] and "419" in answer.text
    assert answer.trace["timings_ms"]["total"] > 0  # the row's latency: this turn's own


def test_score_item_of_a_hand_made_answer(small_items):
    item = small_items[0]  # q02: answers ["98-2"]
    answer = Answer(text="The Senate voted 98-2.", citations=[], abstained=False, query=item.question,
                    trace={"timings_ms": {"total": 12.5}})
    row = score_item(item, answer, k=5, latency_ms=12.5)
    assert row["correct"] is True and row["ok"] is True
    assert row["recall"] == 0.0 and row["mrr"] == 0.0  # nothing retrieved
    assert row["citation_precision"] == 0.0 and row["citation_recall"] == 0.0 and row["cited_chars"] == 0


def test_write_report_writes_json_markdown_and_a_png(report, tmp_path):
    paths = write_report(report, tmp_path / "out", baseline=report)
    assert set(paths) == {"json", "md", "png"}
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert len(data["rows"]) == 4 and "totals" in data and "by_type" in data and "baseline" in data
    md = paths["md"].read_text(encoding="utf-8")
    assert "## Totals" in md and "q09" in md
    png = paths["png"].read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 10_000


def test_cli_writes_report_json_and_compares_with_the_baseline(tmp_path):
    from rag.cli import cli

    qa = tmp_path / "qa.jsonl"
    lines = DEFAULT_QA.read_text(encoding="utf-8").splitlines()
    qa.write_text("\n".join(line for line in lines if json.loads(line)["id"] in SMALL) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path / "store"), "eval", "--qa", str(qa), "--out", str(out),
              "--compare", "llamaindex-default", "--distractors", str(tmp_path / "no-such-folder")],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "eval totals" in result.output and "llamaindex-default" in result.output
    assert "skipping the distractor run" in result.output
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in data["rows"]] == sorted(SMALL)  # the order of the file
    assert data["baseline"]["system"] == "llamaindex-default" and len(data["baseline"]["rows"]) == 4
    assert (out / "chart.png").read_bytes().startswith(PNG_MAGIC)


def test_cli_rejects_a_bad_question_file_and_an_unknown_comparison(tmp_path, monkeypatch):
    from rag.cli import cli

    monkeypatch.delenv("NEWSRAG_RAISE", raising=False)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"\n', encoding="utf-8")
    store = ["--data-dir", str(tmp_path / "store")]
    result = CliRunner().invoke(cli, [*store, "eval", "--qa", str(bad)])
    assert result.exit_code == 1 and "line 1" in result.output
    result = CliRunner().invoke(cli, [*store, "eval", "--compare", "gpt-9"])
    assert result.exit_code == 1 and "valid: llamaindex-default" in result.output


def test_baseline_answers_with_two_whole_chunk_citations(pipeline):
    baseline = make_baseline("llamaindex-default", pipeline)
    answer = baseline("How did the Senate vote on the sanctions bill?", [], 5)
    assert baseline.rebuilt and not answer.abstained
    assert len(answer.citations) == 2 and len(answer.passages) == 2
    for citation, passage in zip(answer.citations, answer.passages, strict=True):
        assert citation.quote == passage.chunk.text  # the whole chunk is the citation
        assert citation.end - citation.start == len(citation.quote)
        assert citation.article.file.endswith(".txt")
    assert answer.text == "\n\n".join(p.chunk.text for p in answer.passages)
    assert "98-2" in answer.text
    again = LlamaIndexDefault(pipeline)  # same documents: the stored collection is reused, not re-embedded
    again("Who is Maria Zakharova?", [], 5)
    assert not again.rebuilt


def test_unknown_baseline_lists_the_valid_names(pipeline):
    with pytest.raises(NotFoundError, match="valid: llamaindex-default"):
        make_baseline("llamaindex-fancy", pipeline)


def test_the_baselines_figures_do_not_depend_on_where_the_project_is_cloned(tmp_path):
    from llama_index.core import Document

    from eval.baseline import fingerprint, portable

    def docs(root: str) -> list:
        return portable([Document(text="Lavrov met Tillerson.", id_="000",
                                  metadata={"file_path": f"{root}/seeds/000.txt", "file_name": "000.txt"})])

    here, there = docs("/work/main"), docs(str(tmp_path))
    assert here[0].get_content(metadata_mode="embed") == there[0].get_content(metadata_mode="embed")
    assert fingerprint(here) == fingerprint(there)
