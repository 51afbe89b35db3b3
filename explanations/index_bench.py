"""``python manage.py bench index [--transcripts 60] [--encoder onnx] --json``: embedding
throughput of the knowledge base and retrieval quality against the reference encoder.

The corpus is the chunks of the first ``--transcripts`` transcripts of the shared data set
(what bulk indexing embeds); nothing is written to the database. ``chunks_per_s`` times
``embed()`` over the whole corpus after the encoder is loaded (``load_ms``).
``recall_at_5_vs_reference``: for the labelled queries of ``eval/retrieval_queries.json`` the
share of the reference encoder's top 5 chunks (sentence-transformers on PyTorch, the encoder
the index was built with) that the encoder under test also ranks in its top 5, over the whole
corpus (no symbol filter, the harder case). ``encoder_used`` is what really ran (``torch-bf16``
falls back to ``onnx`` on a CPU without bf16); ``load_1m`` is the machine's 1-minute load average
before and after, since the figures are only comparable at a similar load.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

QUERIES_FILE = Path(__file__).resolve().parent / "eval" / "retrieval_queries.json"


def corpus(transcripts: int) -> tuple[list[str], list[str]]:
    """(chunk texts, symbol of each transcript in order) of the first transcripts."""
    from explanations.sources.transcripts import iter_transcripts

    texts: list[str] = []
    symbols: list[str] = []
    for spec in iter_transcripts(limit=transcripts):
        texts += [c.text for c in spec.chunks]
        if spec.symbol not in symbols:
            symbols.append(spec.symbol)
    return texts, symbols


def queries(symbols: list[str]) -> list[str]:
    spec = json.loads(QUERIES_FILE.read_text())
    return [f"{s} {topic}" for s in symbols[: int(spec["symbols"])] for topic in spec["topics"]]


def top5(query_vectors: np.ndarray, chunk_vectors: np.ndarray) -> list[set[int]]:
    scores = query_vectors @ chunk_vectors.T
    return [set(np.argsort(-row, kind="stable")[:5].tolist()) for row in scores]


def recall_at_5(encoder: str, chunk_vectors: np.ndarray, texts: list[str], qs: list[str]) -> float:
    from explanations.embeddings import embed

    reference_chunks = embed(texts, encoder="torch")
    expected = top5(embed(qs, encoder="torch"), reference_chunks)
    found = top5(embed(qs, encoder=encoder), chunk_vectors)
    hits = sum(len(e & f) for e, f in zip(expected, found, strict=True))
    return hits / (5 * len(qs))


def run_index_bench(transcripts: int, encoder: str, reference: bool) -> dict[str, Any]:
    from explanations import conf
    from explanations.embeddings import AMX_FLAG, cpu_flags, cpu_has_bf16, embed, resolve, warm_up

    load_before = os.getloadavg()[0]
    texts, symbols = corpus(transcripts)
    t = time.perf_counter()
    warm_up(encoder)
    load_ms = (time.perf_counter() - t) * 1000.0
    t = time.perf_counter()
    vectors = embed(texts, encoder=encoder)
    seconds = time.perf_counter() - t
    result: dict[str, Any] = {
        "encoder": encoder,
        "encoder_used": resolve(encoder),
        "cpu_bf16": cpu_has_bf16(),
        "cpu_amx": AMX_FLAG in cpu_flags(),
        "embedding_threads": conf.get("EMBEDDING_THREADS"),
        "torch_threads": conf.get("TORCH_THREADS"),
        "transcripts": transcripts,
        "chunks": len(texts),
        "seconds": round(seconds, 2),
        "chunks_per_s": round(len(texts) / seconds, 1) if seconds > 0 else None,
        "load_ms": round(load_ms, 1),
    }
    if reference:
        qs = queries(symbols)
        result["queries"] = len(qs)
        result["recall_at_5_vs_reference"] = round(recall_at_5(encoder, vectors, texts, qs), 4)
    result["load_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return result
