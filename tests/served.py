"""Real servers in subprocesses, on free loopback ports: `newsrag serve` for the UI tests, `chroma run` for the
libraries on a Chroma server."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, log: Path, timeout: float = 150, **env_vars: str) -> tuple[subprocess.Popen, str]:
    """Start `newsrag --data-dir DATA serve --port PORT` (with these environment variables) and wait until it
    answers HTTP."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NEWSRAG_AUTH": "", **env_vars}
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from rag.cli import main; main()", "--data-dir", str(data_dir), "serve",
         "--port", str(port)],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    answering(proc, url + "config", log, timeout, "newsrag serve", ok=(200, 401))  # 401: up, behind its login page
    return proc, url


def answering(proc: subprocess.Popen, probe: str, log: Path, timeout: float, name: str, ok: tuple[int, ...]) -> None:
    """Wait until ``probe`` answers with one of the ``ok`` statuses; a server that exits, or does not answer within
    ``timeout`` seconds (then stopped), is an error showing the end of its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(probe, timeout=2) as resp:
                if resp.status in ok:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code in ok:
                return
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"{name} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def serving(tmp_path_factory, name: str) -> Iterator[str]:
    """Yield the URL of a server with its own store under tmp; stop it afterwards (module fixtures)."""
    tmp = tmp_path_factory.mktemp(name)
    proc, url = start_server(tmp / "store", tmp / "serve.log")
    try:
        yield url
    finally:
        stop_server(proc)


class ChromaServer:
    """A real ``chroma run --path … --port …`` (the chromadb package's server) on a free loopback port, started
    the first time its ``url`` is asked for; ``collection()`` names a collection no other test has used."""

    def __init__(self, folder_factory: Callable[[], Path]) -> None:
        self._folder_factory = folder_factory
        self._process: subprocess.Popen | None = None
        self._url: str | None = None
        self._names = itertools.count(1)
        self._starting = threading.Lock()

    @property
    def url(self) -> str:
        with self._starting:  # threads asking at once start one server, not one each
            if self._url is None:
                self._url = self._start()
        return self._url

    def collection(self) -> str:
        """A fresh collection name (``Settings.collection``), so tests never see each other's data."""
        return f"test-{next(self._names):04d}"

    def _start(self, timeout: float = 120) -> str:
        folder = self._folder_factory()
        port = free_port()
        log_path = folder / "server.log"
        with log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [str(Path(sys.executable).with_name("chroma")), "run", "--path", str(folder / "db"),
                 "--host", "127.0.0.1", "--port", str(port)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            answering(self._process, f"{url}/api/v2/heartbeat", log_path, timeout, "chroma run", ok=(200,))
        except RuntimeError:
            self._process = None  # stopped, or exited by itself
            raise
        return url

    def stop(self) -> None:
        if self._process is not None:
            stop_server(self._process)
            self._process = None
