"""Pipeline tasks: routing, batched inference, dual write, publish (queue ``inference``).

``run_predictions(date_iso)`` is sent by ``features.tasks.update_features`` once the features
of trading day ``date_iso`` are in Redis. Late acknowledgement and reject-on-worker-lost are
global (config/celery_app.py): a worker killed mid-cycle gets the message redelivered (at once
when only its pool process died, by the orphan reaper of ``core.orphans`` when the whole worker
did), and the writes are idempotent by (symbol, data_timestamp, model_version). A PostgreSQL
outage retries the task with a backoff (``core.tasking.DATABASE_RETRY``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.utils import timezone

from core.tasking import DATABASE_DOWN, DATABASE_RETRY
from features import handoff
from predictions.pipeline import sources, status
from predictions.pipeline.cycle import run_cycle

__all__ = ["run_predictions"]

logger = logging.getLogger(__name__)


@shared_task(
    name="predictions.tasks.pipeline.run_predictions",
    # No result key: the cycle's outcome lives in its records and metrics, and three keys a
    # cycle kept for result_expires grew Redis by 20 % in a 30-minute soak. A caller that waits
    # for the result sends ignore_result=False.
    ignore_result=True,
    time_limit=120,
    soft_time_limit=90,
    acks_late=True,
    reject_on_worker_lost=True,
    # A task that raises is acknowledged, not redelivered: without a retry, every cycle that met
    # a PostgreSQL restart was lost (six days in 2 s of downtime, measured by bench faults).
    autoretry_for=DATABASE_DOWN,
    **DATABASE_RETRY,
)
def run_predictions(date_iso: str) -> dict[str, Any]:
    data_date = dt.date.fromisoformat(date_iso)
    client = status.redis_client()
    inputs = sources.from_redis(client, data_date)
    if len(inputs.tickers) == 0:
        now = timezone.now()
        summary = {
            "data_date": date_iso,
            "started_at": now,
            "finished_at": now,
            "ok": False,
            "n_symbols": 0,
            "n_earnings": 0,
            "n_predicted": 0,
            "model_versions": {},
            "stages_ms": {},
            "errors": [f"no features for {date_iso} in Redis"],
        }
        logger.error("run_predictions %s: no features in Redis", date_iso)
        status.record(summary, client)
        return {"data_date": date_iso, "ok": False, "n_predicted": 0}
    result, _ = run_cycle(inputs, redis_client=client)
    if result.ok:
        handoff.discard_matrix(client, data_date)
    logger.info(
        "run_predictions %s: %d symbols, %d earnings, %d predicted in %.0f ms %s",
        date_iso,
        result.n_symbols,
        result.n_earnings,
        result.n_predicted,
        result.total_ms,
        result.stages_ms,
    )
    return {
        "data_date": date_iso,
        "ok": result.ok,
        "n_predicted": result.n_predicted,
        "records_inserted": result.records_inserted,
        "stages_ms": result.stages_ms,
        "errors": result.errors,
    }
