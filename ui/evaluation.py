"""The Evaluate tab's words: an ``EvalReport`` as a summary a person reads at a glance, and the questions
that went wrong.

Everything this module reads from a report goes through :func:`figures`, which is the one place that
knows the runner's row keys and totals; the rest speaks of ``Figures``. When the runner changes, only
``figures`` changes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Failed questions listed in the tab; the rest are in the downloadable report.
FAILED_SHOWN = 15


@dataclass(frozen=True)
class Miss:
    """A question the system got wrong, said in words."""

    id: str
    question: str
    given: str
    expected: str
    why: str


@dataclass(frozen=True)
class Figures:
    questions: int
    ok: int
    answerable: int
    correct: int
    evidence_found: float | None  # share of answerable questions whose evidence was retrieved
    citations_on_target: float | None  # share of citations that quote the evidence
    unanswerable: int
    declined_right: int
    declined_wrong: int
    median_ms: float | None
    p95_ms: float | None
    k: int
    misses: tuple[Miss, ...]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(float(value)):
        return None
    return float(value)


def figures(report: Any, items: Sequence[Any] = (), k: int = 5) -> Figures:
    """What the summary says, read from an ``eval.run.EvalReport`` (``rows`` and ``totals``) and the question
    items (for the expected phrases, which rows do not repeat)."""
    rows: list[dict[str, Any]] = list(report.rows)
    totals: dict[str, Any] = dict(report.totals)
    expected = {getattr(i, "id", None): tuple(getattr(i, "answers", ())) for i in items}
    answerable = [r for r in rows if r.get("answerable", True)]
    unanswerable = [r for r in rows if not r.get("answerable", True)]
    misses = []
    for r in rows:
        if r.get("ok"):
            continue
        phrases = expected.get(r.get("id"), ())
        if not r.get("answerable", True):
            why, want = "answered, but the articles don't say", "to decline"
        elif r.get("abstained"):
            why, want = "declined, but the articles answer it", ", ".join(f"“{p}”" for p in phrases)
        else:
            why, want = "wrong answer", ", ".join(f"“{p}”" for p in phrases)
        given = "(declined)" if r.get("abstained") else str(r.get("answer", ""))
        misses.append(Miss(str(r.get("id", "")), str(r.get("question", "")), given, want or "–", why))
    latencies = sorted(float(r["latency_ms"]) for r in rows if _number(r.get("latency_ms")) is not None)
    return Figures(
        questions=len(rows),
        ok=sum(bool(r.get("ok")) for r in rows),
        answerable=len(answerable),
        correct=sum(r.get("correct") is True for r in answerable),
        evidence_found=_number(totals.get("recall_at_k")),
        citations_on_target=_number(totals.get("citation_precision")),
        unanswerable=len(unanswerable),
        declined_right=sum(bool(r.get("abstained")) for r in unanswerable),
        declined_wrong=sum(bool(r.get("abstained")) for r in answerable),
        median_ms=_number(totals.get("latency_median_ms")) or (_percentile(latencies, 50) if latencies else None),
        p95_ms=_number(totals.get("latency_p95_ms")) or (_percentile(latencies, 95) if latencies else None),
        k=k,
        misses=tuple(misses),
    )


def _percentile(values: list[float], q: float) -> float:
    i = min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))
    return values[i]


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole} ({round(100 * part / whole)}%)" if whole else "none"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_html(f: Figures) -> str:
    """The figures in sentences: how many questions went right, then why the others did not."""
    lines = []
    if f.answerable:
        lines.append(f"<li><strong>Answered correctly:</strong> {_share(f.correct, f.answerable)} of the questions "
                     "the articles answer.</li>")
    if f.evidence_found is not None and f.answerable:
        found = round(f.evidence_found * f.answerable)
        lines.append(f"<li><strong>Found the evidence:</strong> for {_share(found, f.answerable)}, the passage "
                     f"that answers was among the {f.k} passages searched.</li>")
    if f.citations_on_target is not None and f.answerable:
        lines.append(f"<li><strong>Citations on target:</strong> {round(100 * f.citations_on_target)}% of the cited "
                     "sentences quote the expected evidence.</li>")
    if f.unanswerable or f.declined_wrong:
        wrong = (f"it also declined {_plural(f.declined_wrong, 'question')} it could have answered"
                 if f.declined_wrong else "and it declined none it could have answered")
        lines.append(f"<li><strong>Declined when it should:</strong> {_share(f.declined_right, f.unanswerable)} "
                     f"of the questions the articles can't answer; {wrong}.</li>")
    if f.median_ms is not None:
        tail = f"; 95% within {f.p95_ms:,.0f} ms" if f.p95_ms is not None else ""
        lines.append(f"<li><strong>Speed:</strong> an answer typically takes {f.median_ms:,.0f} ms{tail}.</li>")
    pct = round(100 * f.ok / f.questions) if f.questions else 0
    return (f'<div class="nr-eval-summary"><div><span class="nr-big">{f.ok} of {f.questions}</span> questions '
            f"handled right ({pct}%): answered correctly, or declined when the articles don't say.</div>"
            f"<ul>{''.join(lines)}</ul></div>")


def failed_html(f: Figures, limit: int = FAILED_SHOWN) -> str:
    """A short table of the questions that went wrong: the question, the answer given, what was expected."""
    if not f.misses:
        return '<div class="nr-eval-summary">No question went wrong.</div>'
    rows = []
    for m in f.misses[:limit]:
        given = m.given if len(m.given) <= 220 else m.given[:219].rsplit(" ", 1)[0] + "…"
        rows.append(f"<tr><td>{html.escape(m.question)} <span class=\"nr-meta\">({html.escape(m.id)})</span></td>"
                    f"<td>{html.escape(given)}</td><td>{html.escape(m.expected)}</td><td>{html.escape(m.why)}</td></tr>")
    more = len(f.misses) - limit
    tail = f'<p class="nr-meta">…and {more} more in the full report.</p>' if more > 0 else ""
    return (f"<h3>{_plural(len(f.misses), 'question')} went wrong</h3>"
            '<table class="nr-failed"><colgroup><col class="nr-c-q"><col class="nr-c-a"><col class="nr-c-e">'
            '<col class="nr-c-w"></colgroup><thead><tr><th>Question</th><th>Answer given</th><th>Expected</th>'
            f"<th>What went wrong</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{tail}")
