"""The Gradio app: chat with cited answers, the cited article beside it, the library, the evaluation.

    app = build_app(pipeline)
    launch(app, host="127.0.0.1", port=7860)

Citation markers in answers are ``<a class="nr-cite" href="#nr-cite:doc_id:start:end">``. The page script
(``ui.page.JS``) catches a click on one, keeps its key in ``window.__nrCite`` and clicks a visually
hidden button; that button's event reads the value (its ``js`` pre-function), asks Python for the
article HTML (``open_source``) and then scrolls the source panel, and only it, to the ``<mark>``.

Conversations live in the browser (``gr.BrowserState``, see ``ui.conversations``): a reload reopens the
latest one, several can be kept, and each exports as Markdown with its citations.

API endpoints (``gradio_client``): ``/ask`` (question, history) → ``Answer.to_dict()``; ``/chat``;
``/upload`` (files, title, source, date); ``/delete`` (doc id); ``/details`` (doc id, title, source,
date); ``/library`` (search words); ``/source`` (citation key); ``/evaluate`` (Q&A file, k).
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr

from rag.errors import NewsragError
from rag.types import Answer, Filters
from ui import conversations, evaluation, library, render, stream
from ui.page import CSS, JS, SCROLL_JS

#: The chat's height: the window's, less the header, the tabs, the conversation bar and the question box.
CHAT_HEIGHT = "max(260px, calc(100vh - 390px))"
#: Where the browser keeps the conversations (localStorage key).
STORAGE_KEY = "newsrag-conversations"


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


def source_choices(pipeline: Any) -> list[str]:
    articles = pipeline.articles()
    return sorted({a.source for a in articles if a.source}) + [a.file for a in articles]


def storage_secret(data_dir: Path) -> str:
    """The key the browser's copy of the conversations is encrypted with: kept in the data folder, so that
    conversations survive a restart of the server (a new random key would make them unreadable)."""
    path = Path(data_dir) / "ui-secret"
    try:
        return path.read_text().strip() or _new_secret(path)
    except FileNotFoundError:
        return _new_secret(path)


def _new_secret(path: Path) -> str:
    value = secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _file_path(file: Any) -> Path:
    return Path(file if isinstance(file, str) else getattr(file, "name", file))


def build_app(pipeline: Any) -> gr.Blocks:
    """The whole UI over one ``Pipeline``; launch it with :func:`launch` (which adds the CSS and JS)."""
    from rag.answer import BACKENDS

    settings = pipeline.settings
    backends = sorted(BACKENDS) or [settings.backend]
    exports = Path(tempfile.mkdtemp(prefix="newsrag-ui-"))

    # -- chat --------------------------------------------------------------------------------------

    def ask_api(question: str, history: str = "[]") -> dict:
        """Answer ``question`` asked after the earlier questions ``history`` (a JSON list); the CLI's --json."""
        if not question or not question.strip():
            raise gr.Error("Ask a question.")
        try:
            return pipeline.ask(question.strip(), history=_parse_history(history)).to_dict()
        except NewsragError as exc:
            raise gr.Error(str(exc)) from None

    def chat(message: str, messages: list, turns: list, previous: Answer | None, backend: str, k: float,
             since: Any, until: Any, sources: list):
        """One chat turn. ``turns`` are the conversation's earlier questions (with their Markdown, for the
        export); ``previous`` is the answer the user just read, which a follow-up is about."""
        question = (message or "").strip()
        messages = list(messages or [])
        turns = list(turns or []) if messages else []  # an empty chat is a new conversation
        previous = previous if turns else None
        if not question:
            yield messages, turns, previous, ""
            return
        messages.append({"role": "user", "content": render.text(question)})
        yield messages, turns, previous, ""
        live = stream.LiveAnswer()  # a generative backend's tokens, and each sentence once it is checked
        streaming = False
        try:
            for event in pipeline.ask_stream(question, history=[t["question"] for t in turns], k=int(k),
                                             backend=backend, filters=_filters(since, until, sources),
                                             previous=previous):
                if isinstance(event, Answer):
                    answer = event
                    break
                if not streaming:
                    messages.append({"role": "assistant", "content": ""})
                    streaming = True
                messages[-1] = {"role": "assistant", "content": live.add(event)}
                yield messages, turns, previous, ""
        except NewsragError as exc:
            messages[len(messages) - streaming:] = [{"role": "assistant", "content": render.error_html(str(exc))}]
            yield messages, turns, previous, ""
            return
        turns = [*turns, {"question": question, "markdown": render.answer_markdown(question, answer)}]
        if not streaming:
            messages.append({"role": "assistant", "content": ""})
        steps = 1 if answer.abstained or answer.generated else len(render.split_sentences(answer.text))
        for i in range(1, steps):
            messages[-1] = {"role": "assistant", "content": render.answer_html(answer, upto=i, question=question)}
            yield messages, turns, previous, ""
            time.sleep(0.04)
        messages[-1] = {"role": "assistant",
                        "content": render.answer_html(answer, question=question) + stream.checks_html(answer)}
        yield messages, turns, answer, ""

    def export_file(conv: dict | None) -> str | None:
        if not conv or not conv.get("turns"):
            return None
        path = exports / f"newsrag-conversation-{conv['id']}.md"
        path.write_text(conversations.to_markdown(conv), encoding="utf-8")
        return str(path)

    def save_conversation(conv_id: str | None, messages: list, turns: list, saved: Any):
        conv_id, saved = conversations.save(saved, conv_id, messages, turns)
        return (conv_id, saved, gr.update(choices=conversations.choices(saved), value=conv_id),
                gr.update(value=export_file(conversations.find(saved, conv_id)), interactive=bool(turns)))

    def open_conversation(conv_id: str | None, saved: Any):
        conv = conversations.find(saved, conv_id)
        messages = conv["messages"] if conv else []
        turns = conv["turns"] if conv else []
        return (conv["id"] if conv else None, messages, turns, None, render.SOURCE_PLACEHOLDER,
                gr.update(value=export_file(conv), interactive=bool(turns)))

    def restore(saved: Any):
        """On page load: the conversation list, and the latest conversation reopened."""
        convs = conversations.clean(saved)
        latest = convs[0]["id"] if convs else None
        return (gr.update(choices=conversations.choices(convs), value=latest),
                *open_conversation(latest, convs)[:3], gr.update(value=export_file(convs[0] if convs else None),
                                                                 interactive=bool(convs)))

    def new_conversation():
        return None, [], [], None, render.SOURCE_PLACEHOLDER, gr.update(value=None), \
            gr.update(value=None, interactive=False)

    def delete_conversation(conv_id: str | None, saved: Any):
        saved = conversations.delete(saved, conv_id)
        return (saved, gr.update(choices=conversations.choices(saved), value=None), *new_conversation()[:5],
                gr.update(value=None, interactive=False))

    def open_source(key: str) -> str:
        try:
            cite = render.parse_cite(key or "")
        except ValueError:
            return render.SOURCE_PLACEHOLDER
        try:
            return render.source_html(pipeline.article(cite.doc_id), cite.start, cite.end, cite.key_start,
                                      cite.key_end, key=key)
        except NewsragError as exc:
            return render.error_html(str(exc))

    # -- library -----------------------------------------------------------------------------------

    def library_view(query: str = ""):
        """The table (those articles that match the search words), the ids of its rows, the chat's source list."""
        articles = pipeline.articles()
        shown = library.shown(articles, query)
        label = (f"{len(articles)} articles" if len(shown) == len(articles)
                 else f"{len(shown)} of {len(articles)} articles match “{query.strip()}”")
        return (gr.update(value=[library.row(a) for a in shown], label=f"{label} · click a row to preview, edit or "
                          "delete it"), [a.doc_id for a in shown], gr.update(choices=source_choices(pipeline)))

    def upload(files: Any, title: str, source: str, published: str, query: str = ""):
        paths = [_file_path(f) for f in (files if isinstance(files, list) else [files] if files else [])]
        lines: list[str] = []
        failed = 0
        try:
            given = library.details(title if len(paths) == 1 else "", source, published)
        except NewsragError as exc:
            return (f"✗ {exc}", gr.update(), *library_view(query))
        if title and len(paths) > 1:
            lines.append("(the title applies to one file at a time: it was not set on these files)")
        for path in paths:
            try:
                report = pipeline.ingest_upload(path.name, path.read_bytes(), given)
                lines += [r.line() for r in report.results]
                failed += not report.ok
            except (NewsragError, OSError) as exc:
                lines.append(f"✗ {path.name}: {exc}")
                failed += 1
        return (library.results_text(lines, failed, len(paths)), None, *library_view(query))

    def select_article(ids: list[str], event: gr.SelectData):
        """The clicked row's article: by the file name the row shows (a search may have changed the table
        between the click and this call), else by its place in the table."""
        row = getattr(event, "row_value", None) or []
        index = event.index[0] if isinstance(event.index, list | tuple) else event.index
        by_file = pipeline.store.by_file(str(row[3])) if len(row) > 3 else []
        doc_id = by_file[0] if len(by_file) == 1 else (
            ids[index] if isinstance(index, int) and 0 <= index < len(ids or []) else "")
        return (doc_id, *article_panel(doc_id))

    def article_panel(doc_id: str):
        """The selected article's preview, its editable details, and the delete button."""
        if not doc_id:
            return (render.LIBRARY_PLACEHOLDER, "", "", "", gr.update(interactive=False),
                    gr.update(interactive=False), gr.update(visible=False))
        try:
            a = pipeline.article(doc_id)
        except NewsragError as exc:
            return (render.error_html(str(exc)), "", "", "", gr.update(interactive=False),
                    gr.update(interactive=False), gr.update(visible=False))
        return (render.source_html(a), a.title or "", a.source or "", a.published.isoformat() if a.published else "",
                gr.update(interactive=True), gr.update(interactive=True), gr.update(visible=False))

    def ask_delete(doc_id: str):
        if not doc_id:
            return gr.update(visible=False), ""
        try:
            a = pipeline.article(doc_id)
        except NewsragError as exc:
            return gr.update(visible=False), f"✗ {exc}"
        note = (f"**Delete “{a.label}”** ({a.file})? Its passages leave every answer. "
                "You can undo this right after.")
        return gr.update(visible=True), note

    def delete(doc_id: str, query: str = ""):
        """Delete the article ``doc_id`` (after the confirmation); it is kept in the session for an undo."""
        try:
            article = pipeline.article(doc_id)
            status = pipeline.delete(article.doc_id, exact=True).line()  # what was picked, never a prefix of it
        except NewsragError as exc:
            return (None, f"✗ {exc}", gr.update(visible=False), gr.update(visible=False), "",
                    *article_panel("")[:4], *library_view(query))
        return (article, status, gr.update(visible=False), gr.update(visible=True), "",
                *article_panel("")[:4], *library_view(query))

    def undo_delete(article: Any, query: str = ""):
        if article is None:
            return (None, "Nothing to undo.", gr.update(visible=False), *library_view(query))
        report = pipeline.restore(article)
        status = "\n".join(r.line().replace("added to the library", "put back in the library")
                           for r in report.results)
        return (None, status, gr.update(visible=False), *library_view(query))

    def save_details(doc_id: str, title: str, source: str, published: str, query: str = ""):
        if not doc_id:
            return ("Select an article first.", gr.update(), *library_view(query))
        try:
            stored = pipeline.update_details(doc_id, library.details(title, source, published))
        except NewsragError as exc:
            return (f"✗ {exc}", gr.update(), *library_view(query))
        return (f"✓ {stored.file}: details saved ({stored.label} · "
                f"{stored.published.isoformat() if stored.published else 'date unknown'} · "
                f"{stored.source or 'source unknown'})", render.source_html(pipeline.article(doc_id)),
                *library_view(query))

    # -- evaluation --------------------------------------------------------------------------------

    def run_eval(file: Any, k: float, progress=gr.Progress()):  # noqa: B008 - Gradio injects the tracker
        try:
            from eval.run import DEFAULT_QA, evaluate, load_qa, write_report
        except ImportError as exc:
            raise gr.Error(f"The evaluation runner is not available: {exc}") from None
        path = _file_path(file) if file else Path(DEFAULT_QA)
        try:
            items = load_qa(path)
            progress(0, desc=f"{len(items)} questions")

            def tick(done: int, total: int) -> None:
                progress(done / max(total, 1), desc=f"{done} of {total} questions")

            report = evaluate(lambda q, h, kk: pipeline.ask(q, history=h, k=kk), items, k=int(k), progress=tick)
            out = write_report(report, Path(tempfile.mkdtemp(prefix="newsrag-eval-")))
        except NewsragError as exc:
            raise gr.Error(str(exc).replace(str(path), path.name)) from None  # the upload's name, not a temp path
        f = evaluation.figures(report, items, int(k))
        png = out.get("png")
        downloads = [str(out[kind]) for kind in ("md", "json") if out.get(kind) and Path(out[kind]).exists()]
        chart_path = str(png) if png and Path(png).exists() else None
        return (evaluation.summary_html(f), gr.update(value=chart_path, visible=bool(chart_path)),
                evaluation.failed_html(f), gr.update(value=downloads, visible=True))

    # -- layout ------------------------------------------------------------------------------------

    with gr.Blocks(title="newsrag") as app:
        gr.Markdown("# newsrag\nAsk the news articles; every answer cites the exact passages it rests on.",
                    elem_classes=["nr-header"])
        saved = gr.BrowserState([], storage_key=STORAGE_KEY, secret=storage_secret(settings.data_dir))
        conv_id = gr.State(None)
        turns = gr.State([])
        previous = gr.State(None)  # the last answer, so a follow-up need not ask the question before it again
        deleted = gr.State(None)  # the article just deleted, for an undo
        row_ids = gr.State([])  # the doc ids of the library table's rows, in order
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        with gr.Row(elem_id="nr-conversation-bar"):
                            picker = gr.Dropdown([], value=None, label="Conversation", scale=5, elem_id="nr-picker",
                                                 show_label=False, container=False, interactive=True)
                            new_btn = gr.Button("New conversation", size="sm", scale=1, elem_id="nr-new")
                            export_btn = gr.DownloadButton("Export (Markdown)", size="sm", scale=1,
                                                           elem_id="nr-export", interactive=False)
                            forget_btn = gr.Button("Delete", size="sm", scale=0, min_width=70, elem_id="nr-forget")
                        chatbot = gr.Chatbot(label="Answers", elem_id="nr-chat", height=CHAT_HEIGHT, sanitize_html=True,
                                             feedback_options=None, buttons=["copy"],
                                             latex_delimiters=[])
                        with gr.Row():
                            box = gr.Textbox(placeholder="Ask about the news… (follow-ups welcome)", show_label=False,
                                             scale=5, elem_id="nr-question", autofocus=True)
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="nr-ask")
                        with gr.Accordion("Settings", open=False):
                            backend = gr.Dropdown(backends, value=settings.backend, label="Answer backend")
                            top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to retrieve (top-k)")
                            with gr.Row():
                                since = gr.Textbox(label="Since (YYYY-MM-DD)", placeholder="any date")
                                until = gr.Textbox(label="Until (YYYY-MM-DD)", placeholder="any date")
                            sources = gr.Dropdown(source_choices(pipeline), multiselect=True, value=[],
                                                  allow_custom_value=True, label="Only these sources (agency or file)")
                    with gr.Column(scale=2):
                        source_panel = gr.HTML(render.SOURCE_PLACEHOLDER, elem_id="nr-source-panel")
                        cite_key = gr.Textbox(visible="hidden", elem_id="nr-cite-key")
                        cite_btn = gr.Button("open source", visible="hidden", elem_id="nr-open-source")
            with gr.Tab("Library", id="library"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        search = gr.Textbox(placeholder="Search by title, source, date (2017-08) or file name",
                                            show_label=False, elem_id="nr-search")
                        table = gr.Dataframe(headers=library.HEADERS, interactive=False, wrap=True,
                                             column_widths=list(library.WIDTHS), max_height=420, elem_id="nr-library")
                        with gr.Accordion("Add articles", open=True):
                            files = gr.File(label="Drop .txt, .md, .html, .pdf or .docx files here (several at once)",
                                            file_count="multiple", file_types=library.FILE_TYPES, type="filepath",
                                            elem_id="nr-upload", height=120)
                            with gr.Row():
                                up_title = gr.Textbox(label="Title (one file only; optional)", scale=2)
                                up_source = gr.Textbox(label="Source (optional)", scale=1)
                                up_date = gr.Textbox(label="Date (optional)", placeholder="2017-08-06", scale=1)
                            upload_btn = gr.Button("Add to library", variant="primary", elem_id="nr-add")
                        status = gr.Textbox(label="Result", interactive=False, lines=3, elem_id="nr-status")
                    with gr.Column(scale=2):
                        chosen = gr.Textbox(visible="hidden", elem_id="nr-chosen")
                        with gr.Row():
                            ed_title = gr.Textbox(label="Title", scale=2)
                        with gr.Row():
                            ed_source = gr.Textbox(label="Source")
                            ed_date = gr.Textbox(label="Date", placeholder="2017-08-06")
                        with gr.Row():
                            save_btn = gr.Button("Save details", interactive=False, elem_id="nr-save")
                            delete_btn = gr.Button("Delete…", variant="stop", interactive=False, elem_id="nr-delete")
                        with gr.Group(visible=False, elem_id="nr-confirm", elem_classes=["nr-confirm"]) as confirm:
                            confirm_note = gr.Markdown()
                            with gr.Row():
                                yes_btn = gr.Button("Yes, delete", variant="stop", elem_id="nr-confirm-yes")
                                no_btn = gr.Button("Cancel", elem_id="nr-confirm-no")
                        undo_btn = gr.Button("Undo delete", visible=False, elem_id="nr-undo")
                        preview = gr.HTML(render.LIBRARY_PLACEHOLDER, elem_id="nr-library-preview")
            with gr.Tab("Evaluate", id="evaluate"):
                with gr.Row():
                    qa_file = gr.File(label="Question set (.jsonl; leave empty for the project's set)",
                                      file_types=[".jsonl"], type="filepath", height=110, elem_id="nr-eval-file")
                    with gr.Column():
                        eval_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages searched per question")
                        eval_btn = gr.Button("Run evaluation", variant="primary", elem_id="nr-run-eval")
                with gr.Row(equal_height=False):
                    summary = gr.HTML('<div class="nr-empty">Run the evaluation to see how often answers are right, '
                                      "whether the evidence was found and cited, and how fast.</div>",
                                      elem_id="nr-eval-summary", scale=3)
                    report_files = gr.File(label="Full report (Markdown and JSON)", interactive=False, visible=False,
                                           file_count="multiple", elem_id="nr-eval-report", scale=1)
                failed = gr.HTML(elem_id="nr-eval-failed")
                chart = gr.Image(label="By question type", type="filepath", interactive=False, elem_id="nr-eval-chart",
                                 buttons=["download", "fullscreen"], visible=False)

        # -- events ----------------------------------------------------------------------------------
        chat_inputs = [box, chatbot, turns, previous, backend, top_k, since, until, sources]
        chat_outputs = [chatbot, turns, previous, box]
        save_args = dict(fn=save_conversation, inputs=[conv_id, chatbot, turns, saved],
                         outputs=[conv_id, saved, picker, export_btn], api_visibility="private", queue=False)
        box.submit(chat, chat_inputs, chat_outputs, api_name="chat").then(**save_args)
        send.click(chat, chat_inputs, chat_outputs, api_visibility="private").then(**save_args)
        conversation_view = [conv_id, chatbot, turns, previous, source_panel]
        new_btn.click(new_conversation, None, [*conversation_view, picker, export_btn], api_visibility="private")
        picker.input(open_conversation, [picker, saved], [*conversation_view, export_btn], api_visibility="private")
        forget_btn.click(delete_conversation, [conv_id, saved], [saved, picker, *conversation_view, export_btn],
                         api_visibility="private")
        app.load(restore, saved, [picker, conv_id, chatbot, turns, export_btn], api_visibility="private")
        cite_btn.click(open_source, cite_key, source_panel, js="(k) => window.__nrCite || k",
                       api_name="source").then(None, js=SCROLL_JS)

        view = [table, row_ids, sources]
        search.change(library_view, search, view, api_name="library", show_progress="hidden")
        app.load(library_view, search, view, api_visibility="private")
        upload_btn.click(upload, [files, up_title, up_source, up_date, search], [status, files, *view],
                         api_name="upload")
        panel = [preview, ed_title, ed_source, ed_date, save_btn, delete_btn, confirm]
        table.select(select_article, row_ids, [chosen, *panel], api_visibility="private")
        delete_btn.click(ask_delete, chosen, [confirm, confirm_note], api_visibility="private")
        no_btn.click(lambda: gr.update(visible=False), None, confirm, api_visibility="private")
        yes_btn.click(delete, [chosen, search], [deleted, status, confirm, undo_btn, chosen, preview, ed_title,
                                                ed_source, ed_date, *view],
                      api_name="delete").then(lambda: (gr.update(interactive=False),) * 2, None,
                                              [save_btn, delete_btn], api_visibility="private")
        undo_btn.click(undo_delete, [deleted, search], [deleted, status, undo_btn, *view], api_visibility="private")
        save_btn.click(save_details, [chosen, ed_title, ed_source, ed_date, search], [status, preview, *view],
                       api_name="details")

        eval_btn.click(run_eval, [qa_file, eval_k], [summary, chart, failed, report_files], api_name="evaluate",
                       show_progress_on=[summary])
        gr.api(ask_api, api_name="ask")
    return app


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, max_file_bytes: int = 2_000_000,
           auth: Any = None, **kwargs: Any) -> Any:
    """Serve ``app`` locally (never a share link), with a bounded queue sized for a small machine."""
    app.queue(max_size=32, default_concurrency_limit=2)
    return app.launch(server_name=host, server_port=port, share=False, auth=auth, max_file_size=max_file_bytes,
                      css=CSS, js=JS, show_error=True, footer_links=["api"], **kwargs)
