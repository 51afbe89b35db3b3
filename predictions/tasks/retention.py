"""Retention of the prediction history, a scheduled task (the logic: predictions.retention)."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="predictions.tasks.retention.enforce_retention", time_limit=600, soft_time_limit=540
)
def enforce_retention() -> dict[str, int | str]:
    """Drop prediction history older than PREDICTION_RETENTION_DAYS, the same rows on
    TimescaleDB and on plain PostgreSQL (see predictions.retention)."""
    from predictions.retention import enforce_retention as run

    return run()
