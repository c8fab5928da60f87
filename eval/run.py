"""The eval runner: Q&A JSONL → one row of metrics per question, plus totals and per-type averages.

    items = load_qa(DEFAULT_QA)
    report = evaluate(pipeline_system(pipeline), items, k=5)
    write_report(report, Path("eval/out"))

``system`` is any callable ``(question, history, k) -> rag.types.Answer``: our pipeline, the plain
llama-index baseline (``eval.baseline``) or a fake in a test.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval import metrics as m
from eval.report import write_report
from rag.errors import NewsragError
from rag.types import Answer

__all__ = ["DEFAULT_QA", "TYPES", "EvalReport", "Evidence", "QAItem", "System", "evaluate", "load_qa",
           "pipeline_system", "score_item", "write_report"]

#: The project's first question set, over the seeds (``eval/sets/seeds/``).
DEFAULT_QA = Path(__file__).resolve().parent / "sets" / "seeds" / "qa.jsonl"

#: Question types, in the order reports show them.
TYPES = ("factoid", "numeric", "quote", "list", "temporal", "multi-doc", "follow-up", "unanswerable")

System = Callable[[str, list[str], int], Answer]


def pipeline_system(pipeline: Any, backend: str | None = None) -> System:
    """The pipeline as a ``System`` that answers a follow-up as the chat does: with the answer to the
    conversation's previous question at hand (the user read it a turn ago; the chat keeps it). That answer
    is made before the follow-up is asked, so a follow-up's latency is its own turn's, not two turns'."""
    def system(question: str, history: list[str], k: int) -> Answer:
        previous = pipeline.previous_answer(history, k, backend) if history else None
        return pipeline.ask(question, history=history, k=k, backend=backend, previous=previous)

    return system


@dataclass(frozen=True)
class Evidence:
    """Verbatim text that must be retrieved and cited; ``doc`` is the article file name's prefix."""

    doc: str
    text: str


@dataclass(frozen=True)
class QAItem:
    id: str
    type: str
    question: str
    answers: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    history: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


@dataclass
class EvalReport:
    """What one system scored: ``rows`` (one per question), ``totals`` and ``by_type`` averages."""

    system: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)
    by_type: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "totals": self.totals, "by_type": self.by_type, "rows": self.rows}


# -- loading ---------------------------------------------------------------------------------------


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'"{key}" must be a list of strings')
    return tuple(value)


def parse_item(obj: Any) -> QAItem:
    """One decoded JSON line → ``QAItem``; ``ValueError`` saying what is wrong with it."""
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    unknown = set(obj) - {"id", "type", "question", "answers", "evidence", "history"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    for key in ("id", "type", "question"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise ValueError(f'"{key}" must be a non-empty string')
    if obj["type"] not in TYPES:
        raise ValueError(f'unknown type {obj["type"]!r} (valid: {", ".join(TYPES)})')
    evidence = obj.get("evidence", [])
    if not isinstance(evidence, list) or not all(
        isinstance(e, dict) and isinstance(e.get("doc"), str) and isinstance(e.get("text"), str) and e["text"].strip()
        for e in evidence
    ):
        raise ValueError('"evidence" must be a list of {"doc": ..., "text": ...} objects with non-empty text')
    item = QAItem(
        id=obj["id"], type=obj["type"], question=obj["question"],
        answers=_strings(obj.get("answers", []), "answers"),
        evidence=tuple(Evidence(e["doc"], e["text"]) for e in evidence),
        history=_strings(obj.get("history", []), "history"),
    )
    if item.answerable and not item.answers:
        raise ValueError(f'a {item.type} question needs "answers" (only unanswerable ones have none)')
    if not item.answerable and (item.answers or item.evidence):
        raise ValueError('an unanswerable question has empty "answers" and "evidence"')
    return item


def load_qa(path: Path) -> list[QAItem]:
    """Read a Q&A JSONL file (blank lines allowed); a malformed line is a ``NewsragError`` naming it."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise NewsragError(f"Cannot read the question file {path}: {exc}") from None
    items: list[QAItem] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = parse_item(json.loads(line))
        except (json.JSONDecodeError, ValueError) as exc:
            raise NewsragError(f"{path}, line {n}: {exc} (see the eval file format in DESIGN.md)") from None
        if item.id in seen:
            raise NewsragError(f"{path}, line {n}: id {item.id!r} is already used on line {seen[item.id]}")
        seen[item.id] = n
        items.append(item)
    if not items:
        raise NewsragError(f"{path} holds no questions")
    return items


# -- scoring ---------------------------------------------------------------------------------------


def latency_of(answer: Answer, wall_ms: float) -> float:
    """The pipeline's own total time when it reports one, else the wall-clock time measured around it."""
    total = answer.trace.get("timings_ms", {}).get("total")
    return float(total) if isinstance(total, int | float) else wall_ms


def score_item(item: QAItem, answer: Answer, k: int, latency_ms: float) -> dict[str, Any]:
    """One report row. Retrieval, answer and citation metrics are ``None`` for unanswerable questions."""
    evidence = [e.text for e in item.evidence]
    passages = [p.chunk.text for p in answer.passages]
    quotes = [c.quote for c in answer.citations]
    row: dict[str, Any] = {
        "id": item.id, "type": item.type, "question": item.question, "history": list(item.history),
        "query": answer.query, "answer": answer.text, "abstained": answer.abstained,
        "answerable": item.answerable,
        "correct": None, "recall": None, "recall_share": None, "mrr": None,
        "citation_precision": None, "citation_recall": None,
        "cited_chars": m.cited_chars(quotes), "latency_ms": round(latency_ms, 2),
        "citations": [c.to_dict() for c in answer.citations],
    }
    if item.answerable:
        row.update(
            correct=m.answer_correct(answer.text, item.answers),
            recall=m.recall_at_k(evidence, passages, k),
            recall_share=m.evidence_share(evidence, passages, k),
            mrr=m.reciprocal_rank(evidence, passages[:k]),
            citation_precision=m.citation_precision(quotes, evidence, item.answers),
            citation_recall=m.citation_recall(quotes, evidence),
        )
    row["ok"] = (row["correct"] and not answer.abstained) if item.answerable else answer.abstained
    row.update(generation(answer))
    return row


def generation(answer: Answer) -> dict[str, Any]:
    """What the verifier did to a generative backend's answer: sentences written, kept and dropped, whether the
    extractive answer stood in (and why), and the time to the first token. Empty for the extractive backend."""
    if not (answer.generated or answer.fallback):
        return {}
    return {  # after a fallback, ``sentences`` are the LLM's own, all dropped (none when it failed to answer)
        "sentences_generated": len(answer.sentences),
        "sentences_kept": sum(s.kept for s in answer.sentences),
        "sentences_dropped": sum(not s.kept for s in answer.sentences),
        "fallback": answer.fallback,
        "first_token_ms": answer.trace.get("timings_ms", {}).get("first_token"),
    }


def _averages(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    answerable = [r for r in rows if r["answerable"]]

    def avg(key: str) -> float:
        return round(m.mean([float(r[key]) for r in answerable]), 4)

    return {
        "questions": float(len(rows)),
        "answerable": float(len(answerable)),
        "answer_correct": avg("correct"),
        "recall_at_k": avg("recall"),
        "recall_share": avg("recall_share"),
        "mrr": avg("mrr"),
        "citation_precision": avg("citation_precision"),
        "citation_recall": avg("citation_recall"),
        "cited_chars": round(m.mean([float(r["cited_chars"]) for r in answerable]), 1),
        "abstain_rate": round(m.mean([float(r["abstained"]) for r in rows]), 4),
    }


_TYPE_KEYS = ("questions", "answer_correct", "recall_at_k", "mrr", "citation_precision", "citation_recall",
              "abstain_rate")
_UNANSWERABLE_KEYS = ("questions", "abstain_rate")


def summarise(rows: Sequence[dict[str, Any]]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Totals over all rows and the same averages per question type (types in ``TYPES`` order).

    Per type, ``abstain_rate`` is the share of questions abstained on: 1.0 is right for unanswerable
    questions, 0.0 for the others; answer metrics are absent for the unanswerable type.
    """
    totals = _averages(rows)
    totals.update(m.abstention_scores([r["abstained"] for r in rows], [not r["answerable"] for r in rows]))
    latencies = [r["latency_ms"] for r in rows]
    totals["latency_median_ms"] = round(m.percentile(latencies, 50), 1)
    totals["latency_p95_ms"] = round(m.percentile(latencies, 95), 1)
    generated = [r for r in rows if "sentences_generated" in r]
    if generated:  # a generative backend: what its verifier kept and dropped, and when the extractive answer stood in
        for key in ("sentences_generated", "sentences_kept", "sentences_dropped"):
            totals[key] = float(sum(r[key] for r in generated))
        totals["fallbacks"] = float(sum(r["fallback"] is not None for r in generated))
        firsts = [r["first_token_ms"] for r in generated if r["first_token_ms"] is not None]
        if firsts:
            totals["first_token_median_ms"] = round(m.percentile(firsts, 50), 1)
            totals["first_token_p95_ms"] = round(m.percentile(firsts, 95), 1)
    by_type: dict[str, dict[str, float]] = {}
    order = list(TYPES) + sorted({r["type"] for r in rows} - set(TYPES))
    for t in order:
        group = [r for r in rows if r["type"] == t]
        if not group:
            continue
        avgs = _averages(group)
        keep = _UNANSWERABLE_KEYS if t == "unanswerable" else _TYPE_KEYS
        by_type[t] = {key: avgs[key] for key in keep}
    return totals, by_type


def evaluate(system: System, items: Sequence[QAItem], k: int = 5,
             progress: Callable[[int, int], None] | None = None, name: str = "newsrag") -> EvalReport:
    """Ask ``system`` every question (with its history) and score the answers."""
    rows = []
    for i, item in enumerate(items):
        if progress:
            progress(i, len(items))
        t0 = time.perf_counter()
        answer = system(item.question, list(item.history), k)
        wall_ms = (time.perf_counter() - t0) * 1e3
        rows.append(score_item(item, answer, k, latency_of(answer, wall_ms)))
    if progress:
        progress(len(items), len(items))
    totals, by_type = summarise(rows)
    return EvalReport(system=name, rows=rows, totals=totals, by_type=by_type)
