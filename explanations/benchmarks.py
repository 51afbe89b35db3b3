"""``python manage.py bench explain [--n 20] [--depth medium] --json``

- cold: cache miss, the whole pipeline in this process (facts, ONNX drivers, retrieval with the
  query embedding, generation incl. a regeneration when the check fails, the check, template
  fallback), timed per explanation; models are loaded once before timing (``load_ms``).
- warm: ``GET /api/explanation/{symbol}`` through Django's full stack (auth, throttle, view)
  answered from Redis ``explanation:{SYMBOL}``.
- retrieval: ``retrieve()`` alone (query embedding + pgvector search), 3 queries per symbol.
- cold while indexing: cold explanations again, while a bulk index runs beside them: a
  ``nice -n 15`` process embedding ``--index-transcripts`` transcripts (``bench index``, the work
  of the niced ``index`` worker of worker/Procfile, without its database writes). Explanations
  have their own queue and worker, so what is left to measure is the CPU the two share.
Uses the ``Prediction`` rows in the database; when there are none it creates temporary ones
for symbols with indexed transcripts (Redis keys removed afterwards) and says so in
``prediction_source``. Everything runs in a transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction

from core.benchmarks import Benchmark


class _Rollback(Exception):
    pass


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def _temporary_predictions(n: int) -> list[str]:
    from explanations.models import Document
    from ingestion.models import Symbol
    from predictions.models import Prediction

    tickers = list(
        Document.objects.filter(source="transcript")
        .values_list("symbol", flat=True)
        .distinct()
        .order_by("symbol")[:n]
    ) or ["NVDA"]
    now = datetime.now(UTC)
    rng = np.random.default_rng(7)
    for ticker in tickers:
        sym, _ = Symbol.objects.get_or_create(ticker=ticker)
        point = float(rng.normal(0, 0.01))
        Prediction.objects.update_or_create(
            symbol=sym,
            defaults={
                "current_price": 100.0,
                "predicted_return_1d": point,
                "predicted_price": 100.0 * (1 + point),
                "uncertainty_sigma": 0.02,
                "p10": point - 0.0256,
                "p50": point,
                "p90": point + 0.0256,
                "model_type": "normal_day",
                "model_version": "bench-temporary",
                "predicted_at": now,
                "data_timestamp": now.replace(hour=0, minute=0, second=0, microsecond=0),
                "features_snapshot": {
                    "return_20d": float(rng.normal(0.01, 0.05)),
                    "volatility_20d": float(abs(rng.normal(0.3, 0.1))),
                    "rsi_14": float(rng.uniform(30, 70)),
                    "market_beta": float(rng.normal(1.0, 0.3)),
                },
            },
        )
    return tickers


class ExplainBenchmark(Benchmark):
    name = "explain"
    help = "Explanation latency: cold (cache miss), warm (cached API GET), retrieval, TTFT"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--n", type=int, default=20, help="Cold explanations to time")
        parser.add_argument("--depth", default="medium", choices=["fast", "medium", "deep"])
        parser.add_argument("--backend", default=None, choices=["llamacpp", "ollama"])
        parser.add_argument(
            "--index-transcripts",
            type=int,
            default=100,
            help="Transcripts the bulk index embeds during cold_while_indexing (0: skip)",
        )

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        try:
            # Nothing the benchmark writes to PostgreSQL (a user, temporary predictions) stays.
            with transaction.atomic():
                result = self._run(options)
                raise _Rollback
        except _Rollback:
            pass
        return result

    def _run(self, options: dict[str, Any]) -> dict[str, Any]:
        from explanations import conf
        from explanations.models import Chunk

        n = options["n"]
        load_before = os.getloadavg()[0]
        symbols, source = _symbols(n)
        load_ms = _load_models(options)
        cold = _cold_runs(symbols, n, options)
        retrieval = _retrieval_runs(symbols)
        warm, warm_misses = _warm_runs(symbols, n)
        while_indexing = _cold_while_indexing(symbols, options)
        if source.startswith("temporary"):
            _drop_cached(symbols)
        generators = cold["generators"]
        return {
            "n": n,
            "depth": options["depth"],
            "backend": options["backend"] or conf.get("LLM_BACKEND"),
            "llm_threads": conf.get("LLM_THREADS"),
            "llm_max_tokens": conf.get("LLM_MAX_TOKENS"),
            "embedding_encoder": conf.get("EMBEDDING_ENCODER"),
            "prediction_source": source,
            "symbols": len(symbols),
            "chunks_indexed": Chunk.objects.count(),
            "load_ms": round(load_ms, 1),
            "cold_p50_ms": _pct(cold["ms"], 50),
            "cold_p95_ms": _pct(cold["ms"], 95),
            **while_indexing,
            "warm_p50_ms": _pct(warm, 50),
            "warm_p95_ms": _pct(warm, 95),
            "warm_requests": len(warm),
            "warm_misses": warm_misses,
            "ttft_p50_ms": _pct(cold["ttft"], 50),
            "retrieval_p50_ms": _pct(retrieval, 50),
            "retrieval_p95_ms": _pct(retrieval, 95),
            "retrieval_in_pipeline_p95_ms": _pct(cold["retrieval"], 95),
            "grounded_llm_share": round(generators.count("llm") / len(generators), 3)
            if generators
            else None,
            "generators": {g: generators.count(g) for g in set(generators)},
            "mean_llm_attempts": round(float(np.mean(cold["attempts"])), 2),
            "cpu_load_1m_before": round(load_before, 2),
            "cpu_load_1m_after": round(os.getloadavg()[0], 2),
        }


def _symbols(n: int) -> tuple[list[str], str]:
    from predictions.models import Prediction

    symbols = list(
        Prediction.objects.order_by("-predicted_at").values_list("symbol__ticker", flat=True)[:n]
    )
    if symbols:
        return symbols, "database"
    return (
        _temporary_predictions(n),
        "temporary (no Prediction rows in the database; rolled back afterwards)",
    )


def _load_models(options: dict[str, Any]) -> float:
    from explanations.embeddings import warm_up

    t = time.perf_counter()
    warm_up()
    if options["depth"] != "fast":
        from explanations.llm import get_backend

        backend = get_backend(options["backend"])
        backend.generate([{"role": "user", "content": "Hi"}], max_tokens=1)
    return (time.perf_counter() - t) * 1000.0


def _one_cold(symbol: str, i: int, options: dict[str, Any]) -> tuple[float, Any, dict[str, Any]]:
    from explanations import cache
    from explanations.service import cache_payload, explain

    cache.client().delete(cache.key(symbol))
    t = time.perf_counter()
    explanation, timings = explain(symbol, options["depth"], backend_name=options["backend"])
    cache.put(symbol, cache_payload(symbol, f"bench_{i}", explanation))
    return (time.perf_counter() - t) * 1000.0, timings, explanation


def _cold_runs(symbols: list[str], n: int, options: dict[str, Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {
        k: [] for k in ("ms", "ttft", "retrieval", "generators", "attempts")
    }
    for i in range(n):
        ms, timings, explanation = _one_cold(symbols[i % len(symbols)], i, options)
        out["ms"].append(ms)
        if timings.ttft_ms is not None:
            out["ttft"].append(timings.ttft_ms)
        out["retrieval"].append(timings.retrieval_ms)
        out["generators"].append(explanation["generator"])
        out["attempts"].append(timings.attempts)
    return out


def _retrieval_runs(symbols: list[str]) -> list[float]:
    from explanations.retrieval import retrieve

    queries = ["earnings reaction risk", "prediction interval uncertainty", "demand outlook"]
    return [retrieve(f"{s} {q}", symbol=s)[1] for s in symbols for q in queries]


def _warm_runs(symbols: list[str], n: int) -> tuple[list[float], int]:
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    user = get_user_model().objects.filter(is_superuser=True).first()
    if user is None:
        user = get_user_model().objects.create_user("bench-explain", tier="enterprise")
    client = APIClient()
    client.force_authenticate(user)
    warm: list[float] = []
    misses = 0
    for i in range(max(n, 20) * 5):
        t = time.perf_counter()
        response = client.get(f"/api/explanation/{symbols[i % len(symbols)]}")
        if response.status_code != 200:
            misses += 1  # not cached (a failed Redis write): not a warm request
            continue
        warm.append((time.perf_counter() - t) * 1000.0)
    return warm, misses


def _bulk_index_process(transcripts: int) -> subprocess.Popen[str]:
    command = [sys.executable, "manage.py", "bench", "index", "--json", "--no-reference"]
    command += ["--transcripts", str(transcripts)]
    return subprocess.Popen(
        ["nice", "-n", "15", *command],
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _cold_while_indexing(symbols: list[str], options: dict[str, Any]) -> dict[str, Any]:
    """Cold explanations for as long as the bulk index runs (it loads its encoder first, so
    the first explanation starts once it embeds)."""
    transcripts = options["index_transcripts"]
    if transcripts <= 0:
        return {"cold_while_indexing_p95_ms": None}
    bulk = _bulk_index_process(transcripts)
    time.sleep(8.0)  # interpreter, Django and encoder start-up of the bulk process
    cold: list[float] = []
    while bulk.poll() is None and len(cold) < 200:
        ms, _, _ = _one_cold(symbols[len(cold) % len(symbols)], len(cold), options)
        if bulk.poll() is None:  # count only explanations that ended while it still ran
            cold.append(ms)
    out, _ = bulk.communicate(timeout=600)
    try:
        index = json.loads(out)
    except ValueError:
        index = {}
    return {
        "cold_while_indexing_p50_ms": _pct(cold, 50),
        "cold_while_indexing_p95_ms": _pct(cold, 95),
        "cold_while_indexing_n": len(cold),
        "bulk_index": {k: index.get(k) for k in ("transcripts", "chunks", "chunks_per_s")},
    }


def _drop_cached(symbols: list[str]) -> None:
    from explanations import cache

    for symbol in symbols:
        cache.client().delete(cache.key(symbol))


class IndexBenchmark(Benchmark):
    name = "index"
    help = "Knowledge-base embedding throughput (chunks/s) and recall@5 vs the reference encoder"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--transcripts", type=int, default=60)
        parser.add_argument("--encoder", default=None, choices=["onnx", "onnx-int8", "torch"])
        parser.add_argument(
            "--no-reference", action="store_true", help="Skip recall (throughput only)"
        )

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        from explanations.embeddings import encoder_name
        from explanations.index_bench import run_index_bench

        encoder = options["encoder"] or encoder_name()
        return run_index_bench(options["transcripts"], encoder, not options["no_reference"])


BENCHMARKS = [ExplainBenchmark, IndexBenchmark]
