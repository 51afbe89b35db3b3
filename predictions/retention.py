"""Retention of the prediction history, the same rows on both storage paths.

Rows whose DATA day (``data_timestamp``) is older than ``PREDICTION_RETENTION_DAYS`` are
dropped. The default is 2,557 days: the history is the audit trail of what was predicted and
when (7 years, architecture section 11.3), and compressed after 7 days (section 2.2) it costs
little (docs/timescaledb.md has the sizes); ``PREDICTION_RETENTION_DAYS=90`` gives the 90 days
of section 2.2 literally.

- TimescaleDB: a retention job drops whole 7-day chunks past the cutoff (``schedule_retention``
  keeps it in step with the setting); ``enforce_retention`` does the same at once and deletes
  the rows of the chunk that straddles the cutoff, so both paths keep exactly the same rows,
  then refreshes the daily accuracy aggregate over the dropped days (dropping chunks does not
  invalidate it by itself).
- Plain PostgreSQL: ``enforce_retention`` deletes the rows (the beat task runs it every 6 h).

The cutoff is on the data day, not on when the row was written: a hypertable can only drop by
its partitioning column, and the unique key (symbol, data day, model version) needs the data
day as that column. Replayed days lie in the past; with the default they are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.timescale import extension_installed, is_hypertable, set_retention
from predictions.time_series import PREDICTION_HISTORY, refresh_daily_accuracy

log = logging.getLogger(__name__)
TABLE = PREDICTION_HISTORY.table
SHADOW_TABLE = "predictions_shadowrecord"


def retain_for() -> str:
    return f"{int(settings.PREDICTION_RETENTION_DAYS)} days"


def schedule_retention(cursor: Any) -> bool:
    """On TimescaleDB, (re)schedule the hypertable's retention job from the setting; returns
    whether it changed. A no-op on plain PostgreSQL."""
    if not (extension_installed(cursor, "timescaledb") and is_hypertable(cursor, TABLE)):
        return False
    return set_retention(cursor, TABLE, retain_for())


def enforce_retention(now: dt.datetime | None = None) -> dict[str, int | str]:
    """Drop the prediction history older than the retention window; reports which path ran,
    the rows deleted and (TimescaleDB) the chunks dropped."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.PREDICTION_RETENTION_DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        hypertable = extension_installed(cursor, "timescaledb") and is_hypertable(cursor, TABLE)
        chunks = 0
        if hypertable:
            schedule_retention(cursor)
            # Counted first so both paths report the rows they removed (chunks drop unseen).
            cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE data_timestamp < %s", [cutoff])
            row = cursor.fetchone()
            deleted = int(row[0]) if row else 0
            cursor.execute(
                "SELECT count(*) FROM drop_chunks(%s, older_than => %s)", [TABLE, cutoff]
            )
            row = cursor.fetchone()
            chunks = int(row[0]) if row else 0
            cursor.execute(f"DELETE FROM {TABLE} WHERE data_timestamp < %s", [cutoff])
        else:
            cursor.execute(f"DELETE FROM {TABLE} WHERE data_timestamp < %s", [cutoff])
            deleted = cursor.rowcount
        # The unserved forecasts of model rollouts (issue 22): a plain table on both paths.
        cursor.execute(f"DELETE FROM {SHADOW_TABLE} WHERE data_timestamp < %s", [cutoff])
        shadow_deleted = cursor.rowcount
    if hypertable:
        refresh_daily_accuracy(None, cutoff + dt.timedelta(days=1), force=True)
    log.info("retention: %d rows deleted, %d chunks dropped before %s", deleted, chunks, cutoff)
    return {
        "path": "timescaledb" if hypertable else "plain",
        "deleted": deleted,
        "dropped_chunks": chunks,
        "shadow_deleted": shadow_deleted,
        "cutoff": cutoff.isoformat(),
    }
