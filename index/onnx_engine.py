"""The embedding model's transformer exported to ONNX once, then run by ONNX Runtime without torch.

A fifteen-token question costs torch about 9 ms on these CPUs, mostly per-operator overhead; the same
weights under ONNX Runtime take about 3 ms and give the same vectors (within 3e-7). Ingestion's long
lists, sorted by length and batched (``SentenceTransformerEmbedder``), take about half torch's time too.

An export is a folder of its own: the transformer (``model.onnx``), the model's tokenizer (``tokenizer.json``,
run by Hugging Face ``tokenizers``) and ``export.json`` (how many tokens the model reads, how it pools them,
whether it normalises, and torch's vector of a probe sentence). Reading one needs neither torch nor
sentence-transformers (4-5 s of imports and loading on these machines), so a cold ``newsrag ask`` on a library
whose export exists starts in about half the time. The folder is named after the model folder's files (names,
sizes, modification times), so it is found without loading the model; a model given by hub name is loaded and
named by its weights.

sentence-transformers' own ``backend="onnx"`` needs ``optimum``, which pins transformers below 4.58, older
than sentence-transformers 6 allows, and it imports torch anyway: the export, the tokenizer run and the
pooling (a masked mean or the first token, then L2 normalisation) are therefore done here. Only models that
are a text transformer, a mean or CLS pooling and an optional normalisation are exported; on any other the
torch model does the work. An export is used only when it gives torch's vectors (``TOLERANCE``).

    engine = OnnxEngine.load_or_export(model, Path(".newsrag/models"))   # None: use torch
    engine = OnnxEngine.load(Path(".newsrag/models") / export_name(folder))  # no torch; None if not exported
    vectors = engine.embed(["What did Okonjo say in Tampere?"])
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

#: The ONNX operator set the transformer is exported with.
OPSET = 17
#: Largest difference from torch's vector, on the probe texts, for an export to be used.
TOLERANCE = 1e-4
PROBE = "Norland's foreign minister spoke to reporters in Tampere on Sunday."
#: What an export is checked on against torch before it is kept: a short text, a long one cut at the model's
#: token limit, one with accents and punctuation, and an empty one.
CHECKS = (PROBE, "The council met again. " * 120, "Café-owners in Zürich (and São Paulo) said: «no»!", "")
#: The files of an export folder.
ONNX_FILE, TOKENIZER_FILE, SPEC_FILE = "model.onnx", "tokenizer.json", "export.json"


@dataclass(frozen=True)
class ExportSpec:
    """What runs the exported transformer as the sentence-transformers model does (``export.json``)."""

    max_tokens: int
    pooling: Literal["mean", "cls"]
    normalize: bool
    inputs: tuple[str, ...]
    dimension: int
    probe: tuple[float, ...]  # torch's vector of PROBE, checked again at every load

    @classmethod
    def read(cls, path: Path) -> ExportSpec:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(int(raw["max_tokens"]), raw["pooling"], bool(raw["normalize"]), tuple(raw["inputs"]),
                   int(raw["dimension"]), tuple(float(x) for x in raw["probe"]))


def export_name(model_folder: str | Path) -> str | None:
    """The export folder's name for a model on disk, from its files' names, sizes and modification times and the
    torch and opset versions; None for a model that is not a local folder (a hub name)."""
    folder = Path(model_folder)
    if not folder.is_dir():
        return None
    h = hashlib.sha256(f"{_version('torch')}\0{OPSET}\0{folder.resolve()}".encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        h.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return "m-" + h.hexdigest()[:24]


def fingerprint(model: SentenceTransformer) -> str:
    """The export folder's name for a loaded model (one given by hub name): its weights and the torch and opset
    versions."""
    import torch

    transformer: Any = model[0].model
    h = hashlib.sha256(f"{torch.__version__}\0{OPSET}\0{type(transformer).__name__}".encode())
    with torch.inference_mode():
        for name, tensor in transformer.state_dict().items():
            h.update(f"{name}{tuple(tensor.shape)}{float(tensor.double().sum()):.9e}".encode())
    return "w-" + h.hexdigest()[:24]


def spec_of(model: SentenceTransformer) -> tuple[Literal["mean", "cls"], bool] | None:
    """The pooling and normalisation of a model that is a text transformer, a mean or CLS pooling and an optional
    normalisation; None for any other model (torch runs it)."""
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    modules = list(model)
    first = modules[0]
    if not (isinstance(first, Transformer) and first.module_output_name == "token_embeddings"
            and first.modality_config.get("text") == {"method": "forward", "method_output_name": "last_hidden_state"}
            and not getattr(first.model.config, "output_hidden_states", False) and not first.do_lower_case):
        return None
    if len(modules) not in (2, 3) or not isinstance(modules[1], Pooling):
        return None
    if len(modules) == 3 and not isinstance(modules[2], Normalize):
        return None
    mode = getattr(modules[1], "pooling_mode", None)
    if mode not in ("mean", "cls") or getattr(modules[1], "include_prompt", True) is not True:
        return None
    return mode, len(modules) == 3


class OnnxEngine:
    """An export folder in an ONNX Runtime session, with its tokenizer: texts in, the model's vectors out."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = folder
        self.spec = ExportSpec.read(folder / SPEC_FILE)
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self.tokenizer.enable_truncation(max_length=self.spec.max_tokens)
        self.tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        self.session = ort.InferenceSession(str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])

    @property
    def dimension(self) -> int:
        return self.spec.dimension

    @classmethod
    def load(cls, folder: Path) -> OnnxEngine | None:
        """The export in ``folder``, or None when there is none, it cannot be read, or it no longer gives the
        vector torch gave at export time."""
        if not (folder / SPEC_FILE).is_file():
            return None
        try:
            engine = cls(folder)
            drift = float(np.abs(engine.embed([PROBE])[0] - np.asarray(engine.spec.probe)).max())
        except Exception as exc:  # a damaged folder of any kind: export again
            log.warning("The ONNX export in %s cannot be read (%s); it is made again.", folder, exc)
            return None
        if drift > TOLERANCE:
            log.warning("The ONNX export in %s differs from torch by %.1e; it is made again.", folder, drift)
            return None
        return engine

    @classmethod
    def load_or_export(cls, model: SentenceTransformer, cache_dir: Path, name: str | None = None) -> OnnxEngine | None:
        """The engine for ``model`` (exported into ``cache_dir / name`` on first use, ``name`` by default from the
        weights); None (torch does the work) when the model cannot be exported or its export's vectors differ."""
        if (spec := spec_of(model)) is None:
            log.info("The embedding model is not a plain text transformer with mean or CLS pooling; torch runs it.")
            return None
        folder = cache_dir / (name or fingerprint(model))
        if (engine := cls.load(folder)) is not None:
            return engine
        try:
            export(model, folder, *spec)
            engine = cls(folder)
        except Exception as exc:  # torch.onnx and onnxruntime raise many kinds; all mean "use torch"
            if (engine := cls.load(folder)) is not None:  # another process exported it first
                return engine
            log.warning("Texts are embedded with torch: the ONNX export failed (%s).", exc)
            return None
        drift = float(np.abs(engine.embed(list(CHECKS)) - torch_vectors(model, list(CHECKS))).max())
        if drift > TOLERANCE:
            log.warning("Texts are embedded with torch: the ONNX export differs by %.1e.", drift)
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return engine

    def embed(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        given = {"input_ids": ids, "attention_mask": mask,
                 "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        (states,) = self.session.run(None, {name: given[name] for name in self.spec.inputs})
        if self.spec.pooling == "cls":
            vectors = states[:, 0]
        else:
            weights = mask[:, :, None].astype(states.dtype)
            vectors = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        if self.spec.normalize:
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def torch_vectors(model: SentenceTransformer, texts: list[str]) -> np.ndarray:
    return np.asarray(model.encode(texts, normalize_embeddings=True, convert_to_numpy=True,
                                   show_progress_bar=False), dtype=np.float32)


def export(model: SentenceTransformer, folder: Path, pooling: Literal["mean", "cls"], normalize: bool) -> None:
    """Writes the model's transformer, tokenizer and ``export.json`` into ``folder``, atomically: a folder is
    renamed into place whole, so a half-written export is never read."""
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

    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(suffix=".partial", dir=folder.parent))
    try:
        with warnings.catch_warnings():  # the TorchScript exporter's notes on opset choices, not actionable
            warnings.simplefilter("ignore")
            torch.onnx.export(Wrapped(), tuple(features[n] for n in names), str(partial / ONNX_FILE),
                              input_names=names, output_names=["token_embeddings"], opset_version=OPSET, dynamo=False,
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "token_embeddings"]})
        (partial / TOKENIZER_FILE).write_text(model.tokenizer.backend_tokenizer.to_str(), encoding="utf-8")
        probe = torch_vectors(model, [PROBE])[0]
        if model.max_seq_length is None:
            raise ValueError("the model sets no token limit to cut texts at")
        spec = ExportSpec(int(model.max_seq_length), pooling, normalize, tuple(names), int(len(probe)),
                          tuple(float(x) for x in probe))
        (partial / SPEC_FILE).write_text(json.dumps(asdict(spec)), encoding="utf-8")
        for path in partial.iterdir():
            os.chmod(path, 0o644)
        os.chmod(partial, 0o755)
        shutil.rmtree(folder, ignore_errors=True)  # a damaged export of the same name
        os.replace(partial, folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"
