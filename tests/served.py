"""A real `newsrag serve` in a subprocess, on a free loopback port, for the UI tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, log: Path, timeout: float = 150, **env_vars: str) -> tuple[subprocess.Popen, str]:
    """Start `newsrag --data-dir DATA serve --port PORT` (with these environment variables) and wait until it
    answers HTTP."""
    import urllib.error
    import urllib.request

    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NEWSRAG_AUTH": "", **env_vars}
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from rag.cli import main; main()", "--data-dir", str(data_dir), "serve",
         "--port", str(port)],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"newsrag serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "config", timeout=2) as resp:
                if resp.status == 200:
                    return proc, url
        except urllib.error.HTTPError as exc:  # 401: up, behind its login page
            if exc.code == 401:
                return proc, url
            time.sleep(0.5)
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError(f"newsrag serve did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


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
