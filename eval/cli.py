"""``newsrag eval``: run the question set, print the totals, write report.json, report.md and chart.png.

Only click is imported here; the pipeline, rich and matplotlib load when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def _progress_bar(label: str) -> Any:
    import sys

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    TextColumn("{task.description}"), transient=True, disable=not sys.stderr.isatty())


def _run(system: Any, items: list[Any], k: int, name: str) -> Any:
    from eval.run import evaluate

    with _progress_bar(f"eval {name}") as bar:
        task = bar.add_task("", total=len(items))

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=items[done].id if done < total else "")

        return evaluate(system, items, k=k, progress=progress, name=name)


def _warm_up(system: Any, k: int, pipeline: Any = None, backend: str | None = None) -> None:
    """Ask the same throwaway questions of each system, so that model loading, index building and a process's
    slower first questions are not timed as latency; a pipeline also loads what only some questions need
    (``Pipeline.warm_up``)."""
    from rag.pipeline import WARM_UP_QUESTIONS

    if pipeline is not None:
        pipeline.warm_up(backend)
    else:
        for question in WARM_UP_QUESTIONS:
            system(question, [], k)


def _distractor_run(pipeline: Any, folder: Path, items: list[Any], k: int, backend: str | None,
                    suffix: str = "") -> Any | None:
    from eval import distractors
    from eval.run import pipeline_system

    message = distractors.missing_message(folder)
    if message:
        click.echo(message, err=True)
        return None
    rows = distractors.read_folder(folder)
    click.echo(f"distractors: {len(rows.docs)} rows from {', '.join(p.name for p in rows.files)}"
               f"{f', {len(rows.skipped)} skipped' if rows.skipped else ''} (unchanged rows are not re-embedded)",
               err=True)
    with _progress_bar("ingesting distractors") as bar:
        task = bar.add_task("", total=len(rows.docs))

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=name)

        store = distractors.build_store(pipeline, rows, progress)
    click.echo(f"distractors: {store.summary()}", err=True)
    for skipped in rows.skipped[:5]:
        click.echo(f"  skipped {skipped.name}: {skipped.reason}", err=True)
    for failed in store.rows.failed[:5]:
        click.echo(f"  {failed.line()}", err=True)
    dp = store.pipeline

    system = pipeline_system(dp, backend)
    _warm_up(system, k, dp, backend)
    return _run(system, items, k, "newsrag+distractors" + suffix)


@click.command("eval")
@click.option("--qa", "qa_path", type=click.Path(path_type=Path), default=None,
              help="Question set (JSONL), asked of the main library [eval/sets/seeds/qa.jsonl].")
@click.option("--corpus", default=None, metavar="NAMES",
              help="Eval corpora (eval/sets/NAME), each in its own store with the seeds: names joined by commas, "
                   "'dev', 'validation', 'all' (every corpus but the test one) or 'test'.")
@click.option("--sets", default=None, metavar="NAMES",
              help="Only these question sets of the corpus (file names or stems, joined by commas).")
@click.option("--data", "data_root", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where the corpora's articles are read from [../shared/data].")
@click.option("--backend", default=None, type=click.Choice(["extractive", "openai", "ollama", "llamacpp"]),
              help="Answer backend to score [NEWSRAG_BACKEND, else extractive]; a generative one also reports what "
                   "the verifier kept and dropped per question.")
@click.option("-k", "k", type=click.IntRange(1, 50), default=5, show_default=True, help="Passages to retrieve.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_OUT,
              help="Folder for report.json, report.md and chart.png [eval/out].")
@click.option("--compare", default=None, metavar="SYSTEM", help="Also run a comparison system: llamaindex-default.")
@click.option("--distractors", "distractors_dir", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Folder of news CSVs: rerun the set on the seeds plus every row (a separate store).")
@click.option("--perturb", default=None, metavar="NAMES",
              help="Ask every question as another user would type it: typo, chat, lower, nopunct, filler "
                   "(several joined by commas; see eval/perturb.py).")
@click.pass_context
def eval_command(ctx: click.Context, qa_path: Path | None, corpus: str | None, sets: str | None,
                 data_root: Path | None, backend: str | None, k: int, out_dir: Path, compare: str | None,
                 distractors_dir: Path | None, perturb: str | None) -> None:
    """Score the pipeline on a question set: answers, retrieval, citations, abstention, latency.

    With --corpus, score it on eval corpora (each loaded beside the seeds, in a store of its own) and print one
    row per corpus."""
    from rag.cli import user_errors

    if corpus:
        if qa_path or distractors_dir or perturb:
            raise click.UsageError("--corpus runs a corpus's own question sets: leave out --qa, --distractors "
                                   "and --perturb")
        user_errors(_eval_corpora)(ctx, corpus, tuple(filter(None, (sets or "").split(","))), data_root, backend,
                                   k, out_dir, compare)
        return
    if sets or data_root:
        raise click.UsageError("--sets and --data go with --corpus")
    user_errors(_eval)(ctx, qa_path, backend, k, out_dir, compare, distractors_dir, perturb)


def corpus_names_for(spec: str) -> list[str]:
    """The corpora ``--corpus`` names: "all" (every corpus but the test one), "dev", "validation", "test", or names."""
    from eval.corpus import corpus_names, load_corpus

    names = corpus_names()
    roles = {name: load_corpus(name).role for name in names}
    if spec == "all":
        return [n for n in names if roles[n] != "test"]
    if spec in ("dev", "validation", "test"):
        return [n for n in names if roles[n] == spec]
    chosen = [n.strip() for n in spec.split(",") if n.strip()]
    for name in chosen:
        load_corpus(name)  # an unknown name fails here, listing the corpora
    return chosen


def _eval_corpora(ctx: click.Context, spec: str, sets: tuple[str, ...], data_root: Path | None,
                  backend: str | None, k: int, out_dir: Path, compare: str | None) -> None:
    from rich.console import Console

    from eval.corpus import DEFAULT_DATA_ROOT, load_corpus, missing_data
    from eval.report import corpora_table, write_corpora_summary
    from eval.run import write_report
    from eval.suite import run_corpus, summary_rows
    from rag.cli import pipeline_from

    data_root = data_root or DEFAULT_DATA_ROOT
    pipeline = pipeline_from(ctx)
    rows = []
    for name in corpus_names_for(spec):
        corpus = load_corpus(name)
        if message := missing_data(corpus, data_root):
            click.echo(message, err=True)
            continue
        click.echo(f"corpus {name} ({corpus.role}): ingesting its articles beside the seeds …", err=True)
        def run(system: Any, items: list[Any], k: int, label: str, name: str = name) -> Any:
            return _run(system, items, k, f"{name} {label}")

        result = run_corpus(pipeline, corpus, data_root, k, backend, compare, sets, run=run)
        click.echo(f"corpus {name}: {result.ingest.summary()}", err=True)
        for failed in result.ingest.failed:
            click.echo(f"  {failed.line()}", err=True)
        write_report(result.newsrag, out_dir / name, result.baseline)
        rows.extend(summary_rows(result))
    if not rows:
        raise click.ClickException("No corpus could be run (see above).")
    console = Console()
    if not console.is_terminal:
        console.width = 200
    console.print(corpora_table(rows))
    paths = write_corpora_summary(rows, out_dir)
    click.echo(f"wrote {paths['md']}, {paths['json']}, {paths['png']} and a report per corpus in {out_dir}/")


def _eval(ctx: click.Context, qa_path: Path | None, backend: str | None, k: int, out_dir: Path,
          compare: str | None, distractors_dir: Path | None, perturb: str | None = None) -> None:
    from rich.console import Console

    from eval.baseline import make_baseline
    from eval.report import by_type_table, totals_table
    from eval.run import DEFAULT_QA, load_qa, pipeline_system, write_report
    from rag.cli import pipeline_from

    items = load_qa(qa_path or DEFAULT_QA)
    suffix = ""
    if perturb:
        from eval.perturb import parse, perturb_items

        names = parse(perturb)
        items = perturb_items(items, names)
        suffix = f" [{','.join(names)}]"
        click.echo(f"asking every question perturbed: {', '.join(names)} "
                   f"(e.g. {items[0].question!r})", err=True)
    pipeline = pipeline_from(ctx)
    baseline_system = make_baseline(compare, pipeline) if compare else None  # an unknown name fails first
    seeded = pipeline.ensure_seeds()
    if seeded is not None:
        click.echo(f"(first use: ingested the seed articles: {seeded.summary()})", err=True)

    system = pipeline_system(pipeline, backend)
    _warm_up(system, k, pipeline, backend)
    report = _run(system, items, k, "newsrag" + suffix)
    baseline = None
    if baseline_system is not None:
        _warm_up(baseline_system, k)
        baseline = _run(baseline_system, items, k, baseline_system.name + suffix)
    reports = [report] + ([baseline] if baseline else [])
    paths = write_report(report, out_dir, baseline)

    with_distractors = (_distractor_run(pipeline, distractors_dir, items, k, backend, suffix)
                        if distractors_dir else None)
    if with_distractors is not None:
        reports.append(with_distractors)
        write_report(with_distractors, out_dir / "distractors", report)

    console = Console()
    if not console.is_terminal:
        console.width = 120
    console.print(totals_table(reports))
    console.print(by_type_table(reports))
    _say_generation(report)
    failed = [row["id"] for row in report.rows if not row["ok"]]
    click.echo(f"newsrag not ok on {len(failed)}/{len(report.rows)}: {', '.join(failed) or 'none'}")
    click.echo(f"wrote {paths['json']}, {paths['md']}, {paths['png']}"
               + (f" and {out_dir / 'distractors'}/" if with_distractors is not None else ""))


def _say_generation(report: Any) -> None:
    """For a generative backend: the verifier's kept and dropped sentences, the fallbacks and the first token."""
    t = report.totals
    if "sentences_generated" not in t:
        return
    click.echo(f"verifier: {t['sentences_generated']:.0f} sentences generated, {t['sentences_kept']:.0f} kept, "
               f"{t['sentences_dropped']:.0f} dropped; {t['fallbacks']:.0f} of {t['questions']:.0f} answers "
               f"extractive instead; first token median {t.get('first_token_median_ms', float('nan')):.0f} ms, "
               f"answer median {t['latency_median_ms']:.0f} ms")
    for row in report.rows:
        click.echo(f"  {row['id']}: {row['sentences_generated']} generated, {row['sentences_kept']} kept, "
                   f"{row['sentences_dropped']} dropped" + (f"; extractive instead: {row['fallback']}"
                                                            if row.get("fallback") else ""))
