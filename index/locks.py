"""The locks that keep one library folder whole while several processes use it.

Two locks, both files in the data folder:

- ``writer.lock`` (``WriterLock``, ``filelock.FileLock``): one writer at a time, for a whole ingest or delete. A second
  writer is told who holds it ("the library at D is being written by PID 123 (newsrag ingest …)")
  and waits up to ``NEWSRAG_LOCK_WAIT`` seconds, then gives up with the same message. Who holds it
  is written beside it in ``writer.json`` (the lock file itself is the operating system's business).
- ``chroma.rwlock`` (``ChromaLock``): Chroma's embedded files may be read by many at once but never
  read while another process writes them (a reader that loads an HNSW segment being rewritten gets
  "Error finding id" or crashes). Readers share it for one question or one listing; a writer holds it
  alone only while one batch goes into Chroma, so questions keep being answered during a long
  ingest, and no new reader starts while a writer waits. It is ``flock`` on two files: filelock has
  no shared lock but its SQLite-based ``ReadWriteLock``, which costs about a millisecond a hold.

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


def command_line() -> str:
    """This process's command as a holder of a lock is named by ("newsrag ingest news/")."""
    return " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv))[:120]


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
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command_line(),
                "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        tmp = self.owner_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, self.owner_file)


class ChromaLock:
    """Readers share, a writer excludes: around every use of an embedded Chroma folder (see the module doc).

    ``flock`` on two files beside Chroma's. Each thread opens its own descriptors, and ``flock`` locks belong to an
    open file, so a writing thread and reading threads of one process exclude each other just as processes do. A
    writer first takes ``<name>.intent`` alone and only then waits for the readers in flight, while a new reader has
    to pass ``<name>.intent`` first: no stream of questions can keep a writer out. Holds nest within a thread; a
    thread that holds the write hold may read without asking again. (``filelock.ReadWriteLock`` does the same with
    SQLite, but opens a database connection for every hold: about 1 ms a question, against microseconds here.)
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.intent = path.with_name(path.name + ".intent")
        self._local = threading.local()

    def _files(self) -> _ThreadFiles:
        files: _ThreadFiles | None = getattr(self._local, "files", None)
        if files is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            files = self._local.files = _ThreadFiles(self.path, self.intent)
        return files

    @property
    def reading_now(self) -> bool:
        files = getattr(self._local, "files", None)
        return bool(files and (files.reads or files.writes))

    @contextmanager
    def read(self) -> Iterator[bool]:
        """Share the lock for the block; yields True when this is the outermost hold of the thread (the moment
        to look for other processes' writes)."""
        import fcntl

        files = self._files()
        if files.reads or files.writes:
            files.reads += 1
            try:
                yield False
            finally:
                files.reads -= 1
            return
        fcntl.flock(files.intent, fcntl.LOCK_SH)  # waits while a writer holds it, or waits for the readers
        try:
            fcntl.flock(files.data, fcntl.LOCK_SH)
        finally:
            fcntl.flock(files.intent, fcntl.LOCK_UN)
        files.reads = 1
        try:
            yield True
        finally:
            files.reads = 0
            fcntl.flock(files.data, fcntl.LOCK_UN)

    @contextmanager
    def write(self) -> Iterator[None]:
        import fcntl

        files = self._files()
        if files.reads:
            raise RuntimeError("a thread that reads the store cannot write it inside the same hold")
        if files.writes:
            files.writes += 1
            try:
                yield
            finally:
                files.writes -= 1
            return
        fcntl.flock(files.intent, fcntl.LOCK_EX)  # no new reader from now on
        try:
            fcntl.flock(files.data, fcntl.LOCK_EX)  # the readers in flight have finished
            files.writes = 1
            try:
                yield
            finally:
                files.writes = 0
                fcntl.flock(files.data, fcntl.LOCK_UN)
        finally:
            fcntl.flock(files.intent, fcntl.LOCK_UN)


class _ThreadFiles:
    """One thread's descriptors of the two lock files (closed when the thread's local data goes)."""

    def __init__(self, data: Path, intent: Path) -> None:
        self.data = os.open(data, os.O_RDWR | os.O_CREAT, 0o644)
        self.intent = os.open(intent, os.O_RDWR | os.O_CREAT, 0o644)
        self.reads = self.writes = 0

    def __del__(self) -> None:
        for fd in (self.data, self.intent):
            try:
                os.close(fd)
            except OSError:
                pass
