"""The reliability suite (`make test-reliability`): real `newsrag` processes killed with SIGKILL at each step of a
write, concurrent writers, an ingest while the app answers questions, hostile inputs. Every module here marks its
tests ``reliability``; the figures they measure are written to ``tests/artifacts/reliability.json`` and printed at the
end of the run (the README quotes them)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
FIGURES: dict[str, object] = {}


@pytest.fixture(scope="session")
def figures() -> dict[str, object]:
    """What the suite measured, by name: counts and timings, reported as they were."""
    return FIGURES


@pytest.fixture(scope="session", autouse=True)
def _model_exported(embedder) -> None:
    """The model's int8 (SmoothQuant) export made once, before any `newsrag` process starts: each one reads it (through
    NEWSRAG_MODELS_DIR, which ``tests/conftest.py`` sets), as newsrag runs on any machine after its first ingest, and
    builds libraries with the same vectors as the test's own pipelines."""
    assert embedder.engine is not None and embedder.engine.precision == "int8-smooth"


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "reliability.json").write_text(json.dumps(FIGURES, indent=2, default=str) + "\n")
    terminalreporter.section("reliability figures (tests/artifacts/reliability.json)")
    for name, value in FIGURES.items():
        if not isinstance(value, list):
            terminalreporter.write_line(f"{name}: {value}")


def newsrag(data_dir: Path, *args: str, fault: str | None = None, timeout: float = 600,
            **env: str) -> subprocess.CompletedProcess:
    """Run `newsrag --data-dir DATA ARGS…` as its own process (killed at ``fault``, when given)."""
    environ = {**os.environ, **env}
    environ.pop("NEWSRAG_FAULT", None)
    if fault:
        environ["NEWSRAG_FAULT"] = fault
    with _ctrl_c_heard() if fault and fault.endswith(":INT") else contextlib.nullcontext():
        return subprocess.run([sys.executable, "-c", "from rag.cli import main; main()", "--data-dir", str(data_dir),
                               *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def _ctrl_c_heard() -> Iterator[None]:
    """Processes started inside hear SIGINT even when this test run ignores it. A shell starts a background job
    (`make test-reliability &`) with SIGINT ignored, an ignored signal stays ignored across exec, and Python then
    installs no KeyboardInterrupt handler: the Ctrl-C that ``NEWSRAG_FAULT=…:INT`` sends would be ignored, rightly,
    and the ingest would run to its end. A handler, unlike SIG_IGN, is reset to the default by exec."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def newsrag_started(data_dir: Path, *args: str, log: Path, **env: str) -> subprocess.Popen:
    environ = {**os.environ, **env}
    environ.pop("NEWSRAG_FAULT", None)
    return subprocess.Popen([sys.executable, "-c", "from rag.cli import main; main()", "--data-dir", str(data_dir),
                             *args], cwd=ROOT, env=environ, stdout=log.open("wb"), stderr=subprocess.STDOUT)
