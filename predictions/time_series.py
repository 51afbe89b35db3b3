"""How the prediction history is stored as a time series, and its daily accuracy aggregate.

On TimescaleDB ``predictions_predictionrecord`` is a hypertable of 7-day chunks compressed after
7 days (architecture section 2.2), dropped after ``PREDICTION_RETENTION_DAYS`` (see
``predictions.retention``), and ``predictions_daily_accuracy`` is a continuous aggregate: per
data day, model type and target day, the sums from which every accuracy figure is computed
(count, sum of absolute errors, sum of absolute realised returns, interval hits, and the moments
of the cross-sectional ranks for the rank IC). On plain PostgreSQL the same name is an ordinary
view with the same columns over the same rows, so ``predictions.accuracy`` runs one query on
both paths and gets the same numbers.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import connection

from core.timescale import TimeSeriesPolicy, extension_installed

log = logging.getLogger(__name__)

PREDICTION_HISTORY = TimeSeriesPolicy(
    table="predictions_predictionrecord",
    time_column="data_timestamp",
    chunk_interval="7 days",
    compress_after="7 days",
    retain_for=None,  # scheduled from the setting by predictions.retention
    # A 7-day chunk holds about 5 rows per symbol: segments per symbol would compress batches
    # of 5 rows. One segment per model type, ordered by symbol, gives full batches, and the
    # per-batch min/max of symbol_id still lets a one-symbol history read skip the others.
    segment_by="model_type",
    # The unique key's columns, so an ON CONFLICT on a compressed chunk narrows to few batches.
    order_by="symbol_id, data_timestamp DESC, model_version",
)
DAILY_ACCURACY = "predictions_daily_accuracy"

_SELECT = """
SELECT {bucket} AS day, model_type, target_date,
       count(*) AS n,
       sum(abs_error) AS sum_abs_error,
       sum(abs(realised_return)) AS sum_abs_realised,
       count(inside_interval) AS n_interval,
       sum(CASE WHEN inside_interval THEN 1 ELSE 0 END) AS n_inside,
       count(rank_predicted) AS n_ranked,
       sum(rank_predicted::float8) AS sum_rp,
       sum(rank_realised::float8) AS sum_rr,
       sum(rank_predicted::float8 * rank_predicted) AS sum_rp2,
       sum(rank_realised::float8 * rank_realised) AS sum_rr2,
       sum(rank_predicted::float8 * rank_realised) AS sum_rprr
FROM predictions_predictionrecord
WHERE realised_return IS NOT NULL AND target_date IS NOT NULL
GROUP BY {bucket}, model_type, target_date
"""
_HYPERTABLE_BUCKET = "time_bucket('1 day', data_timestamp)"
_PLAIN_BUCKET = "date_trunc('day', data_timestamp, 'UTC')"


def create_daily_accuracy(cursor: Any) -> str:
    """The continuous aggregate (TimescaleDB) or the view (plain); returns which."""
    if extension_installed(cursor, "timescaledb"):
        # Real-time: buckets the policy has not materialised yet are computed from the raw rows.
        cursor.execute(
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {DAILY_ACCURACY} WITH"
            " (timescaledb.continuous, timescaledb.materialized_only = false) AS"
            + _SELECT.format(bucket=_HYPERTABLE_BUCKET)
            + " WITH NO DATA"
        )
        # Whole history: replayed data days lie years back, so an offset from now() would
        # never refresh them; only invalidated buckets are recomputed.
        cursor.execute(
            "SELECT add_continuous_aggregate_policy(%s, start_offset => NULL,"
            " end_offset => NULL, schedule_interval => INTERVAL '15 minutes',"
            " if_not_exists => true)",
            [DAILY_ACCURACY],
        )
        return "continuous_aggregate"
    cursor.execute(
        f"CREATE OR REPLACE VIEW {DAILY_ACCURACY} AS" + _SELECT.format(bucket=_PLAIN_BUCKET)
    )
    return "view"


def drop_daily_accuracy(cursor: Any) -> None:
    if extension_installed(cursor, "timescaledb") and _is_cagg(cursor):
        cursor.execute(f"DROP MATERIALIZED VIEW IF EXISTS {DAILY_ACCURACY}")
    else:
        cursor.execute(f"DROP VIEW IF EXISTS {DAILY_ACCURACY}")


def _is_cagg(cursor: Any) -> bool:
    cursor.execute(
        "SELECT 1 FROM timescaledb_information.continuous_aggregates WHERE view_name = %s",
        [DAILY_ACCURACY],
    )
    return cursor.fetchone() is not None


def is_continuous_aggregate() -> bool:
    with connection.cursor() as cursor:
        return extension_installed(cursor, "timescaledb") and _is_cagg(cursor)


def refresh_daily_accuracy(
    start: dt.datetime | None, end: dt.datetime | None, *, force: bool = False
) -> bool:
    """Materialise the data days in [start, end) now, so readers see what a set-based update
    just changed (the policy would, within 15 minutes). Only outside a transaction (TimescaleDB
    refuses it inside one) and only on TimescaleDB; returns whether it ran."""
    if connection.in_atomic_block or not is_continuous_aggregate():
        return False
    from psycopg.errors import LockNotAvailable

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "CALL refresh_continuous_aggregate(%s, %s::timestamptz, %s::timestamptz, %s)",
                [DAILY_ACCURACY, start, end, force],
            )
    except Exception as exc:  # a concurrent policy run covers the same buckets
        if isinstance(getattr(exc, "__cause__", None), LockNotAvailable):
            log.info("daily accuracy refresh skipped: %s", exc)
            return False
        raise
    return True
