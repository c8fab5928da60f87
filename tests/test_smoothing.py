"""SmoothQuant before int8: the smoothed model computes what the export does, and its int8 vectors are closer to
torch's than plain int8's."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest

import index.onnx_engine as onnx_engine
from index.onnx_engine import OnnxEngine
from index.smoothing import channel_maxima, factors, smooth

# Sentences of no corpus, in the register of news: the calibration texts are the seeds' paragraphs.
NEWS = [
    "The regional council voted 12-3 on Tuesday to close the old footbridge until repairs are finished.",
    "Shares in the shipping group fell 4.2% after it warned that freight rates would stay low into next year.",
    "\"We will not sign an agreement that leaves our farmers worse off,\" the trade minister told reporters.",
    "The striker scored twice in the second half as the visitors came back from two goals down to win 3-2.",
    "Inflation eased to 2.9% in March, the statistics office said, the lowest reading since the autumn of 2021.",
    "Rescue teams searched through the night for six climbers missing after an avalanche near the border pass.",
    "The court adjourned the hearing until June, when the defence is expected to call its first witnesses.",
    "Opposition leaders accused the government of rushing the budget through parliament without a proper debate.",
]


def test_factors_move_an_outlier_channels_range_into_the_weights():
    scale = factors(np.array([100.0, 1.0, 0.0]), np.array([1.0, 1.0, 1.0]), alpha=0.5)
    assert scale[0] == pytest.approx(10.0) and scale[1] == pytest.approx(1.0)
    assert scale[2] == pytest.approx(1e-5 ** 0.5, rel=1e-3)  # a channel never seen active: finite, not zero


def test_the_smoothed_float32_model_computes_what_the_export_does(float32_embedder, tmp_path):
    source = float32_embedder.engine
    folder = tmp_path / "smoothed"
    shutil.copytree(source.folder, folder)
    calibration = [source.feeds([text]) for text in onnx_engine.calibration_texts()]
    model = smooth(source.folder / onnx_engine.ONNX_FILE, calibration)
    assert sum(node.name.endswith("/smooth") for node in model.graph.node) == 36
    onnx.save(model, str(folder / onnx_engine.ONNX_FILE))
    smoothed = OnnxEngine(folder)
    assert np.abs(smoothed.embed(NEWS) - source.embed(NEWS)).max() < 1e-4


def test_channel_maxima_are_each_channels_largest_absolute_value(float32_embedder):
    source = float32_embedder.engine
    model = onnx.load(str(source.folder / onnx_engine.ONNX_FILE))
    output = model.graph.output[0].name  # the last hidden states: tokens x channels
    feeds = [source.feeds([text]) for text in NEWS[:2]]
    maxima = channel_maxima(model, [output], feeds)[output]
    states = [source.session.run([output], f)[0][0] for f in feeds]
    assert np.allclose(maxima, np.max([np.abs(s).max(axis=0) for s in states], axis=0))
    with pytest.raises(ValueError, match="at least one calibration text"):
        channel_maxima(model, [output], [])


def test_smoothquant_brings_int8_vectors_closer_to_torchs(embedder, float32_embedder):
    smoothed = embedder.engine
    name = float32_embedder.engine.folder.name
    plain = OnnxEngine.load_or_export(float32_embedder.model, float32_embedder.cache_dir, name, "int8")
    assert plain is not None and (plain.precision, smoothed.precision) == ("int8", "int8-smooth")
    torchs = float32_embedder.stock().embed(NEWS)
    cosine = {e.precision: np.sum(e.embed(NEWS) * torchs, axis=1) for e in (plain, smoothed)}
    assert cosine["int8-smooth"].mean() > cosine["int8"].mean()
    assert 1 - cosine["int8-smooth"].mean() < 0.5 * (1 - cosine["int8"].mean())  # at most half the error
    spec = json.loads((smoothed.folder / onnx_engine.SPEC_FILE).read_text(encoding="utf-8"))
    assert spec["precision"] == "int8-smooth"
    assert {p.name for p in smoothed.folder.iterdir()} == {onnx_engine.ONNX_FILE, onnx_engine.TOKENIZER_FILE,
                                                           onnx_engine.SPEC_FILE}  # nothing left over
