"""Hourly beat task: realise the records the cycles left unrealised (``predictions.accuracy``;
beat entry ``realise-late-outcomes``, queue training: the niced worker that is idle but for the
weekly retrain, so the sweep's seconds never hold up the live cycle's ingest worker).

The cycle realises the records of its own data day only: finding the due records of a longer
lookback reads every record of those target days (no index covers ``realised_at``, so the
realise can update its rows in place). A bar stored after its day's cycle (late, repaired,
backfilled) or a cycle that never ran leaves records behind; this sweep realises them.
"""

from __future__ import annotations

import logging

from celery import shared_task

from predictions.accuracy import realise_late_outcomes

__all__ = ["realise_late"]

log = logging.getLogger(__name__)


@shared_task(
    name="predictions.tasks.accuracy.realise_late",
    time_limit=600,
    soft_time_limit=540,
)
def realise_late() -> int:
    realised = realise_late_outcomes()
    if realised:
        log.info("accuracy sweep: %d late records realised", realised)
    return realised
