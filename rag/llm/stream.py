"""Streaming: tokens from a model, bounded in time, and the events a streamed answer is shown by.

``bounded`` runs a model's token generator in a worker thread and hands its tokens on as they come, so that no
call can hang: a model that has not produced its next token (or its first: connecting and reading the prompt
count) when the call's time is up raises ``LLMUnavailableError`` at once, and the worker stops at its next token.
The HTTP backends also pass the timeout to their client; an in-process model cannot be interrupted mid-token,
which this bounds from the caller's side.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rag.errors import LLMUnavailableError
from rag.types import SentenceSupport


@dataclass(frozen=True)
class Token:
    """Text the model just produced (not yet checked)."""

    text: str


@dataclass(frozen=True)
class Checked:
    """A sentence the model completed, checked against its sources (``rag.verify``); ``cites`` are the source
    numbers it gave."""

    sentence: SentenceSupport


#: What ``Pipeline.ask_stream`` yields before its final ``Answer``.
Event = Token | Checked


def bounded(start: Callable[[], Iterator[str]], timeout: float, translate: Callable[[BaseException], Exception],
            lock: threading.Lock | None = None) -> Iterator[str]:
    """The tokens of ``start()``, each awaited at most until ``timeout`` seconds after the call began; a failure
    in the worker is raised here as ``translate(error)``."""
    tokens: queue.Queue[tuple[str, Any]] = queue.Queue()
    cancel = threading.Event()

    def produce() -> None:
        try:
            if lock is not None:
                lock.acquire()
            try:
                for piece in start():
                    if cancel.is_set():
                        break
                    tokens.put(("token", piece))
            finally:
                if lock is not None:
                    lock.release()
            tokens.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which raises it
            tokens.put(("error", exc))

    threading.Thread(target=produce, name="newsrag-llm", daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                kind, value = tokens.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise LLMUnavailableError(
                    f"the LLM did not answer within {timeout:g} s (NEWSRAG_LLM_TIMEOUT)") from None
            if kind == "token":
                yield value
            elif kind == "end":
                return
            else:
                raise translate(value) from None
    finally:
        cancel.set()
