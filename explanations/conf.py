"""This app's settings with their defaults, read through one place.

The settings are declared in ``config/settings/base.py``; the defaults here keep the app working
in a checkout where that shared file has not been committed with them yet.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "EDGAR_USER_AGENT": "StockPred research platform admin@localhost",
    "EDGAR_DATA_URL": "https://data.sec.gov",
    "EDGAR_ARCHIVES_URL": "https://www.sec.gov",
    "RAG_EF_SEARCH": 64,
    "EXPLANATION_CACHE_SECONDS": 300,
    "LLM_MAX_TOKENS": 100,
    "EXPLANATION_BUDGET_MS": 2500,
    "LLM_BACKEND": "llamacpp",
    "LLM_THREADS": 2,
    "OLLAMA_HOST": "http://127.0.0.1:11434",
    "OLLAMA_MODEL": "llama3.1:8b-instruct-q4_K_M",
    "TORCH_THREADS": 1,
    "EMBEDDING_ENCODER": "torch-bf16",
    "EMBEDDING_QUERY_ENCODER": "onnx",
    "LLM_GRAMMAR": True,
    "LLM_GRAMMAR_FIRST": True,
    "EMBEDDING_THREADS": 2,
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
