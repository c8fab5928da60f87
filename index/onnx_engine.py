"""Short texts (questions) through ONNX Runtime: the model's transformer exported once, run without torch.

A fifteen-token question costs torch about 9 ms on these CPUs, mostly per-operator overhead; the same
weights under ONNX Runtime take about 3 ms and give the same vectors (within 3e-7). Ingestion's long
lists, sorted by length and batched (``SentenceTransformerEmbedder``), take about half torch's time too.

sentence-transformers' own ``backend="onnx"`` needs ``optimum``, which pins transformers below 4.58,
older than sentence-transformers 6 allows, so the export is done here with ``torch.onnx``. Only the
transformer is exported: tokenising, pooling, dense layers and normalising stay the model's own modules.

    engine = OnnxEngine.load_or_export(model, Path(".newsrag/models"))   # None: use torch
    vectors = engine.embed(["What did Okonjo say in Tampere?"])
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

#: The ONNX operator set the transformer is exported with.
OPSET = 17
#: Largest difference from torch's vector, on a probe sentence, for the export to be used.
TOLERANCE = 1e-4
PROBE = "Norland's foreign minister spoke to reporters in Tampere on Sunday."


def supported(model: SentenceTransformer) -> bool:
    """Whether the model is a text transformer whose token states the model's other modules pool."""
    from sentence_transformers.base.modules import Transformer

    first = model[0]
    return (isinstance(first, Transformer) and first.module_output_name == "token_embeddings"
            and first.modality_config.get("text") == {"method": "forward", "method_output_name": "last_hidden_state"}
            and not getattr(first.model.config, "output_hidden_states", False))


def fingerprint(model: SentenceTransformer) -> str:
    """Names an export: changes with the weights (a sum and shape per tensor) and the torch and opset versions."""
    import torch

    transformer: Any = model[0].model
    h = hashlib.sha256(f"{torch.__version__}\0{OPSET}\0{type(transformer).__name__}".encode())
    with torch.inference_mode():
        for name, tensor in transformer.state_dict().items():
            h.update(f"{name}{tuple(tensor.shape)}{float(tensor.double().sum()):.9e}".encode())
    return h.hexdigest()[:24]


class OnnxEngine:
    """The model's transformer in an ONNX Runtime session; the model's own modules do the rest."""

    def __init__(self, model: SentenceTransformer, path: Path) -> None:
        import onnxruntime as ort

        self.model = model
        self.path = path
        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    @classmethod
    def load_or_export(cls, model: SentenceTransformer, cache_dir: Path) -> OnnxEngine | None:
        """The engine for ``model``, exported into ``cache_dir`` on first use; None (torch is used) when
        the model cannot be exported, ``onnx`` is missing, or the export's vectors differ from torch's."""
        if not supported(model):
            log.info("Embedding model is not a plain text transformer; questions are embedded with torch.")
            return None
        path = cache_dir / f"{fingerprint(model)}.onnx"
        try:
            if not path.exists():
                export(model, path)
            engine = cls(model, path)
        except Exception as exc:  # torch.onnx and onnxruntime raise many kinds; all mean "use torch"
            log.warning("Questions are embedded with torch: the ONNX export failed (%s).", exc)
            return None
        drift = float(np.abs(engine.embed([PROBE]) - torch_vectors(model, [PROBE])).max())
        if drift > TOLERANCE:
            log.warning("Questions are embedded with torch: the ONNX export differs by %.1e.", drift)
            return None
        return engine

    def embed(self, texts: list[str]) -> np.ndarray:
        import torch

        features = self.model.preprocess(texts)
        feed = {name: features[name].numpy().astype(np.int64) for name in self.inputs}
        (states,) = self.session.run(None, feed)
        features["token_embeddings"] = torch.from_numpy(states)
        with torch.inference_mode():
            for module in list(self.model)[1:]:
                features = module(features)
            vectors = torch.nn.functional.normalize(features["sentence_embedding"], p=2, dim=1)
        return vectors.numpy().astype(np.float32)


def torch_vectors(model: SentenceTransformer, texts: list[str]) -> np.ndarray:
    return np.asarray(model.encode(texts, normalize_embeddings=True, convert_to_numpy=True,
                                   show_progress_bar=False), dtype=np.float32)


def export(model: SentenceTransformer, path: Path) -> None:
    """Writes the model's transformer to ``path`` (atomically: a half-written file is never read)."""
    import torch

    transformer: Any = model[0].model
    transformer.eval()
    features = model.preprocess([PROBE])
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in features]

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *tensors: Any) -> Any:
            return self.inner(**dict(zip(names, tensors, strict=True)), return_dict=False)[0]

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(suffix=".onnx.partial", dir=path.parent)
    os.close(fd)
    try:
        with warnings.catch_warnings():  # the TorchScript exporter's notes on opset choices, not actionable
            warnings.simplefilter("ignore")
            torch.onnx.export(Wrapped(), tuple(features[n] for n in names), partial, input_names=names,
                              output_names=["token_embeddings"], opset_version=OPSET, dynamo=False,
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "token_embeddings"]})
        os.chmod(partial, 0o644)
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)
