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

A new library is built with int8 weights (``Precision``): the float32 export's matrix products quantised by ONNX
Runtime (``quantise``), each text run on its own. On news sentences that embeds about 2.6x as fast as float32 in
batches. Plain int8 ("int8") is at cosine 0.993 on average to torch's vectors; "int8-smooth", the default, first
applies SmoothQuant (``index.smoothing``, calibrated on the seed articles' paragraphs) and is at 0.998, at the same
speed. A library records its precision (``index.store.ModelRecord``) and keeps it: one built in float32 is still
asked in float32, one built in plain int8 in plain int8.

sentence-transformers' own ``backend="onnx"`` needs ``optimum``, which pins transformers below 4.58, older
than sentence-transformers 6 allows, and it imports torch anyway: the export, the tokenizer run and the
pooling (a masked mean or the first token, then L2 normalisation) are therefore done here. Only models that
are a text transformer, a mean or CLS pooling and an optional normalisation are exported; on any other the
torch model does the work. An export is used only when it gives torch's vectors (``TOLERANCE``).

    engine = OnnxEngine.load_or_export(model, Path(".newsrag/models"))   # None: use torch
    engine = OnnxEngine.load_or_export(model, Path(".newsrag/models"), precision="int8-smooth")
    engine = OnnxEngine.load(Path(".newsrag/models") / export_name(folder))  # no torch; None if not exported
    vectors = engine.embed(["What did Okonjo say in Tampere?"])
"""

from __future__ import annotations

import dataclasses
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
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

if TYPE_CHECKING:
    from onnx import ModelProto
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
#: The weights' precision: "float32" gives torch's vectors; "int8" stores the matrix products' weights as 8-bit
#: integers (ONNX Runtime's dynamic quantisation, a scale per output channel) and runs them about 1.8x as fast, with
#: vectors at cosine 0.993 to torch's on average (news sentences); "int8-smooth" does the same after SmoothQuant
#: (``index.smoothing``), at cosine 0.998 and the same speed. A library keeps the precision it was built with.
Precision = Literal["float32", "int8", "int8-smooth"]
PRECISIONS: tuple[Precision, ...] = get_args(Precision)
#: Where SmoothQuant's calibration texts come from: the seed articles' paragraphs, which every checkout has, so that
#: every machine makes the same export.
CALIBRATION_DIR = Path(__file__).resolve().parent.parent / "seeds"
#: The lowest cosine to torch's vector, on each of CHECKS, for an int8 export to be used.
INT8_COSINE = 0.97


@dataclass(frozen=True)
class ExportSpec:
    """What runs the exported transformer as the sentence-transformers model does (``export.json``)."""

    max_tokens: int
    pooling: Literal["mean", "cls"]
    normalize: bool
    inputs: tuple[str, ...]
    dimension: int
    probe: tuple[float, ...]  # the export's vector of PROBE when made (torch's, for float32), checked at every load
    precision: Precision = "float32"

    @classmethod
    def read(cls, path: Path) -> ExportSpec:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(int(raw["max_tokens"]), raw["pooling"], bool(raw["normalize"]), tuple(raw["inputs"]),
                   int(raw["dimension"]), tuple(float(x) for x in raw["probe"]), raw.get("precision", "float32"))


def folder_name(name: str, precision: Precision) -> str:
    """The export folder of ``precision`` for the float32 export named ``name``.

    >>> folder_name("m-0123", "float32"), folder_name("m-0123", "int8")
    ('m-0123', 'm-0123-int8')
    """
    return name if precision == "float32" else f"{name}-{precision}"


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
        if self.spec.precision != "float32":
            # One text at a time is too little work to share between cores: one thread embeds it as fast, and leaves
            # the other core to the entity recogniser that runs beside it during ingestion (together 4.4 s against
            # 6.8 s with two threads, for 100 articles' sentences).
            options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])

    @property
    def dimension(self) -> int:
        return self.spec.dimension

    @property
    def precision(self) -> Precision:
        return self.spec.precision

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
    def load_or_export(cls, model: SentenceTransformer, cache_dir: Path, name: str | None = None,
                       precision: Precision = "float32") -> OnnxEngine | None:
        """The engine for ``model`` at ``precision`` (exported into ``cache_dir / name`` on first use, ``name`` by
        default from the weights, and quantised beside it for int8); None (torch does the work) when the model
        cannot be exported or its export's vectors differ. An int8 export whose vectors stray from torch's
        (``INT8_COSINE``) is not used: the float32 one is."""
        name = name or fingerprint(model)
        engine = cls._float32(model, cache_dir / name)
        if engine is None or precision == "float32":
            return engine
        folder = cache_dir / folder_name(name, precision)
        if (quantised := cls.load(folder)) is not None:
            return quantised
        try:
            quantise(engine.folder, folder, smooth=precision == "int8-smooth")
            quantised = cls(folder)
        except Exception as exc:  # onnxruntime.quantization raises many kinds; all mean "use float32"
            if (quantised := cls.load(folder)) is not None:  # another process quantised it first
                return quantised
            log.warning("Texts are embedded in float32: the int8 quantisation failed (%s).", exc)
            return engine
        cosine = float(np.min(_cosines(quantised.embed(list(CHECKS)), torch_vectors(model, list(CHECKS)))))
        if cosine < INT8_COSINE:
            log.warning("Texts are embedded in float32: int8 vectors are at cosine %.3f to torch's.", cosine)
            shutil.rmtree(folder, ignore_errors=True)
            return engine
        return quantised

    @classmethod
    def _float32(cls, model: SentenceTransformer, folder: Path) -> OnnxEngine | None:
        """The float32 export in ``folder``, made if need be and checked against torch (``TOLERANCE``)."""
        if (spec := spec_of(model)) is None:
            log.info("The embedding model is not a plain text transformer with mean or CLS pooling; torch runs it.")
            return None
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
        """The texts' vectors. int8 weights take one text per call: their dynamic quantisation scales a call's
        activations as a whole, so in a batch a text's vector would depend on the others (cosine 0.98 to its own
        vector alone); alone, it is the same vector whenever it is embedded, and no faster in a batch here."""
        if self.spec.precision != "float32" and len(texts) > 1:
            return np.concatenate([self._run([text]) for text in texts])
        return self._run(texts)

    def feeds(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The transformer's inputs for ``texts``, padded to the longest."""
        given = self._encode(texts)
        return {name: given[name] for name in self.spec.inputs}

    def _encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        encodings = self.tokenizer.encode_batch(texts)
        return {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}

    def _run(self, texts: list[str]) -> np.ndarray:
        given = self._encode(texts)
        mask = given["attention_mask"]
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


def quantise(source: Path, folder: Path, smooth: bool = False) -> None:
    """Writes an int8 copy of the float32 export in ``source`` into ``folder``, atomically: ONNX Runtime's dynamic
    quantisation of the matrix products' weights, a scale per output channel (a scale per matrix loses more: cosine
    0.95 to torch's vectors on average, against 0.99), after SmoothQuant on the calibration texts with ``smooth``
    (precision "int8-smooth"). Its ``export.json`` holds its own vector of PROBE."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from index.smoothing import smooth as smooth_model

    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(suffix=".partial", dir=folder.parent))
    try:
        model: Path | ModelProto = source / ONNX_FILE
        if smooth:
            engine = OnnxEngine(source)
            model = smooth_model(source / ONNX_FILE, (engine.feeds([text]) for text in calibration_texts()))
        # It logs advice to pre-process the model (shape inference), which changes nothing here, through
        # ``logging.warning``, which gives the root logger a handler: every library's debug lines would then print.
        root, advice, handlers = logging.getLogger(), _DropAdvice(), list(logging.getLogger().handlers)
        root.addFilter(advice)
        try:
            quantize_dynamic(model, partial / ONNX_FILE, per_channel=True, weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul"])
        finally:
            root.removeFilter(advice)
            root.handlers[:] = handlers
        shutil.copyfile(source / TOKENIZER_FILE, partial / TOKENIZER_FILE)
        precision: Precision = "int8-smooth" if smooth else "int8"
        spec = dataclasses.replace(ExportSpec.read(source / SPEC_FILE), precision=precision)
        (partial / SPEC_FILE).write_text(json.dumps(asdict(spec)), encoding="utf-8")
        probe = OnnxEngine(partial).embed([PROBE])[0]
        spec = dataclasses.replace(spec, probe=tuple(float(x) for x in probe))
        _publish(partial, folder, spec)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def calibration_texts() -> list[str]:
    """SmoothQuant's calibration texts: every paragraph of the seed articles (``CALIBRATION_DIR``), then CHECKS."""
    paragraphs = [part.strip() for path in sorted(CALIBRATION_DIR.glob("*.txt"))
                  for part in path.read_text(encoding="utf-8").split("\n\n")]
    return [text for text in paragraphs if text] + list(CHECKS)


class _DropAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Please consider to run pre-processing")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The cosine of each row of ``a`` to the same row of ``b``."""
    norms = np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
    return np.sum(a * b, axis=1) / norms


def _publish(partial: Path, folder: Path, spec: ExportSpec) -> None:
    """Writes ``spec`` into the finished ``partial`` folder and renames it into place as ``folder``."""
    (partial / SPEC_FILE).write_text(json.dumps(asdict(spec)), encoding="utf-8")
    for path in partial.iterdir():
        os.chmod(path, 0o644)
    os.chmod(partial, 0o755)
    shutil.rmtree(folder, ignore_errors=True)  # a damaged export of the same name
    os.replace(partial, folder)


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
        _publish(partial, folder, spec)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"
