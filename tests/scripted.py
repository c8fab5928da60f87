"""A scripted LLM for the pipeline's tests: a real llama-index ``CustomLLM`` whose reply is a function of the prompt
it is sent, streamed three characters a token. The real models run in ``tests/test_llm_real.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llama_index.core.llms import CompletionResponse, CompletionResponseGen, CustomLLM, LLMMetadata


class ScriptedLLM(CustomLLM):
    """Replies ``reply(prompt)``, three characters a token."""

    reply: Callable[[str], str]
    prompts: list[str] = []

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(is_chat_model=False)

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self.reply(prompt))

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        self.prompts.append(prompt)
        text = self.reply(prompt)
        for i in range(0, len(text), 3):
            yield CompletionResponse(text=text[: i + 3], delta=text[i : i + 3])
