"""Every Prometheus metric the pipeline and the API export, defined once (one owner each).

The stages record into these objects; scrape-time figures (queue depths, Redis and PostgreSQL
health, prediction freshness, rolling accuracy, active models) are produced by collectors that
apps declare in ``settings.METRICS_SCRAPE_COLLECTORS`` and that only the web server's ``/metrics``
runs (a worker must not query the database on every scrape). ``docs/metrics.md`` lists them all.

Processes: the web server may run several uvicorn workers, so it uses prometheus_client's
multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set (``make run`` sets it); each gauge
therefore declares how processes combine. Celery worker processes serve their own registry on a
port (``serve_worker_metrics``, started on ``worker_process_init``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

log = logging.getLogger(__name__)

# Latency buckets: the API's targets are p95 < 100 ms and p99 < 500 ms, so the buckets are dense
# there; pipeline stages run for milliseconds to a minute.
API_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

# --- ingestion ---------------------------------------------------------------------------------
INGEST_ROWS = Counter(
    "stockpred_ingest_rows",
    "Price bars seen by the live ingestion cycle, by outcome (received, accepted, quarantined).",
    ["outcome"],
)
INGEST_CYCLE_SECONDS = Histogram(
    "stockpred_ingest_cycle_seconds",
    "Duration of one live ingestion cycle (fetch, validate, store).",
    ["provider"],
    buckets=STAGE_BUCKETS,
)
INGEST_LAST_SUCCESS = Gauge(
    "stockpred_ingest_last_success_timestamp_seconds",
    "Unix time of the last live ingestion cycle that stored bars.",
    multiprocess_mode="mostrecent",
)
# --- features ----------------------------------------------------------------------------------
FEATURES_SECONDS = Histogram(
    "stockpred_features_update_seconds",
    "Duration of one live feature update (engine + Redis write).",
    buckets=STAGE_BUCKETS,
)
FEATURES_SYMBOLS = Gauge(
    "stockpred_features_symbols",
    "Symbols in the last live feature update.",
    multiprocess_mode="mostrecent",
)
FEATURES_LAST_UPDATE = Gauge(
    "stockpred_features_last_update_timestamp_seconds",
    "Unix time the live features were last written to Redis (staleness = now - this).",
    multiprocess_mode="mostrecent",
)
# --- inference ---------------------------------------------------------------------------------
INFERENCE_BATCH_SECONDS = Histogram(
    "stockpred_inference_batch_seconds",
    "ONNX inference time of one model kind's rows in a cycle.",
    ["kind"],
    buckets=STAGE_BUCKETS,
)
INFERENCE_ROWS = Counter("stockpred_inference_rows", "Symbols predicted, by model kind.", ["kind"])
INFERENCE_ERRORS = Counter(
    "stockpred_inference_errors",
    "Symbols routed to a model kind that got no prediction (model not loadable, non-finite "
    "output or close). Error rate = errors / (rows + errors).",
    ["kind"],
)
PIPELINE_CYCLE_SECONDS = Histogram(
    "stockpred_prediction_cycle_seconds",
    "Wall time of one prediction cycle (route, inference, dual write, realise).",
    buckets=STAGE_BUCKETS,
)
# --- dual write and publish --------------------------------------------------------------------
DUAL_WRITE_SECONDS = Histogram(
    "stockpred_dual_write_seconds",
    "Write time of a cycle's predictions per sink (postgres, redis).",
    ["sink"],
    buckets=STAGE_BUCKETS,
)
PREDICTIONS_LAST_WRITE = Gauge(
    "stockpred_predictions_last_write_timestamp_seconds",
    "Unix time of the last dual write of predictions.",
    multiprocess_mode="mostrecent",
)
PUBLISH_MESSAGES = Counter(
    "stockpred_publish_messages", "Prediction updates published to the per-symbol groups."
)
PUBLISH_SECONDS = Histogram(
    "stockpred_publish_seconds", "Publish time of a cycle's updates.", buckets=STAGE_BUCKETS
)
WEBSOCKET_CONNECTIONS = Gauge(
    "stockpred_websocket_connections",
    "Open WebSocket connections to the prediction feed.",
    multiprocess_mode="livesum",
)
# --- API ---------------------------------------------------------------------------------------
API_REQUEST_SECONDS = Histogram(
    "stockpred_api_request_duration_seconds",
    "API request latency by route, method, status and data source (redis, postgres, none); "
    "route 'prediction' is GET /api/prediction/{symbol} on the fast path and in DRF.",
    ["route", "method", "status", "source"],
    buckets=API_BUCKETS,
)
# --- explanations ------------------------------------------------------------------------------
EXPLANATION_SECONDS = Histogram(
    "stockpred_explanation_seconds",
    "Time to generate one explanation (retrieval + generation + grounding check).",
    ["generator"],
    buckets=STAGE_BUCKETS,
)
EXPLANATIONS = Counter(
    "stockpred_explanations",
    "Explanation jobs by generator and outcome (ok, grounding_failed, error).",
    ["generator", "outcome"],
)
EXPLANATION_LLM_REJECTED = Counter(
    "stockpred_explanation_llm_rejected",
    "LLM generations rejected by the grounding check (the job regenerates or uses the template).",
)
# --- consistency job ---------------------------------------------------------------------------
CONSISTENCY_MISMATCH_RATIO = Gauge(
    "stockpred_consistency_mismatch_ratio",
    "Share of symbols whose Redis prediction disagreed with PostgreSQL at the last check.",
    multiprocess_mode="mostrecent",
)
CONSISTENCY_REPAIRED = Counter(
    "stockpred_consistency_repaired", "Redis predictions rewritten from PostgreSQL."
)


@contextmanager
def timed(histogram: Histogram, **labels: str) -> Iterator[None]:
    """Observe the block's wall time (also when it raises: a slow failure is still slow)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        target = histogram.labels(**labels) if labels else histogram
        target.observe(time.perf_counter() - started)


_servers: list[Any] = []


def serve_worker_metrics(port: int | None = None, attempts: int = 8) -> int | None:
    """Serve this process's registry over HTTP on ``CELERY_METRICS_PORT`` (or the next free of
    ``attempts`` ports, so several pool processes of one worker each get one). Returns the port,
    or None when no port is configured or none is free."""
    if port is None:
        raw = os.environ.get("CELERY_METRICS_PORT", "")
        if not raw:
            return None
        port = int(raw)
    from prometheus_client import start_http_server

    for candidate in range(port, port + attempts):
        try:
            server, _thread = start_http_server(
                candidate, addr=os.environ.get("CELERY_METRICS_ADDR", "127.0.0.1")
            )
        except OSError:
            continue
        _servers.append(server)
        log.info("worker metrics on port %d", candidate)
        return candidate
    log.warning("no free metrics port in %d..%d", port, port + attempts - 1)
    return None


def stop_worker_metrics() -> None:
    """Shut the servers of ``serve_worker_metrics`` down (tests)."""
    while _servers:
        server = _servers.pop()
        server.shutdown()
        server.server_close()
