"""The accuracy page: the pipeline's rolling figures (``predictions.accuracy.rolling_accuracy``)
and, per model kind, daily series over time for the charts: MAE against the naive "no change"
forecast, interval coverage and the cross-sectional rank IC of each target day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from decisions.regime_accuracy import breakdown
from predictions.accuracy import KIND_OF_MODEL_TYPE, MIN_IC_SYMBOLS, rolling_accuracy

SERIES_DAYS = 250

_DAILY_SQL = """
WITH w AS (
    SELECT model_type, target_date, predicted_return_1d AS p, realised_return AS r,
           abs(predicted_return_1d - realised_return) AS err, inside_interval
    FROM predictions_predictionrecord
    WHERE realised_return IS NOT NULL AND target_date IS NOT NULL
      AND target_date > %(since)s
),
ranked AS (
    SELECT w.*,
           rank() OVER (PARTITION BY model_type, target_date ORDER BY p) AS rp,
           rank() OVER (PARTITION BY model_type, target_date ORDER BY r) AS rr
    FROM w
)
SELECT model_type, target_date, count(*), avg(err), avg(abs(r)),
       avg(CASE WHEN inside_interval THEN 1.0 WHEN inside_interval IS NULL THEN NULL ELSE 0.0 END),
       CASE WHEN count(*) >= %(min_ic)s THEN corr(rp, rr) END
FROM ranked
GROUP BY model_type, target_date
ORDER BY model_type, target_date
"""


def _latest_target() -> dt.date | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(target_date) FROM predictions_predictionrecord "
            "WHERE realised_return IS NOT NULL"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def daily_series(days: int = SERIES_DAYS) -> dict[str, list[dict[str, Any]]]:
    """``{"normal": [{"time", "n", "mae", "mae_naive", "coverage", "rank_ic"}...], ...}`` over
    the last ``days`` calendar days of target dates that have realised outcomes."""
    series: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KIND_OF_MODEL_TYPE.values()}
    latest = _latest_target()
    if latest is None:
        return series
    with connection.cursor() as cursor:
        cursor.execute(
            _DAILY_SQL, {"since": latest - dt.timedelta(days=days), "min_ic": MIN_IC_SYMBOLS}
        )
        rows = cursor.fetchall()
    for model_type, day, n, mae, naive, coverage, ic in rows:
        kind = KIND_OF_MODEL_TYPE.get(model_type)
        if kind is None:
            continue
        series[kind].append(
            {
                "time": day.isoformat(),
                "n": int(n),
                "mae": float(mae),
                "mae_naive": float(naive),
                "coverage": None if coverage is None else float(coverage),
                "rank_ic": None if ic is None else float(ic),
            }
        )
    return series


def accuracy_summary() -> dict[str, Any]:
    """Everything the accuracy page renders (server-side numbers plus chart series)."""
    rolling = rolling_accuracy()
    series = daily_series()
    kinds = []
    for kind, label in (("normal", "Normal-day model"), ("earnings", "Earnings-day model")):
        windows = rolling.get(kind, {})
        points = series.get(kind, [])
        kinds.append(
            {
                "kind": kind,
                "label": label,
                "windows": [(name, windows[name]) for name in ("24h", "30d") if name in windows],
                "series": points,
                "days": len(points),
                "has_rank_ic": any(p["rank_ic"] is not None for p in points),
                "by_regime": breakdown(points),
            }
        )
    return {"kinds": kinds, "series": series, "min_ic_symbols": MIN_IC_SYMBOLS}
