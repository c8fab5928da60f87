"""The few errors newsrag shows to its users.

Only the edges (the CLI and the UI) catch these; every message says what went wrong and what
to do next.
"""

from __future__ import annotations

from pathlib import Path


class NewsragError(Exception):
    """An error whose message is meant for the user."""


class InputError(NewsragError):
    """An input file that cannot become an article: the store is left as it was."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self) -> tuple[type[InputError], tuple[Path, str]]:  # sent back from a worker process
        return type(self), (self.path, self.reason)


class ModelUnavailableError(NewsragError):
    """A model that would have to be downloaded, on a machine that must stay offline."""


class NotFoundError(NewsragError):
    """An article, backend or file that the user named does not exist."""


class StoreError(NewsragError):
    """The library (the Chroma folder or server) cannot be opened, read or written as it is."""


class StoreBusyError(StoreError):
    """Another process is writing to the same library folder, and waiting for it took too long."""


class ModelMismatchError(StoreError):
    """The library was built with another embedding model: its vectors and this model's cannot be compared."""


class QuestionError(NewsragError):
    """A question that cannot be asked as it is (too long, say)."""


class LLMUnavailableError(NewsragError):
    """A generative backend that cannot answer now: its extra is not installed, its server cannot be reached,
    it has no such model, or it did not answer in time. The pipeline answers extractively instead and shows
    this one line."""
