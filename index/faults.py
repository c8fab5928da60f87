"""Test-only fault injection: a process that must die at a named point of a write kills itself there.

The reliability tests (``tests/reliability/``) start real ``newsrag`` processes with
``NEWSRAG_FAULT=POINT`` or ``NEWSRAG_FAULT=POINT:N``; the N-th time (the first, without ``:N``) that
process reaches ``reached(POINT)``, it sends itself SIGKILL: no ``finally``, no ``atexit``, no flush,
as a power cut or the OOM killer would. ``POINT:N:INT`` sends SIGINT instead, as Ctrl-C would. Unset (always,
outside those tests), ``reached`` is one comparison of a module constant. The points, in the order a write passes them:

- ``chunks``: a batch of an article's chunk rows has been written;
- ``sentences``: a batch of its sentence vectors has been written;
- ``complete``: all of them are written, the article is not yet marked complete;
- ``delete``: an old version is marked for deletion and its chunks are gone, its sentences not yet;
- ``bm25``: the BM25 cache's files are written into their temporary folder, not yet moved into place.
"""

from __future__ import annotations

import os
import signal

POINTS = ("chunks", "sentences", "complete", "delete", "bm25")

_SPEC = os.environ.get("NEWSRAG_FAULT", "")
_POINT, _NTH, _SIGNAL = (_SPEC.split(":") + ["", ""])[:3]
_seen: dict[str, int] = {}


def reached(point: str) -> None:
    """Die here (SIGKILL, or SIGINT when asked) when ``NEWSRAG_FAULT`` names this point and this is the time it asks
    for."""
    if not _SPEC or point != _POINT:
        return
    _seen[point] = _seen.get(point, 0) + 1
    if _seen[point] == int(_NTH or 1):
        os.kill(os.getpid(), signal.SIGINT if _SIGNAL == "INT" else signal.SIGKILL)
