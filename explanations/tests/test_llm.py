"""Both generation backends for real: the embedded llama.cpp model, and the Ollama client
against a local server speaking Ollama's streaming chat protocol."""

from __future__ import annotations

import json

from django.test import override_settings

from explanations.llm import get_backend
from explanations.llm.llamacpp import gguf_path
from explanations.tests.ollama_server import chat_route

MESSAGES = [
    {"role": "system", "content": "Answer in one short sentence."},
    {"role": "user", "content": "What is a stock?"},
]


def test_it_finds_the_gguf_inside_the_wheel():
    path = gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000


def test_it_generates_with_the_embedded_model():
    with override_settings(LLM_BACKEND="llamacpp", LLM_THREADS=1):
        generation = get_backend().generate(MESSAGES, max_tokens=8)
    assert generation.backend == "llamacpp"
    assert generation.text  # the model produced text
    assert 1 <= generation.tokens <= 8
    assert generation.ttft_ms is not None and generation.ttft_ms <= generation.total_ms


def test_it_streams_from_an_ollama_server(http_server):
    answer = "A stock is a share in the ownership of a company."
    base, recorder = http_server({("POST", "/api/chat"): chat_route([answer])})
    with override_settings(LLM_BACKEND="ollama", OLLAMA_HOST=base, OLLAMA_MODEL="llama3.1:8b"):
        generation = get_backend().generate(MESSAGES, max_tokens=32)
    assert generation.text == answer
    assert generation.tokens == len(answer.split(" "))
    sent = json.loads(recorder.requests[0]["body"])
    assert sent["model"] == "llama3.1:8b"
    assert sent["stream"] is True
    assert sent["messages"] == MESSAGES
    assert sent["options"]["num_predict"] == 32
