"""``newsrag serve``: the Gradio app on this machine (no share link), seeded and warmed up first.

Only click is imported at the top: ``newsrag --help`` must not load Gradio or a model.
"""

from __future__ import annotations

import os
from typing import Any

import click


def _auth() -> Any:
    """``NEWSRAG_AUTH=user:password`` turns on a login page, which refuses logins for a while after five wrong ones
    (``ui.login.LoginGuard``)."""
    raw = os.environ.get("NEWSRAG_AUTH", "").strip()
    if not raw:
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise click.UsageError("NEWSRAG_AUTH must look like user:password.")
    from ui.login import LoginGuard

    return LoginGuard(user, password)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True, help="Port to listen on.")
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int) -> None:
    """Start the chat app in the browser: ask, follow up, and open every cited source."""
    from rag.cli import pipeline_from, user_errors

    @user_errors
    def run() -> None:
        auth = _auth()
        pipeline = pipeline_from(ctx)
        seeded = pipeline.ensure_seeds()
        if seeded is not None:
            click.echo(f"(first use: ingested the seed articles: {seeded.summary()})", err=True)
        click.echo("warming up (loading the embedding model; exporting it for questions on first use)…", err=True)
        pipeline.warm_up()

        from ui.app import build_app, launch

        app = build_app(pipeline)
        _, url, _ = launch(app, host=host, port=port, max_file_bytes=pipeline.settings.max_file_bytes, auth=auth,
                           quiet=True, prevent_thread_lock=True)
        click.echo(f"newsrag is running at {url}  (Ctrl+C to stop)")
        app.block_thread()

    run()
