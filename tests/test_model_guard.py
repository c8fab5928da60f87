"""The library remembers its embedding model (name, dimension, the vector of a probe sentence): any other model is
refused with a message before it reads or writes, whether it has the same dimension with other weights or another
dimension altogether. The other models are real sentence-transformers models made here from the packaged one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from index.embed import SentenceTransformerEmbedder, resolve_model
from index.store import PROBE
from rag.cli import cli
from rag.config import PACKAGED_MODEL, Settings
from rag.errors import ModelMismatchError
from rag.pipeline import Pipeline

NEW = "Aldmoor council approves footbridge\n\nThe council of Aldmoor voted 12-3 on Monday to build a footbridge.\n"


@pytest.fixture(scope="module")
def other_models(tmp_path_factory) -> dict[str, Path]:
    """Two models that are not the library's: MiniLM with its last layer's weights shifted (384 dimensions, other
    vectors), and MiniLM followed by a dense layer to 256 dimensions."""
    import torch
    from sentence_transformers import SentenceTransformer, models

    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    shifted = SentenceTransformer(resolve_model(PACKAGED_MODEL), device="cpu")
    with torch.no_grad():
        for weight in shifted[0].auto_model.encoder.layer[-1].parameters():
            weight.add_(torch.randn_like(weight) * 0.05)
    shifted.save(str(folder / "minilm-shifted"))
    base = SentenceTransformer(resolve_model(PACKAGED_MODEL), device="cpu")
    smaller = SentenceTransformer(modules=[base[0], base[1], models.Dense(384, 256)], device="cpu")
    smaller.save(str(folder / "minilm-256"))
    return {"shifted": folder / "minilm-shifted", "256": folder / "minilm-256"}


@pytest.fixture
def library(seeded, tmp_path) -> Path:
    """A copy of a library built with the packaged model."""
    data = tmp_path / "store"
    shutil.copytree(seeded.settings.data_dir, data)
    return data


def test_the_library_records_the_model_it_was_built_with(seeded, embedder):
    record = seeded.store.model_record()
    assert record is not None and record.name == PACKAGED_MODEL and record.dimension == 384
    assert record.precision == "int8-smooth" and record.label == f"{PACKAGED_MODEL} (int8-smooth)"
    assert record.matches(type(record).of(PACKAGED_MODEL, embedder.embed([PROBE])[0], "int8-smooth"))
    assert not record.matches(type(record).of(PACKAGED_MODEL, embedder.embed([PROBE])[0], "int8"))
    assert not record.matches(type(record).of(PACKAGED_MODEL, embedder.embed([PROBE])[0], "float32"))


@pytest.mark.parametrize("model", ["shifted", "256"])
def test_another_model_can_neither_add_to_nor_ask_the_library(library, other_models, tmp_path, model):
    other = Pipeline(Settings(data_dir=library), embedder=SentenceTransformerEmbedder(str(other_models[model])))
    before = sorted(other.store.chunks.get(include=[])["ids"])
    article = tmp_path / "bridge.txt"
    article.write_text(NEW, encoding="utf-8")

    with pytest.raises(ModelMismatchError) as adding:
        other.ingest([article])
    with pytest.raises(ModelMismatchError) as asking:
        other.ask("What did Lavrov say in Manila?")

    dimensions = {"shifted": 384, "256": 256}[model]
    for error in (adding, asking):
        message = str(error.value)
        assert message.startswith(f"The library at {library} was built with the embedding model "
                                  f"'{PACKAGED_MODEL} (int8-smooth)' (384 dimensions); '{other_models[model]}' "
                                  f"({dimensions} dimensions) gives other vectors")
        assert f"Use NEWSRAG_EMBED_MODEL={PACKAGED_MODEL}" in message and "--data-dir" in message
    assert sorted(other.store.chunks.get(include=[])["ids"]) == before  # nothing was written


def test_the_cli_says_so_in_one_line(library, other_models):
    result = CliRunner(env={"NEWSRAG_RAISE": None}).invoke(
        cli, ["--data-dir", str(library), "--embed-model", str(other_models["256"]), "ask", "--json", "Who met?"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "was built with the embedding model" in result.stderr
    assert "Traceback" not in result.output


def test_the_same_model_under_another_name_is_the_same_model(library):
    same = Pipeline(Settings(data_dir=library, embed_model=resolve_model(PACKAGED_MODEL)))  # its folder, not its name
    assert not same.ask("How did the Senate vote on the sanctions bill?").abstained


def test_a_new_library_is_built_in_smoothed_int8_and_an_older_int8_or_float32_one_keeps_its_precision(tmp_path):
    article = tmp_path / "bridge.txt"
    article.write_text(NEW, encoding="utf-8")
    for precision in ("int8-smooth", "int8", "float32"):
        built = Pipeline(Settings(data_dir=tmp_path / precision, embed_precision=precision))
        built.ingest([article])
        record = built.store.model_record()
        assert record is not None and record.precision == precision
        again = Pipeline(Settings(data_dir=tmp_path / precision))  # today's default, int8-smooth, asks every one
        assert again.embedder.precision == precision  # type: ignore[attr-defined]
        answer = again.ask("How did the Aldmoor council vote on the footbridge?")
        assert not answer.abstained and "12-3" in answer.text


def test_article_vectors_of_another_precision_are_refused_and_questions_still_asked(library, float32_embedder,
                                                                                  tmp_path):
    # a smoothed int8 library given float32 article vectors (as when this machine could not quantise the model)
    other = Pipeline(Settings(data_dir=library), embedder=float32_embedder)
    assert not other.ask("What did Lavrov say in Manila?").abstained  # its questions are embedded in float32 anyway
    article = tmp_path / "bridge.txt"
    article.write_text(NEW, encoding="utf-8")
    with pytest.raises(ModelMismatchError) as error:
        other.ingest([article])
    assert (f"built with the embedding model '{PACKAGED_MODEL} (int8-smooth)' (384 dimensions); '{PACKAGED_MODEL}' "
            "(384 dimensions) gives other vectors") in str(error.value)
    assert "Its int8-smooth vectors could not be made here" in str(error.value)


def test_a_library_from_before_models_were_recorded_is_checked_by_dimension(library, other_models):
    from index.store import Store

    store = Store(Settings(data_dir=library))
    store.manifest.modify(metadata={"recorded": "nothing"})  # as an older newsrag left it: no model
    assert store.model_record() is None
    other = Pipeline(Settings(data_dir=library), embedder=SentenceTransformerEmbedder(str(other_models["256"])))
    with pytest.raises(ModelMismatchError, match="'another model' \\(384 dimensions\\)"):
        other.ask("Who met?")
    assert json.loads(json.dumps(store.manifest.metadata)) == {"recorded": "nothing"}


def test_an_int8_library_stores_int8_vectors_and_is_asked_in_float32(library, embedder, float32_embedder, tmp_path):
    import numpy as np

    pipeline = Pipeline(Settings(data_dir=library), embedder=embedder)
    question = "How did the Aldmoor council vote on the footbridge?"
    # the question is embedded as float32 embeds it (one side's rounding error, not two)
    assert np.allclose(pipeline.embed_query(question), float32_embedder.embed([question])[0], atol=1e-5)
    assert not np.allclose(pipeline.embed_query(question), embedder.embed([question])[0], atol=1e-3)
    article = tmp_path / "bridge.txt"
    article.write_text(NEW, encoding="utf-8")
    assert pipeline.ingest([article]).ok  # the library's model check passes: it still writes int8-smooth
    stored = pipeline.store.sentences.get(where={"doc_id": pipeline.store.articles()[-1].doc_id},
                                          include=["embeddings"])["embeddings"]
    sentence = "The council of Aldmoor voted 12-3 on Monday to build a footbridge."
    assert any(np.allclose(v, embedder.embed([sentence])[0], atol=1e-5) for v in stored)
    answer = pipeline.ask(question)
    assert not answer.abstained and "12-3" in answer.text
    # a float32 library is asked by the embedder it was built with
    assert Pipeline(Settings(data_dir=tmp_path / "f32"), embedder=float32_embedder).query_embedder is float32_embedder


def test_a_library_recorded_before_the_question_probe_is_asked_and_gains_it_at_its_next_ingest(library, embedder,
                                                                                               tmp_path):
    from dataclasses import replace

    from index.store import Store

    store = Store(Settings(data_dir=library))
    record = store.model_record()
    assert record is not None and record.query_probe  # a library built today records both probes
    store.record_model(replace(record, query_probe=()))
    assert Store(Settings(data_dir=library)).model_record().query_probe == ()  # type: ignore[union-attr]
    pipeline = Pipeline(Settings(data_dir=library), embedder=embedder)
    assert not pipeline.ask("What did Lavrov say in Manila?").abstained  # checked by its article vectors' probe
    article = tmp_path / "bridge.txt"
    article.write_text(NEW, encoding="utf-8")
    assert pipeline.ingest([article]).ok
    assert Store(Settings(data_dir=library)).model_record() == record
