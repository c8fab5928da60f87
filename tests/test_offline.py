"""Offline: tests cannot reach the network, the packaged model works without it, and a model that is not
on disk fails at once with a message saying what to do (it must never hang on a download)."""

from __future__ import annotations

import os
import socket
import time

import numpy as np
import pytest
import pytest_socket

from index.embed import SentenceTransformerEmbedder, resolve_model
from rag.config import PACKAGED_MODEL
from rag.errors import ModelUnavailableError


def test_the_network_is_blocked_in_tests():
    """Only loopback is allowed (conftest), so pytest-socket raises its "connect blocked" error."""
    with pytest.raises(pytest_socket.SocketConnectBlockedError, match="93.184.216.34"):
        socket.create_connection(("93.184.216.34", 80), timeout=5)


def test_the_packaged_model_is_a_folder_on_disk():
    assert os.path.isdir(resolve_model(PACKAGED_MODEL))


def test_the_packaged_model_loads_offline_and_embeds(embedder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    vectors = embedder.embed(["Lavrov met Tillerson", "Tillerson met Lavrov", "football results"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[2])
    lavrov, tillerson, football = vectors
    assert lavrov @ tillerson > lavrov @ football
    assert lavrov @ tillerson > 0.8 > lavrov @ football


def test_the_same_text_embeds_to_the_same_vector(embedder):
    a, b = embedder.embed(["Russia annexed Crimea in March 2014.", "Russia annexed Crimea in March 2014."])
    assert np.allclose(a, b)


def test_embedding_nothing_gives_an_empty_matrix(embedder):
    assert embedder.embed([]).shape == (0, 384)


@pytest.mark.timeout(60)
def test_a_hub_model_that_is_not_on_disk_fails_fast_with_what_to_do():
    started = time.monotonic()
    with pytest.raises(ModelUnavailableError) as info:
        SentenceTransformerEmbedder("sentence-transformers/all-mpnet-base-v2").embed(["x"])
    assert time.monotonic() - started < 30
    message = str(info.value)
    assert "sentence-transformers/all-mpnet-base-v2" in message
    assert "NEWSRAG_EMBED_MODEL" in message or "local" in message
    assert "NEWSRAG_ALLOW_DOWNLOAD" in message


@pytest.mark.timeout(60)
def test_a_local_path_that_does_not_exist_fails_fast_too(tmp_path):
    with pytest.raises(ModelUnavailableError, match="NEWSRAG_EMBED_MODEL"):
        SentenceTransformerEmbedder(str(tmp_path / "no-such-model")).embed(["x"])
