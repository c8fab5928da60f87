"""The locks that keep one library folder whole while several processes use it.

Two locks, both files in the data folder, both from ``filelock``:

- ``writer.lock`` (``WriterLock``): one writer at a time, for a whole ingest or delete. A second
  writer is told who holds it ("the library at D is being written by PID 123 (newsrag ingest …)")
  and waits up to ``NEWSRAG_LOCK_WAIT`` seconds, then gives up with the same message. Who holds it
  is written beside it in ``writer.json`` (the lock file itself is the operating system's business).
- ``chroma.rwlock`` (``ChromaLock``): Chroma's embedded files may be read by many at once but never
  read while another process writes them (a reader that loads an HNSW segment being rewritten gets
  "Error finding id" or crashes). Readers share it for one question or one listing; a writer holds it
  alone only while one batch goes into Chroma, so questions keep being answered during a long
  ingest. ``filelock.ReadWriteLock`` (SQLite's locking) lets no new reader in while a writer waits.

Both are released by the operating system when their process dies, so a killed writer never leaves
the library locked.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.errors import StoreBusyError

Notify = Callable[[str], None]


def _holder(owner_file: Path) -> str:
    """Who holds the writer lock, as one phrase ("PID 123 (newsrag ingest x/, since 10:02:03)")."""
    try:
        info = json.loads(owner_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "another process"
    command = f"{info.get('command', '')}, " if info.get("command") else ""
    host = f" on {info['host']}" if info.get("host") and info["host"] != socket.gethostname() else ""
    return f"PID {info.get('pid', '?')}{host} ({command}since {info.get('since', '?')})"


class WriterLock:
    """One writer per library folder; re-entrant within a thread, exclusive between threads and processes."""

    def __init__(self, folder: Path, wait: float, notify: Notify | None = None) -> None:
        self.folder = folder
        self.wait = wait
        self.notify = notify
        self.path = folder / "writer.lock"
        self.owner_file = folder / "writer.json"
        self._local = threading.local()
        self._threads = threading.RLock()  # threads of this process queue here, not on the file

    @property
    def depth(self) -> int:
        return int(getattr(self._local, "depth", 0))

    def busy_message(self, waited: float | None = None) -> str:
        tail = (f"gave up after waiting {waited:.0f} s; try again when it has finished, or set NEWSRAG_LOCK_WAIT to "
                "wait longer" if waited is not None else f"waiting up to {self.wait:.0f} s for it to finish")
        return (f"The library at {self.folder} is being written by {_holder(self.owner_file)}; {tail} "
                "(several writers at once need a Chroma server: NEWSRAG_CHROMA_URL).")

    @contextmanager
    def hold(self, blocking: bool = True) -> Iterator[bool]:
        """Hold the lock for the block; yields False (and holds nothing) when ``blocking`` is off and it is taken."""
        if self.depth:
            self._local.depth += 1
            try:
                yield True
            finally:
                self._local.depth -= 1
            return
        if not self._threads.acquire(blocking=False):  # another thread of this process writes
            if not blocking:
                yield False
                return
            if self.notify and self.wait > 0:
                self.notify(self.busy_message())
            started = time.monotonic()
            if not self._threads.acquire(timeout=self.wait):
                raise StoreBusyError(self.busy_message(waited=time.monotonic() - started))
        try:
            lock = self._file_lock()
            if not self._acquire(lock, blocking):
                yield False
                return
            try:
                self._local.depth = 1
                self._write_owner()
                yield True
            finally:
                self._local.depth = 0
                self.owner_file.unlink(missing_ok=True)
                lock.release()
        finally:
            self._threads.release()

    def _file_lock(self) -> Any:
        from filelock import FileLock

        self.folder.mkdir(parents=True, exist_ok=True)
        return FileLock(self.path, thread_local=False)

    def _acquire(self, lock: Any, blocking: bool) -> bool:
        from filelock import Timeout

        try:
            lock.acquire(timeout=0)
            return True
        except Timeout:
            if not blocking:
                return False
        if self.notify and self.wait > 0:
            self.notify(self.busy_message())
        started = time.monotonic()
        try:
            lock.acquire(timeout=self.wait, poll_interval=0.1)
        except Timeout:
            raise StoreBusyError(self.busy_message(waited=time.monotonic() - started)) from None
        return True

    def _write_owner(self) -> None:
        command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv))[:120]
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        tmp = self.owner_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, self.owner_file)


class ChromaLock:
    """Readers share, a writer excludes: around every use of an embedded Chroma folder (see the module doc).

    Each thread has its own ``filelock.ReadWriteLock`` (one SQLite connection), so a writing thread and
    reading threads of one process exclude each other just as processes do. Holds nest within a thread;
    a thread that holds the write hold may read without asking again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _lock(self) -> Any:
        lock = getattr(self._local, "lock", None)
        if lock is None:
            from filelock import ReadWriteLock

            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = self._local.lock = ReadWriteLock(self.path, is_singleton=False)
            self._local.reads = self._local.writes = 0
        return lock

    @property
    def reading_now(self) -> bool:
        return bool(getattr(self._local, "reads", 0) or getattr(self._local, "writes", 0))

    @contextmanager
    def read(self) -> Iterator[bool]:
        """Share the lock for the block; yields True when this is the outermost hold of the thread (the moment
        to look for other processes' writes)."""
        lock = self._lock()
        if self._local.reads or self._local.writes:
            self._local.reads += 1
            try:
                yield False
            finally:
                self._local.reads -= 1
            return
        with lock.read_lock():
            self._local.reads = 1
            try:
                yield True
            finally:
                self._local.reads = 0

    @contextmanager
    def write(self) -> Iterator[None]:
        lock = self._lock()
        if self._local.reads:
            raise RuntimeError("a thread that reads the store cannot write it inside the same hold")
        if self._local.writes:
            self._local.writes += 1
            try:
                yield
            finally:
                self._local.writes -= 1
            return
        with lock.write_lock():
            self._local.writes = 1
            try:
                yield
            finally:
                self._local.writes = 0
