"""Platform-wide scheduled tasks."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="core.tasks.enforce_retention", time_limit=600, soft_time_limit=540)
def enforce_retention() -> dict[str, int | str]:
    """Prediction history retention, the same on TimescaleDB and plain PostgreSQL
    (predictions.retention, which this task only calls)."""
    from predictions.retention import enforce_retention as run

    return run()
