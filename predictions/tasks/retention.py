"""Retention of the prediction history (architecture §2.2), a scheduled task."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.timescale import extension_installed
from predictions.models import PredictionRecord

log = logging.getLogger(__name__)


@shared_task(
    name="predictions.tasks.retention.enforce_retention", time_limit=600, soft_time_limit=540
)
def enforce_retention() -> dict[str, int | str]:
    """Retention without TimescaleDB: drop prediction history older than
    PREDICTION_RETENTION_DAYS (by when it was predicted: replayed history has old data
    timestamps but was predicted recently). With TimescaleDB the hypertable's retention policy
    does this and the task only reports."""
    with connection.cursor() as cursor:
        if extension_installed(cursor, "timescaledb"):
            return {"path": "timescaledb", "deleted": 0}
    cutoff = timezone.now() - timedelta(days=settings.PREDICTION_RETENTION_DAYS)
    deleted, _ = PredictionRecord.objects.filter(predicted_at__lt=cutoff).delete()
    log.info("retention: deleted %d prediction records predicted before %s", deleted, cutoff)
    return {"path": "scheduled_task", "deleted": deleted}
