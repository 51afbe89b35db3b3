"""Hourly beat task: Redis ``pred:*`` vs PostgreSQL, repaired from PostgreSQL
(``predictions.consistency``; beat entry ``prediction-cache-consistency``, queue ingest)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from predictions import consistency
from predictions.pipeline import status

__all__ = ["check_cache_consistency"]

log = logging.getLogger(__name__)


@shared_task(
    name="predictions.tasks.consistency.check_cache_consistency",
    time_limit=300,
    soft_time_limit=240,
)
def check_cache_consistency() -> dict[str, Any]:
    run = consistency.run(status.redis_client())
    log.info(
        "cache consistency: %d checked, %d mismatched, %d missing, %d ahead, %d repaired %s",
        run.checked,
        run.mismatched,
        run.missing,
        run.ahead,
        run.repaired,
        run.error,
    )
    return {
        "run_id": run.pk,
        "checked": run.checked,
        "mismatched": run.mismatched,
        "missing": run.missing,
        "repaired": run.repaired,
        "mismatch_ratio": run.mismatch_ratio,
        "error": run.error,
    }
