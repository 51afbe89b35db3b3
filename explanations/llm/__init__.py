"""Text generation backends, chosen by the ``LLM_BACKEND`` setting."""

from __future__ import annotations

from explanations import conf
from explanations.llm.base import Backend, Generation


def get_backend(name: str | None = None) -> Backend:
    name = name or conf.get("LLM_BACKEND")
    if name == "ollama":
        from explanations.llm.ollama_backend import OllamaBackend

        return OllamaBackend()
    if name == "llamacpp":
        from explanations.llm.llamacpp import LlamaCppBackend

        return LlamaCppBackend()
    raise ValueError(f"Unknown LLM backend {name!r}")


__all__ = ["Backend", "Generation", "get_backend"]
