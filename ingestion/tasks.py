"""Celery task of the live cycle: ``ingestion.tasks.live_cycle`` (queue ingest, beat every
``REPLAY_PERIOD_SECONDS``; entry ``ingestion-live-cycle`` in settings)."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import shared_task
from django.conf import settings

from core import metrics
from core.tasking import enqueue_patiently
from ingestion.live import live_cycle as run_live_cycle

log = logging.getLogger(__name__)


@shared_task(
    name="ingestion.tasks.live_cycle",
    # No result key: the cycle's outcome lives in its records and metrics, and three keys a
    # cycle kept for result_expires grew Redis by 20 % in a 30-minute soak. A caller that waits
    # for the result sends ignore_result=False.
    ignore_result=True,
    time_limit=120,
    soft_time_limit=90,
    acks_late=True,
)
def live_cycle() -> dict[str, Any]:
    """One live step (replay day or yfinance quotes): validate, store, then hand the trading
    date to the feature engine once the bars are committed."""
    # No outer transaction: the cycle commits its bars (and its IngestionRun, also when it
    # fails) itself; on_commit outside a transaction runs at once, i.e. after that commit.
    with metrics.timed(metrics.INGEST_CYCLE_SECONDS, provider=settings.MARKET_DATA_PROVIDER):
        summary = run_live_cycle()
    observe(summary)
    day = summary.get("trading_date")
    if day:
        enqueue_patiently("features.tasks.update_features", day)
    log.info("live cycle: %s", summary)
    return summary


def observe(summary: dict[str, Any]) -> None:
    """Export a live cycle's counts (a skipped cycle has none)."""
    if "received" not in summary:
        return
    for outcome in ("received", "accepted", "quarantined"):
        metrics.INGEST_ROWS.labels(outcome=outcome).inc(summary.get(outcome) or 0)
    if summary.get("trading_date") and summary.get("accepted"):
        metrics.INGEST_LAST_SUCCESS.set(time.time())
