"""``python manage.py bench explain [--n 20] [--depth medium] --json``

- cold: cache miss, the whole pipeline in this process (facts, ONNX drivers, retrieval with the
  query embedding, generation incl. a regeneration when the check fails, the check, template
  fallback), timed per explanation; models are loaded once before timing (``load_ms``).
- warm: ``GET /api/explanation/{symbol}`` through Django's full stack (auth, throttle, view)
  answered from Redis ``explanation:{SYMBOL}``.
- retrieval: ``retrieve()`` alone (query embedding + pgvector search), 3 queries per symbol.
Uses the ``Prediction`` rows in the database; when there are none it creates temporary ones
for symbols with indexed transcripts (Redis keys removed afterwards) and says so in
``prediction_source``. Everything runs in a transaction that is rolled back.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
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

    def add_arguments(self, parser) -> None:
        parser.add_argument("--n", type=int, default=20, help="Cold explanations to time")
        parser.add_argument("--depth", default="medium", choices=["fast", "medium", "deep"])
        parser.add_argument("--backend", default=None, choices=["llamacpp", "ollama"])

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
        from django.contrib.auth import get_user_model
        from rest_framework.test import APIClient

        from explanations import cache, conf
        from explanations.embeddings import get_model
        from explanations.models import Chunk
        from explanations.retrieval import retrieve
        from explanations.service import cache_payload, explain
        from predictions.models import Prediction

        n = options["n"]
        load_before = os.getloadavg()[0]
        symbols = list(
            Prediction.objects.order_by("-predicted_at").values_list("symbol__ticker", flat=True)[
                :n
            ]
        )
        source = "database"
        if not symbols:
            symbols = _temporary_predictions(n)
            source = "temporary (no Prediction rows in the database; rolled back afterwards)"

        t = time.perf_counter()
        get_model()
        if options["depth"] != "fast":
            from explanations.llm import get_backend

            backend = get_backend(options["backend"])
            backend.generate([{"role": "user", "content": "Hi"}], max_tokens=1)
        load_ms = (time.perf_counter() - t) * 1000.0

        cold, ttft, retrieval_in_pipeline, generators, attempts = [], [], [], [], []
        for i in range(n):
            symbol = symbols[i % len(symbols)]
            cache.client().delete(cache.key(symbol))
            t = time.perf_counter()
            explanation, timings = explain(
                symbol, options["depth"], backend_name=options["backend"]
            )
            cache.put(symbol, cache_payload(symbol, f"bench_{i}", explanation))
            cold.append((time.perf_counter() - t) * 1000.0)
            if timings.ttft_ms is not None:
                ttft.append(timings.ttft_ms)
            retrieval_in_pipeline.append(timings.retrieval_ms)
            generators.append(explanation["generator"])
            attempts.append(timings.attempts)

        retrieval = []
        queries = ["earnings reaction risk", "prediction interval uncertainty", "demand outlook"]
        for symbol in symbols:
            for q in queries:
                retrieval.append(retrieve(f"{symbol} {q}", symbol=symbol)[1])

        user = get_user_model().objects.filter(is_superuser=True).first()
        if user is None:
            user = get_user_model().objects.create_user("bench-explain", tier="enterprise")
        client = APIClient()
        client.force_authenticate(user)
        warm, warm_misses = [], 0
        for i in range(max(n, 20) * 5):
            symbol = symbols[i % len(symbols)]
            t = time.perf_counter()
            response = client.get(f"/api/explanation/{symbol}")
            if response.status_code != 200:
                warm_misses += 1  # not cached (a failed Redis write): not a warm request
                continue
            warm.append((time.perf_counter() - t) * 1000.0)

        if source.startswith("temporary"):
            for symbol in symbols:
                cache.client().delete(cache.key(symbol))
        llm_runs = list(generators)
        return {
            "n": n,
            "depth": options["depth"],
            "backend": options["backend"] or conf.get("LLM_BACKEND"),
            "llm_threads": conf.get("LLM_THREADS"),
            "llm_max_tokens": conf.get("LLM_MAX_TOKENS"),
            "torch_threads": conf.get("TORCH_THREADS"),
            "prediction_source": source,
            "symbols": len(symbols),
            "chunks_indexed": Chunk.objects.count(),
            "load_ms": round(load_ms, 1),
            "cold_p50_ms": _pct(cold, 50),
            "cold_p95_ms": _pct(cold, 95),
            "warm_p50_ms": _pct(warm, 50),
            "warm_p95_ms": _pct(warm, 95),
            "warm_requests": len(warm),
            "warm_misses": warm_misses,
            "ttft_p50_ms": _pct(ttft, 50),
            "retrieval_p50_ms": _pct(retrieval, 50),
            "retrieval_p95_ms": _pct(retrieval, 95),
            "retrieval_in_pipeline_p95_ms": _pct(retrieval_in_pipeline, 95),
            "grounded_llm_share": round(generators.count("llm") / len(llm_runs), 3)
            if llm_runs
            else None,
            "generators": {g: generators.count(g) for g in set(generators)},
            "mean_llm_attempts": round(float(np.mean(attempts)), 2) if attempts else 0,
            "cpu_load_1m_before": round(load_before, 2),
            "cpu_load_1m_after": round(os.getloadavg()[0], 2),
        }


BENCHMARKS = [ExplainBenchmark]
