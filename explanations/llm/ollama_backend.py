"""The production backend: an Ollama server (``OLLAMA_HOST``, model ``OLLAMA_MODEL``) through
the ``ollama`` client, streaming ``POST /api/chat``."""

from __future__ import annotations

from collections.abc import Iterator

from explanations import conf
from explanations.llm.base import Backend
from explanations.llm.llamacpp import STOP


class OllamaBackend(Backend):
    name = "ollama"

    def __init__(self, host: str | None = None, model: str | None = None) -> None:
        import ollama

        self.model = model or conf.get("OLLAMA_MODEL")
        self.client = ollama.Client(host=host or conf.get("OLLAMA_HOST"), timeout=60)

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        grammar: str | None = None,  # GBNF is llama.cpp's; a large model needs no such help
    ) -> Iterator[str]:
        for part in self.client.chat(
            model=self.model,
            messages=messages,
            stream=True,
            options={"temperature": temperature, "num_predict": max_tokens, "stop": STOP},
        ):
            piece = part.message.content if part.message else ""
            if piece:
                yield piece
            if part.done:
                break
