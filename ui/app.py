"""The Gradio app: chat with cited answers, the cited article beside it, the library, the evaluation.

    app = build_app(pipeline)
    launch(app, host="127.0.0.1", port=7860)

Citation markers in answers are ``<a class="nr-cite" href="#nr-cite:doc_id:start:end">``. The page script
(:data:`JS`) catches a click on one, keeps its key in ``window.__nrCite`` and clicks a
visually hidden button; that button's event reads the value (its ``js`` pre-function), asks Python
for the article HTML (``open_source``) and then scrolls the ``<mark>`` into view.

API endpoints (``gradio_client``): ``/ask`` (question, history) → ``Answer.to_dict()``; ``/upload``,
``/delete``, ``/library``, ``/source``.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr

from rag.errors import NewsragError
from rag.types import Answer, Filters
from ui import render, stream

CSS = """
.nr-cite { cursor: pointer; font-weight: 600; text-decoration: none; color: #2563eb; padding: 0 1px; }
.nr-cite:hover { text-decoration: underline; }
.nr-citations { font-size: 0.9em; margin: 0.4em 0 0 1.2em; padding: 0; list-style: none; }
.nr-query { font-size: 0.85em; color: #6b7280; margin-bottom: 0.4em; }
.nr-abstain { border: 1px solid #f59e0b; background: #fffbeb; color: #92400e; border-radius: 6px; padding: 0.5em; }
.nr-closest { font-size: 0.85em; margin-top: 0.5em; }
.nr-not-answer { background: #e5e7eb; color: #374151; border-radius: 4px; padding: 0 4px; font-size: 0.8em; }
.nr-snippet { color: #6b7280; }
#nr-source-panel { max-height: 640px; overflow-y: auto; }
.nr-source h3 { margin: 0 0 0.2em 0; }
.nr-meta { font-size: 0.85em; color: #6b7280; margin-bottom: 0.6em; }
.nr-text { white-space: pre-wrap; line-height: 1.45; }
.nr-text mark { background: #fde047; padding: 1px 0; }
.nr-empty { color: #6b7280; }
"""

#: Runs once when the page loads: one delegated click handler for every citation marker.
JS = """
() => {
  if (window.__nrInstalled) return;
  window.__nrInstalled = true;
  document.addEventListener('click', (event) => {
    const el = event.target.closest ? event.target.closest('a.nr-cite, a[href^="#nr-cite:"]') : null;
    if (!el) return;
    const href = el.getAttribute('href') || '';
    const key = el.getAttribute('data-cite') || (href.startsWith('#nr-cite:') ? href.slice(9) : '');
    if (!key) return;
    event.preventDefault();
    event.stopPropagation();
    window.__nrCite = decodeURIComponent(key);
    const btn = document.querySelector('#nr-open-source button') || document.querySelector('button#nr-open-source');
    if (btn) btn.click();
  }, true);
}
"""

#: After the article is shown: bring the highlighted span into view (inside the panel and the page).
SCROLL_JS = """
() => {
  const go = (tries) => {
    const mark = document.querySelector('#nr-source-panel mark');
    if (mark) { mark.scrollIntoView({block: 'center', inline: 'nearest'}); return; }
    if (tries > 0) setTimeout(() => go(tries - 1), 100);
  };
  setTimeout(() => go(20), 50);
}
"""

LIBRARY_HEADERS = ["file", "title", "date", "source", "chunks", "doc_id"]


def _parse_history(history: Any) -> list[str]:
    """Earlier questions, as a list or a JSON list string (gradio_client sends either)."""
    if history is None or history == "":
        return []
    if isinstance(history, str):
        try:
            history = json.loads(history)
        except json.JSONDecodeError:
            return [history]
    if isinstance(history, str):
        return [history]
    return [str(h) for h in history if str(h).strip()]


def _parse_date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return date.fromtimestamp(value)
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise NewsragError(f"{name} must be a date like 2017-08-07, got {value!r}.") from None


def _filters(since: Any, until: Any, sources: Any) -> Filters:
    chosen = tuple(s for s in (sources or []) if s)
    return Filters(since=_parse_date(since, "Since"), until=_parse_date(until, "Until"), sources=chosen)


def library_rows(pipeline: Any) -> list[list[Any]]:
    return [[a.file, a.title or "unknown", a.published.isoformat() if a.published else "unknown",
             a.source or "unknown", a.chunks, a.doc_id] for a in pipeline.articles()]


def source_choices(pipeline: Any) -> list[str]:
    articles = pipeline.articles()
    return sorted({a.source for a in articles if a.source}) + [a.file for a in articles]


def build_app(pipeline: Any) -> gr.Blocks:
    """The whole UI over one ``Pipeline``; launch it with :func:`launch` (which adds the CSS and JS)."""
    from rag.answer import BACKENDS

    settings = pipeline.settings
    backends = sorted(BACKENDS) or [settings.backend]

    # -- handlers ----------------------------------------------------------------------------------

    def ask_api(question: str, history: str = "[]") -> dict:
        """Answer ``question`` asked after the earlier questions ``history`` (a JSON list); the CLI's --json."""
        if not question or not question.strip():
            raise gr.Error("Ask a question.")
        try:
            return pipeline.ask(question.strip(), history=_parse_history(history)).to_dict()
        except NewsragError as exc:
            raise gr.Error(str(exc)) from None

    def chat(message: str, messages: list, questions: list, previous: Answer | None, backend: str, k: float,
             since: Any, until: Any, sources: list):
        """One chat turn; ``previous`` is the answer the user just read, which a follow-up is about."""
        question = (message or "").strip()
        messages = list(messages or [])
        questions = list(questions or []) if messages else []  # an empty chat is a new conversation
        previous = previous if questions else None
        if not question:
            yield messages, questions, previous, ""
            return
        messages.append({"role": "user", "content": render.text(question)})
        yield messages, questions, previous, ""
        live = stream.LiveAnswer()  # a generative backend's tokens, and each sentence once it is checked
        streaming = False
        try:
            for event in pipeline.ask_stream(question, history=questions, k=int(k), backend=backend,
                                             filters=_filters(since, until, sources), previous=previous):
                if isinstance(event, Answer):
                    answer = event
                    break
                if not streaming:
                    messages.append({"role": "assistant", "content": ""})
                    streaming = True
                messages[-1] = {"role": "assistant", "content": live.add(event)}
                yield messages, questions, previous, ""
        except NewsragError as exc:
            messages[len(messages) - streaming:] = [{"role": "assistant", "content": render.error_html(str(exc))}]
            yield messages, questions, previous, ""
            return
        questions = [*questions, question]
        if not streaming:
            messages.append({"role": "assistant", "content": ""})
        steps = 1 if answer.abstained or answer.generated else len(render.split_sentences(answer.text))
        for i in range(1, steps):
            messages[-1] = {"role": "assistant", "content": render.answer_html(answer, upto=i)}
            yield messages, questions, previous, ""
            time.sleep(0.04)
        messages[-1] = {"role": "assistant", "content": render.answer_html(answer) + stream.checks_html(answer)}
        yield messages, questions, answer, ""

    def open_source(key: str) -> str:
        try:
            doc_id, start, end = render.parse_cite(key or "")
        except ValueError:
            return render.SOURCE_PLACEHOLDER
        try:
            return render.source_html(pipeline.article(doc_id), start, end)
        except NewsragError as exc:
            return render.error_html(str(exc))

    def refresh_library():
        rows = library_rows(pipeline)
        return rows, gr.update(choices=[r[0] for r in rows], value=None), gr.update(choices=source_choices(pipeline))

    def upload(file: Any):
        if file is None:
            return ("Choose a file to upload.", *refresh_library())
        path = Path(file if isinstance(file, str) else getattr(file, "name", file))
        try:
            report = pipeline.ingest_upload(path.name, path.read_bytes())
            status = "\n".join(r.line() for r in report.results)
            if not report.ok:
                status += "\n\nNothing was changed."
        except NewsragError as exc:
            status = f"✗ {exc}"
        return (status, *refresh_library())

    def delete(ref: str):
        if not ref:
            return ("Select an article to delete.", *refresh_library())
        try:
            status = pipeline.delete(ref).line()
        except NewsragError as exc:
            status = f"✗ {exc}"
        return (status, *refresh_library())

    def pick_row(event: gr.SelectData):
        row = getattr(event, "row_value", None)
        return row[0] if row else gr.update()

    def run_eval(file: Any, k: float, progress=gr.Progress()):  # noqa: B008 - Gradio injects the tracker
        try:
            from eval.run import DEFAULT_QA, evaluate, load_qa, write_report
        except ImportError as exc:
            raise gr.Error(f"The evaluation runner is not available: {exc}") from None
        path = Path(file if isinstance(file, str) else getattr(file, "name", "")) if file else Path(DEFAULT_QA)
        try:
            items = load_qa(path)
            progress(0, desc=f"{len(items)} questions")

            def tick(done: int, total: int) -> None:
                progress(done / max(total, 1), desc=f"{done}/{total} questions")

            report = evaluate(lambda q, h, kk: pipeline.ask(q, history=h, k=kk), items, k=int(k), progress=tick)
            out = write_report(report, Path(tempfile.mkdtemp(prefix="newsrag-eval-")))
        except NewsragError as exc:
            raise gr.Error(str(exc)) from None
        import pandas as pd

        totals = pd.DataFrame([[name, round(float(v), 4)] for name, v in report.totals.items()],
                              columns=["metric", "value"])
        columns = [c for c in ("id", "type", "question", "answer", "correct") if any(c in r for r in report.rows)]
        extra = sorted({key for r in report.rows for key in r} - set(columns))
        columns += extra
        rows = pd.DataFrame([[_cell(r.get(c)) for c in columns] for r in report.rows], columns=columns)
        png = out.get("png")
        return (totals, rows,
                str(png) if png and Path(png).exists() else None, f"Report written to {out.get('md', '')}")

    # -- layout ------------------------------------------------------------------------------------

    with gr.Blocks(title="newsrag") as app:
        gr.Markdown("# newsrag\nAsk the news articles; every answer cites the exact passages it rests on.")
        questions = gr.State([])
        previous = gr.State(None)  # the last answer, so a follow-up need not ask the question before it again
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="Answers", elem_id="nr-chat", height=520, sanitize_html=True,
                                             feedback_options=None, buttons=["copy"],
                                             latex_delimiters=[])
                        with gr.Row():
                            box = gr.Textbox(placeholder="Ask about the news… (follow-ups welcome)", show_label=False,
                                             scale=5, elem_id="nr-question", autofocus=True)
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="nr-ask")
                        clear = gr.Button("New conversation", size="sm")
                        with gr.Accordion("Settings", open=False):
                            backend = gr.Dropdown(backends, value=settings.backend, label="Answer backend")
                            top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to retrieve (top-k)")
                            with gr.Row():
                                since = gr.Textbox(label="Since (YYYY-MM-DD)", placeholder="any date")
                                until = gr.Textbox(label="Until (YYYY-MM-DD)", placeholder="any date")
                            sources = gr.Dropdown(source_choices(pipeline), multiselect=True, value=[],
                                                  allow_custom_value=True, label="Only these sources (agency or file)")
                    with gr.Column(scale=2):
                        source_panel = gr.HTML(render.SOURCE_PLACEHOLDER, elem_id="nr-source-panel",
                                               label="Source")
                        cite_key = gr.Textbox(visible="hidden", elem_id="nr-cite-key")
                        cite_btn = gr.Button("open source", visible="hidden", elem_id="nr-open-source")
            with gr.Tab("Library", id="library"):
                library = gr.Dataframe(library_rows(pipeline), headers=LIBRARY_HEADERS, interactive=False,
                                       label="Articles (click a row to select it)", wrap=True)
                with gr.Row():
                    upload_file = gr.File(label="Upload an article (.txt, .md, .html)",
                                          file_types=[".txt", ".md", ".html", ".htm"], type="filepath")
                    with gr.Column():
                        chosen = gr.Dropdown([r[0] for r in library_rows(pipeline)], label="Article to delete",
                                             allow_custom_value=True)
                        delete_btn = gr.Button("Delete", variant="stop")
                upload_btn = gr.Button("Add to library", variant="primary")
                status = gr.Textbox(label="Result", interactive=False, lines=3)
            with gr.Tab("Evaluate", id="evaluate"):
                with gr.Row():
                    qa_file = gr.File(label="Q&A JSONL (leave empty for the default set)", file_types=[".jsonl"],
                                      type="filepath")
                    eval_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="top-k")
                eval_btn = gr.Button("Run evaluation", variant="primary")
                eval_note = gr.Markdown()
                totals = gr.Dataframe(headers=["metric", "value"], label="Totals", interactive=False)
                chart = gr.Image(label="Chart", type="filepath", interactive=False)
                per_q = gr.Dataframe(label="Per question", interactive=False, wrap=True)

        # -- events ----------------------------------------------------------------------------------
        chat_inputs = [box, chatbot, questions, previous, backend, top_k, since, until, sources]
        chat_outputs = [chatbot, questions, previous, box]
        box.submit(chat, chat_inputs, chat_outputs, api_name="chat")
        send.click(chat, chat_inputs, chat_outputs, api_visibility="private")
        clear.click(lambda: ([], [], None, render.SOURCE_PLACEHOLDER), None,
                    [chatbot, questions, previous, source_panel],
                    api_visibility="private")
        cite_btn.click(open_source, cite_key, source_panel, js="(k) => window.__nrCite || k",
                       api_name="source").then(None, js=SCROLL_JS)

        lib_outputs = [status, library, chosen, sources]
        upload_btn.click(upload, upload_file, lib_outputs, api_name="upload")
        delete_btn.click(delete, chosen, lib_outputs, api_name="delete")
        library.select(pick_row, None, chosen, api_visibility="private")
        app.load(refresh_library, None, [library, chosen, sources], api_name="library")

        eval_btn.click(run_eval, [qa_file, eval_k], [totals, per_q, chart, eval_note], api_name="evaluate")
        gr.api(ask_api, api_name="ask")
    return app


def _cell(value: Any) -> Any:
    if isinstance(value, int | float | str) or value is None:
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, max_file_bytes: int = 2_000_000,
           auth: tuple[str, str] | None = None, **kwargs: Any) -> Any:
    """Serve ``app`` locally (never a share link), with a bounded queue sized for a small machine."""
    app.queue(max_size=32, default_concurrency_limit=2)
    return app.launch(server_name=host, server_port=port, share=False, auth=auth, max_file_size=max_file_bytes,
                      css=CSS, js=JS, show_error=True, footer_links=["api"], **kwargs)
