"""Embedding: questions through an ONNX export of the model with torch's vectors, each distinct text
embedded once, several new ones in a single model call."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import index.onnx_engine as onnx_engine
from index.embed import QueryVectors, SentenceTransformerEmbedder
from index.onnx_engine import OnnxEngine
from rag.config import Settings
from rag.pipeline import Pipeline

QUESTIONS = ["What did Lavrov say in Manila?", "How many senators voted against the sanctions bill?",
             "Who is Maria Zakharova?", "When will Putin visit India, and what will he discuss with Modi?"]


def test_questions_go_through_onnx_and_get_torchs_vectors(float32_embedder):
    assert float32_embedder.engine is not None
    assert float32_embedder.engine.folder.parent == float32_embedder.cache_dir
    onnx = float32_embedder.embed(QUESTIONS)
    torch_ = float32_embedder.stock().embed(QUESTIONS)
    assert np.abs(onnx - torch_).max() < 1e-5
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-6)
    assert onnx.dtype == np.float32 and onnx.shape == (4, float32_embedder.dimension)


def test_texts_past_the_models_token_limit_empty_or_accented_get_torchs_vectors_too(float32_embedder):
    texts = ["The council met again. " * 200, "", "  ", "Café-owners in Zürich said «non» — 12.5% (​)", "a" * 3000]
    assert np.abs(float32_embedder.embed(texts) - float32_embedder.stock().embed(texts)).max() < 1e-5


@pytest.mark.parametrize("precision", ["int8-smooth", "float32"])
def test_an_export_on_disk_is_read_without_torch_or_sentence_transformers(embedder, float32_embedder, precision):
    # A cold process on a library whose export exists: the question is embedded, torch is never imported.
    embedder = {"int8-smooth": embedder, "float32": float32_embedder}[precision]
    assert embedder.engine is not None and embedder.engine.precision == precision
    script = f"""
import sys
import numpy as np
from pathlib import Path
from index.embed import SentenceTransformerEmbedder
e = SentenceTransformerEmbedder(runtime="onnx", cache_dir=Path({str(embedder.cache_dir)!r}), precision={precision!r})
vector = e.embed([{QUESTIONS[0]!r}])[0]
print(e.dimension, " ".join(f"{{x:.6f}}" for x in vector))
print(sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout.splitlines()
    dimension, *numbers = out[0].split()
    assert int(dimension) == embedder.dimension
    assert np.abs(np.array(numbers, dtype=float) - embedder.embed(QUESTIONS[:1])[0]).max() < 1e-5
    assert out[1] == "[]"


def test_long_lists_go_through_onnx_longest_first_in_batches_and_come_back_in_order(float32_embedder, monkeypatch):
    # texts of very different lengths, in no order, over two batches: the engine sees each batch sorted by length
    texts = [("The council met again. " * (i % 7 + 1)) + f"Item {i}." for i in range(float32_embedder.batch_size + 6)]
    seen: list[list[int]] = []
    engine = float32_embedder.engine
    inner = engine.embed
    monkeypatch.setattr(engine, "embed", lambda batch: seen.append([len(t) for t in batch]) or inner(batch))
    onnx = float32_embedder.embed(texts)
    torch_ = float32_embedder.stock().embed(texts)
    assert [len(b) for b in seen] == [float32_embedder.batch_size, 6]
    assert all(b == sorted(b, reverse=True) for b in seen) and min(seen[0]) >= max(seen[1])
    assert np.abs(onnx - torch_).max() < 1e-5  # row i is text i's vector, as torch gives it


def test_the_export_is_made_once_and_then_read(float32_embedder, monkeypatch):
    first = float32_embedder.engine  # exported into the run's folder
    assert first is not None
    monkeypatch.setattr(onnx_engine, "export", lambda *a: pytest.fail("exported again"))
    again = OnnxEngine.load_or_export(float32_embedder.model, float32_embedder.cache_dir, first.folder.name)
    assert again is not None and again.folder == first.folder
    assert OnnxEngine.load(first.folder) is not None


def test_int8_weights_are_quantised_from_the_float32_export_beside_it_and_stay_close_to_torch(embedder,
                                                                                              float32_embedder):
    int8, float32 = embedder.engine, float32_embedder.engine
    assert int8 is not None and float32 is not None
    assert (int8.precision, float32.precision) == ("int8-smooth", "float32")
    assert int8.folder == float32.folder.with_name(float32.folder.name + "-int8-smooth")
    size = {e.precision: (e.folder / onnx_engine.ONNX_FILE).stat().st_size for e in (int8, float32)}
    assert size["int8-smooth"] < 0.7 * size["float32"]  # a byte a weight; the word-piece table stays float32
    texts = [*QUESTIONS, "The council met again. " * 200, "", "Café-owners in Zürich said «non» — 12.5%"]
    ours, torchs = embedder.embed(texts), float32_embedder.stock().embed(texts)
    cosines = np.sum(ours * torchs, axis=1)
    assert cosines.min() >= onnx_engine.INT8_COSINE and cosines.mean() >= 0.98
    assert np.abs(ours - torchs).max() > 1e-3  # other vectors: a library built with them records int8-smooth
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_int8_weights_that_stray_from_torch_are_not_used(float32_embedder, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(onnx_engine, "INT8_COSINE", 1.01)  # no cosine is that high
    handlers = list(logging.getLogger().handlers)
    with caplog.at_level(logging.WARNING):
        engine = OnnxEngine.load_or_export(float32_embedder.model, tmp_path, "m-export", "int8")
    assert engine is not None and engine.precision == "float32"
    assert "embedded in float32" in caplog.text and "pre-processing" not in caplog.text
    assert logging.getLogger().handlers == handlers  # the quantiser's logging.warning added no handler to the root
    assert [p.name for p in tmp_path.iterdir()] == ["m-export"]


def test_a_damaged_export_is_made_again(embedder, tmp_path):
    folder = tmp_path / "m-export"
    assert OnnxEngine.load_or_export(embedder.model, tmp_path, folder.name) is not None
    (folder / onnx_engine.ONNX_FILE).write_bytes(b"half a model")
    assert OnnxEngine.load(folder) is None
    again = OnnxEngine.load_or_export(embedder.model, tmp_path, folder.name)
    assert again is not None and np.abs(again.embed(QUESTIONS) - embedder.stock().embed(QUESTIONS)).max() < 1e-5


def test_the_export_is_named_after_the_model_folders_files(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"1234")
    name = onnx_engine.export_name(model)
    assert name == onnx_engine.export_name(model) and name is not None
    (model / "weights.bin").write_bytes(b"12345")  # new weights: a new export
    assert onnx_engine.export_name(model) != name
    assert onnx_engine.export_name("some-org/some-hub-model") is None  # not on disk: named by its weights once loaded


def test_a_failed_export_leaves_no_file_and_torch_does_the_work(embedder, tmp_path, monkeypatch, caplog):
    import torch

    def half_write(model, args, path, **kwargs):
        open(path, "wb").write(b"not a whole model")
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(torch.onnx, "export", half_write)
    with caplog.at_level(logging.WARNING):
        assert OnnxEngine.load_or_export(embedder.model, tmp_path) is None
    assert "embedded with torch" in caplog.text and "exporter crashed" in caplog.text
    assert list(tmp_path.iterdir()) == []


def test_an_export_whose_vectors_drift_is_not_used(embedder, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(onnx_engine, "TOLERANCE", -1.0)  # any difference at all counts as drift
    with caplog.at_level(logging.WARNING):
        assert OnnxEngine.load_or_export(embedder.model, tmp_path) is None
    assert "differs by" in caplog.text
    assert list(tmp_path.iterdir()) == []


def test_the_torch_runtime_writes_no_export(embedder, tmp_path):
    torch_only = SentenceTransformerEmbedder(runtime="torch", cache_dir=tmp_path)
    torch_only._model = embedder.model  # the loaded model, not a second copy
    assert torch_only.engine is None
    assert torch_only.embed(QUESTIONS[:1]).shape == (1, embedder.dimension)
    assert list(tmp_path.iterdir()) == []


def test_the_export_is_kept_outside_the_library_and_shared_by_every_library(tmp_path, monkeypatch):
    embedder = Pipeline(Settings(data_dir=tmp_path / "data")).embedder
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.runtime == "onnx" and embedder.cache_dir == Settings(data_dir=tmp_path / "other").models_dir
    assert Pipeline(Settings(data_dir=tmp_path, embed_runtime="torch")).embedder.runtime == "torch"
    monkeypatch.delenv("NEWSRAG_MODELS_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert Settings().models_dir == tmp_path / "cache" / "newsrag" / "models"
    monkeypatch.setenv("NEWSRAG_MODELS_DIR", str(tmp_path / "mine"))
    assert Settings().models_dir == tmp_path / "mine"


def test_a_text_asked_again_is_not_embedded_again(counting):
    vectors = QueryVectors(counting)
    first = vectors("What did Lavrov say in Manila?")
    again = vectors("What did Lavrov say in Manila?")
    assert counting.calls == 1
    assert np.array_equal(first, again)


def test_priming_embeds_only_the_new_texts_in_one_call(counting, embedder):
    vectors = QueryVectors(counting)
    vectors("Who met in Manila?")
    vectors.prime(["Who met in Manila?", "Who met in Bonn?", "Who met in Hamburg?", "Who met in Bonn?"])
    assert (counting.calls, counting.texts) == (2, 3)  # one call for the first, one for the two new texts
    alone = embedder.embed(["Who met in Bonn?"])[0]
    assert np.allclose(vectors("Who met in Bonn?"), alone, atol=1e-5)  # a batch gives the same vector
    assert counting.calls == 2


def test_only_the_most_recent_texts_are_kept(counting):
    vectors = QueryVectors(counting, size=2)
    vectors.prime(["a quokka", "a wombat"])
    vectors("a quokka")  # used again: now the most recent
    vectors("a koala")  # evicts "a wombat"
    calls = counting.calls
    vectors("a quokka")
    assert counting.calls == calls
    vectors("a wombat")
    assert counting.calls == calls + 1


def test_a_remembered_vector_is_the_embedded_one_and_is_read_back_without_the_weights(tmp_path):
    from index.embed import SentenceTransformerEmbedder

    first = SentenceTransformerEmbedder(runtime="onnx", cache_dir=tmp_path, precision="float32")
    text = "The council of Aldmoor voted 12-3 on Monday."
    vector = first.remembered(text)
    assert np.allclose(vector, first.embed([text])[0], atol=1e-6)
    later = SentenceTransformerEmbedder(runtime="onnx", cache_dir=tmp_path, precision="float32")  # another process
    assert np.allclose(later.remembered(text), vector, atol=1e-6)
    assert later._engine is None and later._model is None  # nothing was loaded to give it
