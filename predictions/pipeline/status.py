"""What the last cycle did: Redis ``pipeline:status`` (fast, read by the API/website) and a
``PipelineRun`` row (durable: a cycle whose Redis write failed is still on record)."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from core import redis_clients
from core.redis_clients import Preset
from predictions.models import PipelineRun

logger = logging.getLogger(__name__)

STATUS_KEY = "pipeline:status"


def redis_client() -> redis.Redis:
    """The pipeline's Redis client (settings.REDIS_URL), shared within the process."""
    return redis_clients.client(Preset.PIPELINE)


def record(summary: dict[str, Any], client: redis.Redis | None = None) -> PipelineRun:
    run = PipelineRun.objects.create(
        data_date=summary["data_date"],
        started_at=summary["started_at"],
        finished_at=summary["finished_at"],
        ok=summary["ok"],
        n_symbols=summary["n_symbols"],
        n_earnings=summary["n_earnings"],
        n_predicted=summary["n_predicted"],
        model_versions=summary["model_versions"],
        stages_ms=summary["stages_ms"],
        errors=summary["errors"],
    )
    if client is None:  # Redis is known to be down for this cycle: PostgreSQL only
        return run
    try:
        client.set(STATUS_KEY, json.dumps(summary, default=str))
    except redis.RedisError as exc:
        logger.warning("pipeline status not written to Redis: %s", exc)
    return run


def last_status(client: redis.Redis | None = None) -> dict[str, Any] | None:
    """The last cycle's summary: from Redis, else from the latest PipelineRun."""
    try:
        raw = (client or redis_client()).get(STATUS_KEY)
        if raw:
            summary: dict[str, Any] = json.loads(raw)
            return summary
    except redis.RedisError:
        pass
    run = PipelineRun.objects.first()
    if run is None:
        return None
    return {
        "data_date": run.data_date.isoformat(),
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat(),
        "ok": run.ok,
        "n_symbols": run.n_symbols,
        "n_earnings": run.n_earnings,
        "n_predicted": run.n_predicted,
        "model_versions": run.model_versions,
        "stages_ms": run.stages_ms,
        "errors": run.errors,
    }
