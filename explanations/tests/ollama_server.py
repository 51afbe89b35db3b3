"""Ollama's streaming chat protocol, as a route for the ``http_server`` fixture.

``POST /api/chat`` with ``{"model", "messages", "stream": true, "options"}`` answers
``application/x-ndjson``: one JSON object per line, ``{"model", "created_at", "message":
{"role": "assistant", "content": <piece>}, "done": false}``, then a final object with
``"done": true``, ``done_reason`` and the timing counters Ollama reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator


def chat_route(answers: list[str]):
    """Answers the n-th request with ``answers[n]`` (the last one repeats), word by word."""
    calls = {"n": 0}

    def handler(request: dict) -> tuple[int, dict, Iterator[bytes]]:
        body = json.loads(request["body"])
        text = answers[min(calls["n"], len(answers) - 1)]
        calls["n"] += 1

        def lines() -> Iterator[bytes]:
            words = text.split(" ")
            for i, word in enumerate(words):
                piece = word if i == 0 else " " + word
                yield (
                    json.dumps(
                        {
                            "model": body["model"],
                            "created_at": "2025-07-09T21:00:00.000000Z",
                            "message": {"role": "assistant", "content": piece},
                            "done": False,
                        }
                    )
                    + "\n"
                ).encode()
            yield (
                json.dumps(
                    {
                        "model": body["model"],
                        "created_at": "2025-07-09T21:00:01.000000Z",
                        "message": {"role": "assistant", "content": ""},
                        "done": True,
                        "done_reason": "stop",
                        "total_duration": 812345678,
                        "load_duration": 1234567,
                        "prompt_eval_count": 212,
                        "prompt_eval_duration": 123456789,
                        "eval_count": len(words),
                        "eval_duration": 654321000,
                    }
                )
                + "\n"
            ).encode()

        return 200, {"Content-Type": "application/x-ndjson"}, lines()

    return handler
