"""Rendering an ``EvalReport``: report.json, report.md, chart.png and the terminal tables.

matplotlib is used through ``Figure`` and the Agg canvas only: no pyplot, no global backend state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eval.run import EvalReport

#: The totals shown in tables, with their labels, in order.
TOTALS = (
    ("questions", "questions"),
    ("answer_correct", "answer correct"),
    ("recall_at_k", "evidence recall@k"),
    ("recall_share", "evidence share@k"),
    ("mrr", "MRR"),
    ("citation_precision", "citation precision"),
    ("citation_recall", "citation recall"),
    ("cited_chars", "cited chars / answer"),
    ("abstain_precision", "abstain precision"),
    ("abstain_recall", "abstain recall"),
    ("false_abstentions", "false abstentions"),
    ("latency_median_ms", "latency median ms"),
    ("latency_p95_ms", "latency p95 ms"),
)
#: Rows shown only for a generative backend (``newsrag eval --backend openai|ollama|llamacpp``).
GENERATION_TOTALS = (
    ("first_token_median_ms", "first token median ms"),
    ("first_token_p95_ms", "first token p95 ms"),
    ("sentences_generated", "sentences generated"),
    ("sentences_kept", "sentences kept"),
    ("sentences_dropped", "sentences dropped"),
    ("fallbacks", "fallbacks to extractive"),
)

#: Per-type columns, with their labels.
BY_TYPE = (
    ("questions", "n"),
    ("answer_correct", "correct"),
    ("recall_at_k", "recall@k"),
    ("citation_precision", "cit. P"),
    ("citation_recall", "cit. R"),
    ("abstain_rate", "abstained"),
)

#: The metrics of the chart: one panel each, question types on the x axis, one bar per system.
CHART = (
    ("answer_correct", "answer correctness"),
    ("recall_at_k", "evidence recall@k"),
    ("citation_precision", "citation precision"),
    ("abstain_rate", "abstained\n(right: unanswerable only)"),
)


def totals_rows(reports: Sequence[EvalReport]) -> tuple[tuple[str, str], ...]:
    """The totals to show: every metric, and the generation counts when some report has them."""
    return TOTALS + tuple((k, label) for k, label in GENERATION_TOTALS if any(k in r.totals for r in reports))


def fmt(value: Any) -> str:
    """How a number is shown: counts as integers, shares with two decimals, missing as a dash.

    >>> fmt(3.0), fmt(0.8333), fmt(None), fmt(12.34)
    ('3', '0.83', '–', '12.3')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}" if abs(value) <= 1 else f"{value:.1f}"


# -- JSON and Markdown -----------------------------------------------------------------------------


def to_json(report: EvalReport, baseline: EvalReport | None = None) -> dict[str, Any]:
    data = report.to_dict()
    if baseline is not None:
        data["baseline"] = baseline.to_dict()
    return data


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(r) for r in rows)]


def to_markdown(report: EvalReport, baseline: EvalReport | None = None) -> str:
    reports = [report] + ([baseline] if baseline else [])
    out = [f"# newsrag eval: {' vs '.join(r.system for r in reports)}", "", "## Totals", ""]
    out += _md_table(["metric", *(r.system for r in reports)],
                     [[label, *(fmt(r.totals.get(key)) for r in reports)] for key, label in totals_rows(reports)])
    out += ["", "Retrieval, answer and citation metrics are averaged over the answerable questions; "
            "abstention over all of them.", ""]
    for r in reports:
        out += [f"## By question type: {r.system}", ""]
        out += _md_table(["type", *(label for _, label in BY_TYPE)],
                         [[t, *(fmt(v.get(key)) for key, _ in BY_TYPE)] for t, v in r.by_type.items()])
        out.append("")
    for r in reports:
        out += [f"## Questions: {r.system}", ""]
        out += _md_table(
            ["id", "type", "ok", "correct", "recall", "MRR", "cit. P", "cit. R", "ms", "question", "answer"],
            [[row["id"], row["type"], "✓" if row["ok"] else "✗", fmt(row["correct"]), fmt(row["recall"]),
              fmt(row["mrr"]), fmt(row["citation_precision"]), fmt(row["citation_recall"]), fmt(row["latency_ms"]),
              row["question"], _short(row["answer"])] for row in r.rows],
        )
        failed = [row["id"] for row in r.rows if not row["ok"]]
        out += ["", f"Not ok: {', '.join(failed) if failed else 'none'}", ""]
        out += _verifier_md(r)
    return "\n".join(out)


def _verifier_md(r: EvalReport) -> list[str]:
    """For a generative backend: per question, the sentences the LLM wrote, kept and dropped, and the fallback."""
    rows = [row for row in r.rows if "sentences_generated" in row]
    if not rows:
        return []
    return [f"## Verifier: {r.system}", "", *_md_table(
        ["id", "generated", "kept", "dropped", "first token ms", "ms", "extractive instead because"],
        [[row["id"], str(row["sentences_generated"]), str(row["sentences_kept"]), str(row["sentences_dropped"]),
          fmt(row["first_token_ms"]), fmt(row["latency_ms"]), row["fallback"] or ""] for row in rows]), ""]


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- chart -----------------------------------------------------------------------------------------


def write_chart(reports: Sequence[EvalReport], path: Path) -> Path:
    """Grouped bars: one panel per metric, question types on the x axis, one bar per system."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    types = list(dict.fromkeys(t for r in reports for t in r.by_type))
    fig = Figure(figsize=(12, 2.6 * len(CHART)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(CHART), 1, sharex=True)
    width = 0.8 / len(reports)
    colours = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
    for ax, (key, label) in zip(axes, CHART, strict=True):
        for i, r in enumerate(reports):
            values = [r.by_type.get(t, {}).get(key, math.nan) for t in types]
            xs = [j + (i - (len(reports) - 1) / 2) * width for j in range(len(types))]
            bars = ax.bar(xs, values, width, label=r.system, color=colours[i % len(colours)])
            ax.bar_label(bars, labels=["" if math.isnan(v) else f"{v:.2f}" for v in values], fontsize=7, padding=1)
        ax.set_ylim(0, 1.15)
        ax.set_ylabel(label, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", fontsize=8, ncols=len(reports))
    axes[0].set_title("newsrag eval by question type" + ("" if len(reports) == 1 else
                                                         ": " + " vs ".join(r.system for r in reports)))
    axes[-1].set_xticks(range(len(types)), [f"{t}\n(n={int(reports[0].by_type.get(t, {}).get('questions', 0))})"
                                            for t in types])
    fig.savefig(path, dpi=110)
    return path


# -- files -----------------------------------------------------------------------------------------


def write_report(report: EvalReport, out_dir: Path, baseline: EvalReport | None = None) -> dict[str, Path]:
    """Write report.json, report.md and chart.png into ``out_dir``; returns their paths by kind."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "png": out_dir / "chart.png"}
    paths["json"].write_text(json.dumps(to_json(report, baseline), ensure_ascii=False, indent=2), encoding="utf-8")
    paths["md"].write_text(to_markdown(report, baseline), encoding="utf-8")
    write_chart([report] + ([baseline] if baseline else []), paths["png"])
    return paths


# -- terminal --------------------------------------------------------------------------------------


def totals_table(reports: Sequence[EvalReport]) -> Any:
    """A rich table: one row per metric, one column per system."""
    from rich.table import Table

    table = Table("metric", *(r.system for r in reports), title="eval totals")
    for key, label in totals_rows(reports):
        table.add_row(label, *(fmt(r.totals.get(key)) for r in reports))
    return table


def by_type_table(reports: Sequence[EvalReport]) -> Any:
    """A rich table: one row per question type and system."""
    from rich.table import Table

    table = Table("type", "system", *(label for _, label in BY_TYPE), title="by question type")
    types = list(dict.fromkeys(t for r in reports for t in r.by_type))
    for t in types:
        for r in reports:
            values = r.by_type.get(t, {})
            table.add_row(t, r.system, *(fmt(values.get(key)) for key, _ in BY_TYPE))
        if len(reports) > 1:
            table.add_section()
    return table


# -- one row per corpus ------------------------------------------------------------------------------

#: The columns of the per-corpus table, with their labels.
CORPUS_COLUMNS = (
    ("corpus", "corpus"),
    ("questions", "questions"),
    ("answer_correct", "answer correct"),
    ("baseline_answer_correct", "baseline correct"),
    ("follow_up_correct", "follow-ups correct"),
    ("recall_at_k", "evidence in top k"),
    ("citation_precision", "citation precision"),
    ("citation_recall", "evidence cited"),
    ("abstain_recall", "unanswerable abstained"),
    ("false_abstentions", "false abstentions"),
    ("cited_chars", "cited chars"),
    ("latency_median_ms", "median ms"),
    ("missed", "targets missed"),
)


def _corpus_cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if key == "questions":
        return f"{row['answerable']} + {row['unanswerable']} unans."
    if key == "false_abstentions":
        return f"{value} ({row['false_abstention_share'] * 100:.0f}%)"
    if key == "missed":
        return ", ".join(value) if value else "none"
    if key == "follow_up_correct":
        return f"{fmt(value)} of {row['follow_ups']}" if row.get("follow_ups") else "–"
    return fmt(value) if not isinstance(value, str) else value


def corpora_table(rows: Sequence[dict[str, Any]]) -> Any:
    """A rich table: one row per corpus, newsrag's figures with the baseline's answer correctness beside them."""
    from rich.table import Table

    table = Table(*(label for _, label in CORPUS_COLUMNS), title="eval by corpus (newsrag; baseline = llama-index)")
    for row in rows:
        table.add_row(*(_corpus_cell(row, key) for key, _ in CORPUS_COLUMNS))
    return table


def corpora_markdown(rows: Sequence[dict[str, Any]]) -> str:
    return "\n".join(_md_table([label for _, label in CORPUS_COLUMNS],
                               [[_corpus_cell(row, key) for key, _ in CORPUS_COLUMNS] for row in rows]))


def write_corpora_chart(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Grouped bars per corpus: newsrag's answer correctness, citation precision and evidence cited, and the
    baseline's answer correctness, against the 0.8 target line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    series = (("answer_correct", "answer correct", "#1f77b4"),
              ("baseline_answer_correct", "baseline answer correct", "#ff7f0e"),
              ("citation_precision", "citation precision", "#2ca02c"),
              ("citation_recall", "evidence cited", "#9467bd"),
              ("abstain_recall", "unanswerable abstained", "#8c564b"))
    fig = Figure(figsize=(max(8.0, 1.6 * len(rows) + 2), 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    width = 0.8 / len(series)
    for i, (key, label, colour) in enumerate(series):
        values = [float(r[key]) if r.get(key) is not None else math.nan for r in rows]
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(rows))]
        bars = ax.bar(xs, values, width, label=label, color=colour)
        ax.bar_label(bars, labels=["" if math.isnan(v) else f"{v:.2f}" for v in values], fontsize=6, padding=1)
    ax.axhline(0.8, color="grey", linestyle="--", linewidth=0.8)
    ax.set_ylim(0, 1.12)
    ax.set_xticks(range(len(rows)), [f"{r['corpus']}\n({r['questions']} q)" for r in rows], fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncols=len(series), loc="upper center", bbox_to_anchor=(0.5, -0.14))
    ax.set_title("newsrag by corpus (dashed: the 0.8 target)")
    fig.savefig(path, dpi=110)
    return path


def write_corpora_summary(rows: Sequence[dict[str, Any]], out_dir: Path) -> dict[str, Path]:
    """summary.json, summary.md and corpora.png in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "summary.json", "md": out_dir / "summary.md", "png": out_dir / "corpora.png"}
    paths["json"].write_text(json.dumps(list(rows), ensure_ascii=False, indent=2), encoding="utf-8")
    paths["md"].write_text("# newsrag eval by corpus\n\n" + corpora_markdown(rows) + "\n", encoding="utf-8")
    write_corpora_chart(rows, paths["png"])
    return paths
