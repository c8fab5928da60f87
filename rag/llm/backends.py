"""Generative answer backends through llama-index's LLM integrations, registered by name:

- ``openai``: any OpenAI-compatible server (vLLM, llama.cpp's server, LM Studio, OpenAI itself), through
  ``llama-index-llms-openai-like``: ``NEWSRAG_LLM_URL`` (``http://host:port/v1``), ``NEWSRAG_LLM_MODEL`` and
  ``NEWSRAG_LLM_API_KEY``;
- ``ollama``: an Ollama server, through ``llama-index-llms-ollama``: ``NEWSRAG_LLM_URL``
  (``http://localhost:11434`` by default) and ``NEWSRAG_LLM_MODEL``;
- ``llamacpp``: a local GGUF file run in this process, through ``llama-index-llms-llama-cpp``:
  ``NEWSRAG_LLM_MODEL`` is the file's path.

Each is an optional extra (``pip install 'newsrag[openai]'``, ``[ollama]``, ``[llamacpp]``, or ``[llm]`` for all),
imported only when the backend is first used. A backend only talks to its model: the prompt (``rag.llm.prompt``),
the checks (``rag.verify``) and the extractive answer it falls back to are shared and live in the pipeline. Every
failure becomes one ``LLMUnavailableError`` line that says what to do; the key never appears in one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from rag.answer import register
from rag.condense import Query
from rag.config import Settings
from rag.errors import LLMUnavailableError
from rag.llm import prompt
from rag.llm.stream import bounded
from rag.types import Passage

#: backend name → (module to import, extra that installs it)
EXTRAS = {
    "openai": ("llama_index.llms.openai_like", "openai"),
    "ollama": ("llama_index.llms.ollama", "ollama"),
    "llamacpp": ("llama_index.llms.llama_cpp", "llamacpp"),
}
DEFAULT_URLS = {"ollama": "http://localhost:11434"}


class LLMBackend:
    """Streams an LLM's answer to the prompt built from the passages; ``generative`` tells the pipeline to check
    its sentences as they complete and to fall back to the extractive answer."""

    generative = True

    def __init__(self, name: str, settings: Settings, build: Callable[[], Any]) -> None:
        self.name = name
        self.settings = settings
        self._build = build
        self._llm: Any = None
        self._build_lock = threading.Lock()
        #: An in-process model runs one generation at a time (a timed-out one finishes its token first).
        self._run_lock = threading.Lock() if name == "llamacpp" else None

    def _model(self) -> Any:
        with self._build_lock:
            if self._llm is None:
                self._llm = self._build()
            return self._llm

    def _chat(self, messages: Sequence[tuple[str, str]]) -> Iterator[str]:
        """The model's reply, token by token, within ``llm_timeout`` (loading a local model counts)."""
        from llama_index.core.llms import ChatMessage

        chat = [ChatMessage(role=role, content=content) for role, content in messages]

        def start() -> Iterator[str]:
            for response in self._model().stream_chat(chat):
                if response.delta:
                    yield response.delta

        return bounded(start, self.settings.llm_timeout, self.explain, self._run_lock)

    def stream(self, query: Query, passages: list[Passage]) -> Iterator[str]:
        return self._chat(prompt.messages(query.text, passages))

    def answer(self, query: Query, passages: list[Passage]) -> Any:
        """The raw generated answer (its ``[n]`` name passages); ``rag.verify`` checks and maps it."""
        from rag.types import Answer

        text = "".join(self.stream(query, passages))
        return Answer(text=text, citations=[], abstained=False, query=query.text, passages=passages, generated=True)

    def condense(self, question: str, history: Sequence[str]) -> str | None:
        """The follow-up ``question`` as a standalone question, or ``None`` when the model gives no usable one."""
        reply = "".join(self._chat(prompt.condense_messages(question, history)))
        return prompt.standalone_question(reply, question, history)

    def explain(self, exc: BaseException) -> LLMUnavailableError:
        """One line for any failure of the integration: what happened and what to set or start."""
        return LLMUnavailableError(self._secret_free(describe_failure(self.name, self.settings, exc)))

    def _secret_free(self, line: str) -> str:
        key = self.settings.llm_api_key
        return line.replace(key.get_secret_value(), "***") if key and key.get_secret_value() else line


def describe_failure(name: str, settings: Settings, exc: BaseException) -> str:
    if isinstance(exc, LLMUnavailableError):
        return str(exc)
    url = settings.llm_url or DEFAULT_URLS.get(name, "")
    kind = type(exc).__name__
    text = " ".join(str(exc).split())[:200]
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    lowered = f"{kind} {text}".lower()
    if isinstance(exc, ModuleNotFoundError | ImportError):
        return (f"the {name} backend needs its extra: pip install 'newsrag[{EXTRAS[name][1]}]' "
                f"({text or kind})")
    if "timeout" in lowered or "timed out" in lowered:
        return f"the LLM at {url or 'the configured endpoint'} did not answer within {settings.llm_timeout:g} s " \
               f"(NEWSRAG_LLM_TIMEOUT)"
    if status == 404 or "not found" in lowered or "notfound" in lowered:
        return (f"the LLM server at {url} has no model {settings.llm_model!r}: set NEWSRAG_LLM_MODEL to one it "
                f"serves ({text})")
    if status in (401, 403) or "authentication" in lowered or "permission" in lowered:
        return f"the LLM server at {url} refused the request: check NEWSRAG_LLM_API_KEY ({kind})"
    if "connect" in lowered or "refused" in lowered or isinstance(exc, ConnectionError | OSError):
        return f"cannot reach the LLM at {url}: start the server or set NEWSRAG_LLM_URL ({text or kind})"
    return f"the {name} backend failed: {kind}: {text}"


def _require(name: str, settings: Settings) -> None:
    import importlib

    module, extra = EXTRAS[name]
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise LLMUnavailableError(
            f"the {name} backend needs its extra: pip install 'newsrag[{extra}]' ({exc})") from None
    if not settings.llm_model:
        what = "the path of a GGUF file" if name == "llamacpp" else "the name of a model the server serves"
        raise LLMUnavailableError(f"the {name} backend needs NEWSRAG_LLM_MODEL: {what}")
    if name == "openai" and not settings.llm_url:
        raise LLMUnavailableError("the openai backend needs NEWSRAG_LLM_URL, the server's http://host:port/v1")


def _openai(settings: Settings) -> Any:
    from llama_index.llms.openai_like import OpenAILike

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "none"
    return OpenAILike(model=settings.llm_model, api_base=settings.llm_url, api_key=key, is_chat_model=True,
                      is_function_calling_model=False, context_window=settings.llm_context,
                      max_tokens=settings.llm_max_tokens, temperature=0.0, timeout=settings.llm_timeout,
                      max_retries=0, reuse_client=True)


def _ollama(settings: Settings) -> Any:
    from llama_index.llms.ollama import Ollama

    return Ollama(model=settings.llm_model or "", base_url=settings.llm_url or DEFAULT_URLS["ollama"],
                  request_timeout=settings.llm_timeout, temperature=0.0, context_window=settings.llm_context,
                  additional_kwargs={"num_predict": settings.llm_max_tokens})


def _llamacpp(settings: Settings) -> Any:
    """The GGUF file in this process, prompted with the chat template the file carries."""
    from llama_index.llms.llama_cpp import LlamaCPP

    path = Path(settings.llm_model or "")
    if not path.is_file():  # LlamaCPP would download a default model when given no path: never here
        raise LLMUnavailableError(f"no GGUF file at {path}: set NEWSRAG_LLM_MODEL to the path of one")
    _quiet_llama_cpp()
    template: dict[str, Any] = {}

    def to_prompt(messages: Sequence[Any]) -> str:
        return template["format"]([{"role": m.role.value, "content": m.content or ""} for m in messages])

    llm = LlamaCPP(model_path=str(path), temperature=0.0, max_new_tokens=settings.llm_max_tokens,
                   context_window=settings.llm_context, verbose=False,
                   model_kwargs={"n_threads": settings.llm_threads, "verbose": False},
                   messages_to_prompt=to_prompt,
                   completion_to_prompt=lambda text: template["format"]([{"role": "user", "content": text}]))
    template["format"], stop = chat_formatter(llm._model)
    llm.generate_kwargs.update({"stop": stop})
    return llm


_QUIET: list[Any] = []  # the C callback must outlive every model


def _quiet_llama_cpp() -> None:
    """llama.cpp writes its own notes to stderr ("using full-size SWA cache …") whatever ``verbose`` says; a user
    sees one line from us instead, and failures reach them as ``LLMUnavailableError``."""
    if _QUIET:
        return
    import ctypes

    import llama_cpp

    @llama_cpp.llama_log_callback
    def ignore(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        return None

    _QUIET.append(ignore)
    llama_cpp.llama_log_set(ignore, ctypes.c_void_p(0))


def chat_formatter(model: Any) -> tuple[Callable[[list[dict[str, str]]], str], list[str]]:
    """How to write a conversation for the GGUF file, and the strings that end the model's turn: the file's own chat
    template (``tokenizer.chat_template``) when it has one; else, for a base model, llama-index's plain transcript
    ("system: …\nuser: …\nassistant: "), stopped where the model would start the next speaker's line."""
    meta = model.metadata
    source = meta.get("tokenizer.chat_template")
    if not source:
        from llama_index.core.base.llms.generic_utils import messages_to_prompt
        from llama_index.core.llms import ChatMessage

        def transcript(messages: list[dict[str, str]]) -> str:
            return messages_to_prompt([ChatMessage(role=m["role"], content=m["content"]) for m in messages])

        return transcript, ["\nuser:", "\nsystem:", "\nassistant:", "\nUser:", "\nQuestion:"]
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token(key: str) -> str:
        index = meta.get(key)
        return model._model.token_get_text(int(index)) if index is not None else ""

    eos = token("tokenizer.ggml.eos_token_id")
    formatter = Jinja2ChatFormatter(template=source, eos_token=eos, bos_token="")  # the tokenizer adds BOS
    stops = [s for s in dict.fromkeys([eos, "<end_of_turn>", "<|im_end|>", "<|eot_id|>"]) if s and s in source + eos]

    def fmt(messages: list[dict[str, str]]) -> str:
        return formatter(messages=cast(Any, messages)).prompt

    return fmt, stops


_BUILDERS = {"openai": _openai, "ollama": _ollama, "llamacpp": _llamacpp}


def _factory(name: str) -> Callable[[Any], LLMBackend]:
    def make(pipeline: Any) -> LLMBackend:
        settings: Settings = pipeline.settings

        def build() -> Any:
            _require(name, settings)
            return _BUILDERS[name](settings)

        return LLMBackend(name, settings, build)

    return make


for _name in _BUILDERS:
    register(_name, _factory(_name))
