from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class Generation:
    text: str
    ttft_ms: float | None  # time to the first token
    total_ms: float
    tokens: int
    backend: str
    model: str


class Backend:
    name = "base"
    model = ""
    supports_grammar = False  # honours a GBNF ``grammar`` (llama.cpp)

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        grammar: str | None = None,
    ) -> Iterator[str]:
        """``grammar``: GBNF the output must follow, where the backend supports it."""
        raise NotImplementedError

    def generate(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float = 0.2,
        grammar: str | None = None,
    ) -> Generation:
        started = time.perf_counter()
        ttft = None
        parts: list[str] = []
        pieces = self.stream(
            messages, max_tokens=max_tokens, temperature=temperature, grammar=grammar
        )
        for piece in pieces:
            if ttft is None and piece:
                ttft = (time.perf_counter() - started) * 1000.0
            parts.append(piece)
        return Generation(
            text="".join(parts).strip(),
            ttft_ms=ttft,
            total_ms=(time.perf_counter() - started) * 1000.0,
            tokens=len(parts),
            backend=self.name,
            model=self.model,
        )
