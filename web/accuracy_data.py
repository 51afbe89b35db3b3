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
    ood_accuracy,
    rolling_accuracy,
)

SERIES_DAYS = 250
TRAILING_DAYS = 20
COVERAGE_BAND = (0.75, 0.85)
KIND_LABELS = (
    ("normal", "Normal-day model"),
    ("earnings", "Earnings-day model"),
    # Issue 19: an h-day forecast is scored h trading days after its data day.
    ("horizon_5d", "5-trading-day forecasts"),
    ("horizon_20d", "20-trading-day forecasts"),
)  # the band the trailing coverage of an 80% interval should hold


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
                # Outcomes with an interval, and inside it: every record has p10/p90, so
                # coverage x n counts them (the trailing series pools these counts).
                "scored": int(n) if coverage is not None else 0,
                "inside": round(float(coverage) * int(n)) if coverage is not None else 0,
            }
        )
    for points in series.values():
        add_trailing_coverage(points)
    return series


def add_trailing_coverage(points: list[dict[str, Any]], days: int = TRAILING_DAYS) -> None:
    """``coverage_20d`` of each point: every outcome of the trailing ``days`` target days
    pooled (a day with more predictions weighs more, as in the replay's figure)."""
    for i, point in enumerate(points):
        window = points[max(0, i - days + 1) : i + 1]
        scored = sum(p["scored"] for p in window)
        inside = sum(p["inside"] for p in window)
        point["coverage_20d"] = inside / scored if scored else None


def rollout_comparisons() -> dict[str, dict[str, Any]]:
    """Per kind with a model rollout in progress (issue 22): the candidate's and the other
    version's live figures on the same realised (symbol, day) pairs. Aggregates only: the
    shadow forecasts themselves are never shown."""
    from predictions.rollout.stages import figures, in_progress

    out = {}
    for rollout in in_progress():
        fig = figures(rollout)
        out[rollout.kind] = {
            "stage": rollout.stage,
            "share": rollout.share,
            "candidate": rollout.candidate.version,
            "previous": rollout.previous.version,
            **fig.as_dict(),
        }
    return out


def accuracy_summary() -> dict[str, Any]:
    """Everything the accuracy page renders (server-side numbers plus chart series)."""
    rolling = rolling_accuracy()
    series = daily_series()
    ood = ood_accuracy()
    rollouts = rollout_comparisons()
    kinds = []
    for kind, label in KIND_LABELS:
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
                "ood": ood.get(kind),
                "by_regime": breakdown(points),
                "rollout": rollouts.get(kind),
            }
        )
    walkforward = walkforward_summary()
    return {
        "kinds": kinds,
        "series": series,
        "min_ic_symbols": MIN_IC_SYMBOLS,
        "coverage_band": COVERAGE_BAND,
        "walkforward": walkforward["kinds"],
        "walkforward_series": walkforward["series"],
    }


def _year_point(year: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    value: Any = year
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return None if value is None else {"time": f"{year['year']}-07-01", "value": value}


# chart -> line -> where its per-year value is in a ``years`` entry of the stored result
WALKFORWARD_LINES = {
    "rank_ic": {"model": ("rank_ic",), "LightGBM": ("baselines", "lightgbm", "rank_ic"),
                "reversal": ("baselines", "reversal", "rank_ic"),
                "momentum": ("baselines", "momentum", "rank_ic")},
    "mae_ratio": {"model": ("mae_ratio",), "LightGBM": ("baselines", "lightgbm", "mae_ratio")},
    "coverage": {"model": ("coverage_p10_p90",),
                 "EWMA vol": ("baselines", "ewma_vol", "coverage_p10_p90")},
}  # fmt: skip


def walkforward_summary() -> dict[str, Any]:
    """The stored walk-forward results (``manage.py walkforward``) of each kind, as table rows
    and per-year chart series (model against its baselines)."""
    from predictions.ml.wf_store import active_results

    kinds, series = [], {}
    for kind, stored in active_results().items():
        if stored is None:
            continue
        years = stored.get("years", [])
        kinds.append({"kind": kind, "label": dict(KIND_LABELS).get(kind, kind), "years": years,
                      "summary": stored.get("summary", {}),
                      "config": stored.get("config", {})})  # fmt: skip
        series[kind] = {
            chart: {name: [p for y in years if (p := _year_point(y, path))]
                    for name, path in lines.items()}
            for chart, lines in WALKFORWARD_LINES.items()
        }  # fmt: skip
    return {"kinds": kinds, "series": series}
