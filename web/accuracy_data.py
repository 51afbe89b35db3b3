"""The accuracy page: the pipeline's rolling figures (``predictions.accuracy.rolling_accuracy``)
and, per model kind, daily series over time for the charts: MAE against the naive "no change"
forecast, interval coverage and the cross-sectional rank IC of each target day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from decisions.regime_accuracy import breakdown
from predictions.accuracy import (
    KIND_OF_MODEL_TYPE,
    MIN_IC_SYMBOLS,
    daily_accuracy,
    latest_realised_date,
    rolling_accuracy,
)

SERIES_DAYS = 250


def daily_series(days: int = SERIES_DAYS) -> dict[str, list[dict[str, Any]]]:
    """``{"normal": [{"time", "n", "mae", "mae_naive", "coverage", "rank_ic"}...], ...}`` over
    the last ``days`` calendar days of target dates that have realised outcomes."""
    series: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KIND_OF_MODEL_TYPE.values()}
    latest = latest_realised_date()
    if latest is None:
        return series
    rows = daily_accuracy(latest - dt.timedelta(days=days), latest)
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
