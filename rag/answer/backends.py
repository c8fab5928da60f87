"""The answer backends' one interface, and the registry that names them.

    register("extractive", factory)      # a factory takes the pipeline that owns the backend
    backend = make_backend("extractive", pipeline)
    answer = backend.answer(query, passages)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from rag.condense import Query
from rag.errors import NotFoundError
from rag.types import Answer, Passage


class AnswerBackend(Protocol):
    name: str

    def answer(self, query: Query, passages: list[Passage]) -> Answer: ...


#: The answer backends by name. Each factory takes the pipeline that owns it.
BACKENDS: dict[str, Callable[..., AnswerBackend]] = {}


def register(name: str, factory: Callable[..., AnswerBackend]) -> None:
    BACKENDS[name] = factory


def make_backend(name: str, pipeline: object) -> AnswerBackend:
    """The backend called ``name``; ``NotFoundError`` listing the valid names otherwise."""
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise NotFoundError(f"Unknown answer backend {name!r}; choose one of: {', '.join(sorted(BACKENDS))}.") from None
    return factory(pipeline)
