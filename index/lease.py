"""One writer at a time on a Chroma server, whichever machine it runs on: a lease kept on the server itself.

The data folder's ``WriterLock`` only sees the processes that share that folder. Writers on other machines, each
with a data folder of its own, share nothing but the server, so the lease lives there, as empty collections named
``<collection>-writer-<n>``:

- **Taking it** is creating the collection of the next number. Chroma refuses to create a name that exists, so of
  two writers racing for number n+1 exactly one gets it: the one atomic test-and-set a Chroma server offers.
- **The current lease** is the highest number. It is free when its holder released it (``released`` in its
  metadata) or stopped beating: the holder rewrites a ``beat`` counter every ``ttl / 3`` seconds from a thread of
  its own, and a waiter that sees the same beat for ``ttl`` seconds of its own clock takes the next number. No
  clock is compared across machines, except to skip that wait for a lease whose last beat is over ``LONG_DEAD``
  old by the waiter's clock, and a waiter that holds the data folder the holder wrote from knows it is gone.
- **A holder whose lease was taken** (a process stopped for longer than ``ttl``, then resumed) learns it before
  its next commit (``check``) or at its next beat, and stops with an error instead of writing beside the new
  holder. Between that check and the end of the commit it checked there is no fence: Chroma has no conditional
  write, so a writer stalled inside one commit for longer than ``ttl`` could still finish it.

Numbers only grow, so a lease taken over is never mistaken for the one before it; older ones are deleted.

Written here because nothing in chromadb or llama-index locks a collection, and filelock's locks need a shared
file system.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.locks import Notify, command_line
from rag.errors import StoreBusyError

#: A lease whose last beat is older than this by the waiter's clock is taken at once (no clock is that far off).
LONG_DEAD = 600.0
#: How often a waiter looks at the lease again.
POLL = 0.25
_DIGITS = 10
_LIST_PAGE = 1000
#: In a lease's metadata: only such collections are ever read as leases or deleted.
_MARK = "newsrag_writer_lease"


@dataclass(frozen=True)
class Lease:
    """The current lease as read from the server."""

    number: int
    beat: int
    released: bool
    at: float
    holder: str
    folder: str


def folder_id(folder: Path) -> str:
    """A random id of this data folder, made once (``folder.id``): what tells a waiter that the writer it waits for
    wrote from the very folder whose writer lock the waiter now holds."""
    path = folder / "folder.id"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"folder.id.{os.getpid()}.tmp")
        tmp.write_text(uuid.uuid4().hex, encoding="ascii")
        try:
            os.link(tmp, path)  # first writer wins; a racing one reads the winner's id
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        return path.read_text(encoding="ascii").strip()


def _holder_phrase() -> str:
    return (f"PID {os.getpid()} on {socket.gethostname()} ({command_line()}, "
            f"since {time.strftime('%Y-%m-%d %H:%M:%S')})")


class ServerLease:
    """The writer lease of one collection on a Chroma server (see the module doc). ``hold`` is not re-entrant: the
    store takes it once, inside its folder's ``WriterLock``."""

    def __init__(self, client: Callable[[], Any], collection: str, where: str, folder: Path, ttl: float,
                 wait: float, notify: Notify | None = None) -> None:
        self._client = client
        self.prefix = f"{collection}-writer-"
        self.where = where
        self.folder = folder
        self.ttl = ttl
        self.wait = wait
        self.notify = notify
        self._held: int | None = None
        self._lost: str | None = None
        self._stop = threading.Event()
        self._beater: threading.Thread | None = None
        self._last_beat = 0.0
        self._beats = 0
        self._beat_lock = threading.Lock()
        self._phrase = ""

    # -- reading the server ---------------------------------------------------------------------

    def _name(self, number: int) -> str:
        return f"{self.prefix}{number:0{_DIGITS}d}"

    def _numbers(self) -> list[int]:
        pattern = re.compile(re.escape(self.prefix) + rf"(\d{{{_DIGITS}}})$")
        numbers: list[int] = []
        offset = 0
        while True:  # a page at a time: a server may cap what one listing returns
            page = self._client().list_collections(limit=_LIST_PAGE, offset=offset)
            names = (getattr(c, "name", c) for c in page)
            numbers.extend(int(m.group(1)) for m in map(pattern.match, names) if m)
            if len(page) < _LIST_PAGE:
                return sorted(numbers)
            offset += _LIST_PAGE

    def _read(self, number: int) -> Lease | None:
        try:
            meta = self._client().get_collection(self._name(number), embedding_function=None).metadata or {}
        except Exception as exc:
            if _missing(exc):
                return None
            raise
        if not meta.get(_MARK):  # a collection of someone else's that happens to have such a name: never ours
            return None
        return Lease(number, int(meta.get("beat", 0)), bool(meta.get("released", False)), float(meta.get("at", 0)),
                     str(meta.get("holder", "another writer")), str(meta.get("folder", "")))

    def current(self) -> Lease | None:
        """The lease with the highest number, if any."""
        for number in reversed(self._numbers()):
            lease = self._read(number)
            if lease is not None:
                return lease
        return None

    # -- taking, keeping and giving back --------------------------------------------------------

    def _metadata(self, beat: int, released: bool = False) -> dict[str, Any]:
        return {_MARK: True, "holder": self._phrase, "folder": folder_id(self.folder), "beat": beat,
                "at": time.time(), "released": released}

    def _try_take(self, number: int) -> bool:
        """Create lease ``number``; False when another writer created it first (or a later one exists)."""
        try:
            self._client().create_collection(self._name(number), metadata=self._metadata(0),
                                             embedding_function=None)
        except Exception as exc:
            if _exists(exc):
                return False
            raise
        if self._read(number + 1) is not None:  # we raced against a lease made after one we had not seen
            self._delete(number)
            return False
        return True

    def _delete(self, number: int) -> None:
        try:
            self._client().delete_collection(self._name(number))
        except Exception as exc:
            if not _missing(exc):
                raise

    def busy_message(self, lease: Lease, waited: float | None = None) -> str:
        tail = (f"gave up after waiting {waited:.0f} s; try again when it has finished, or set NEWSRAG_LOCK_WAIT to "
                "wait longer" if waited is not None else f"waiting up to {self.wait:.0f} s for it to finish")
        return f"The library {self.where} is being written by {lease.holder}; {tail}."

    @contextmanager
    def hold(self, blocking: bool = True) -> Iterator[bool]:
        """Be the collection's one writer for the block; yields False (holding nothing) when ``blocking`` is off and
        another writer holds it. Raises ``StoreBusyError`` after ``wait`` seconds."""
        if not self._take(blocking):
            yield False
            return
        try:
            yield True
        finally:
            self._release()

    def _take(self, blocking: bool) -> bool:
        self._phrase = _holder_phrase()
        started = time.monotonic()
        seen: tuple[int, int] | None = None
        seen_since = started
        told = False
        while True:
            lease = self.current()
            if lease is None or self._free(lease, seen, seen_since):
                number = lease.number + 1 if lease else 1
                if self._try_take(number):
                    self._held, self._lost = number, None
                    for old in self._numbers():
                        if old < number and self._read(old) is not None:
                            self._delete(old)
                    self._start_beating()
                    return True
                lease = self._read(number + 1) or self._read(number) or lease  # who won the race
                if lease is None:
                    continue
            if not blocking:
                return False
            now = time.monotonic()
            if (lease.number, lease.beat) != seen:
                seen, seen_since = (lease.number, lease.beat), now
            if now - started >= self.wait:
                raise StoreBusyError(self.busy_message(lease, waited=now - started))
            if self.notify and not told and self.wait > 0:
                self.notify(self.busy_message(lease))
                told = True
            time.sleep(POLL)

    def _free(self, lease: Lease, seen: tuple[int, int] | None, seen_since: float) -> bool:
        if lease.released or time.time() - lease.at > LONG_DEAD:
            return True
        if lease.folder and lease.folder == folder_id(self.folder):
            return True  # its writer held this folder's writer lock, which we hold now: it is gone
        return seen == (lease.number, lease.beat) and time.monotonic() - seen_since >= self.ttl

    def _release(self) -> None:
        number, self._held = self._held, None
        self._stop.set()
        if self._beater is not None:
            self._beater.join()
            self._beater = None
        if number is None or self._lost:
            return
        try:
            self._client().get_collection(self._name(number), embedding_function=None).modify(
                metadata=self._metadata(self._beats, released=True))
        except Exception:  # the server went away: the lease goes stale and is taken over after ``ttl``
            pass

    # -- the heartbeat --------------------------------------------------------------------------

    def _start_beating(self) -> None:
        self._stop = threading.Event()
        self._beats = 0
        self._last_beat = time.monotonic()
        self._beater = threading.Thread(target=self._beat_loop, name="newsrag-lease", daemon=True)
        self._beater.start()

    def _beat_loop(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            number = self._held
            if number is None:
                return
            if not self._beat(number):
                return

    def _beat(self, number: int) -> bool:
        """One beat; False once the lease is lost (taken over, or the server unreachable for ``ttl``)."""
        try:
            if self._read(number + 1) is not None:
                self._lost = "another writer took it over"
                return False
            with self._beat_lock:
                self._beats += 1
                self._client().get_collection(self._name(number), embedding_function=None).modify(
                    metadata=self._metadata(self._beats))
                self._last_beat = time.monotonic()
        except Exception as exc:  # the server did not answer: keep trying until the lease would be stale
            if time.monotonic() - self._last_beat > self.ttl:
                self._lost = f"the server did not answer for {self.ttl:.0f} s ({exc})"
                return False
        return True

    def check(self) -> None:
        """Before a commit: raise ``StoreBusyError`` when this writer no longer holds the lease (a stopped process ran
        no heartbeat meanwhile, so a stale beat is renewed here, asking the server first)."""
        number = self._held
        if number is None:
            return
        # While the last beat is under ttl/2 old, no waiter can have seen one beat stand for ttl: the lease is ours.
        # Past that (a busy or stopped process), beat now, which first asks the server whether it was taken over.
        if self._lost is None and time.monotonic() - self._last_beat > self.ttl / 2:
            self._beat(number)
        if self._lost:
            raise StoreBusyError(
                f"This process lost its hold on the library {self.where} ({self._lost}; a lease lapses after "
                f"{self.ttl:.0f} s without a beat) and stopped before writing more. What it had committed is kept; "
                "run the command again.")


def _exists(exc: BaseException) -> bool:
    return "already exists" in str(exc).lower() or type(exc).__name__ == "UniqueConstraintError"


def _missing(exc: BaseException) -> bool:
    text = str(exc).lower()
    return type(exc).__name__ == "NotFoundError" or "does not exist" in text or "not found" in text
