"""Platform-wide scheduled tasks."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

log = logging.getLogger(__name__)


@shared_task(name="core.tasks.enforce_retention", time_limit=600, soft_time_limit=540)
def enforce_retention() -> dict[str, int | str]:
    """Retention without TimescaleDB: drop prediction history older than
    PREDICTION_RETENTION_DAYS (by when it was predicted: replayed history has old data
    timestamps but was predicted recently). With TimescaleDB the hypertable's retention policy
    does this and the task only reports."""
    from core.timescale import extension_installed

    with connection.cursor() as cursor:
        if extension_installed(cursor, "timescaledb"):
            return {"path": "timescaledb", "deleted": 0}
    from predictions.models import PredictionRecord

    cutoff = timezone.now() - timedelta(days=settings.PREDICTION_RETENTION_DAYS)
    deleted, _ = PredictionRecord.objects.filter(predicted_at__lt=cutoff).delete()
    log.info("retention: deleted %d prediction records predicted before %s", deleted, cutoff)
    return {"path": "scheduled_task", "deleted": deleted}
