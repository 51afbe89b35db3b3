"""Figures of a replay evaluation, from the realised ``PredictionRecord`` rows it produced.

- ``coverage``: share of realised returns inside [p10, p90] (nominal 0.80);
- ``rolling20_in_band_share``: share of target days (from the 20th on) whose trailing 20-day
  coverage (all outcomes of those 20 days pooled) lies within 0.75-0.85;
- ``worst_month_coverage``: the lowest calendar-month coverage;
- ``mean_width``: mean p90 - p10 (returns);
- ``rank_ic``: mean over target days of the cross-sectional Spearman correlation;
- ``mae_ratio``: MAE of the point forecast over the MAE of "return = 0".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

BAND = (0.75, 0.85)
TRAILING_DAYS = 20
MIN_IC_SYMBOLS = 5


def _rolling_in_band(frame: pd.DataFrame) -> tuple[float | None, list[float]]:
    daily = frame.groupby("target_date")["inside"].agg(["sum", "count"]).sort_index()
    hits = daily["sum"].rolling(TRAILING_DAYS).sum()
    counts = daily["count"].rolling(TRAILING_DAYS).sum()
    trailing = (hits / counts).dropna()
    if trailing.empty:
        return None, []
    inside = (trailing >= BAND[0]) & (trailing <= BAND[1])
    return float(inside.mean()), [round(float(v), 4) for v in trailing]


def _rank_ic(frame: pd.DataFrame) -> float | None:
    ics = []
    for _, day in frame.groupby("target_date"):
        if len(day) < MIN_IC_SYMBOLS:
            continue
        ic = day["predicted"].rank().corr(day["realised"].rank())
        if np.isfinite(ic):
            ics.append(ic)
    return float(np.mean(ics)) if ics else None


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def summarize(frame: pd.DataFrame) -> dict[str, Any]:
    """``frame``: one row per realised prediction with columns target_date, predicted,
    realised, p10, p90, inside (bool)."""
    if frame.empty:
        return {"days": 0, "n": 0}
    frame = frame.assign(month=pd.to_datetime(frame["target_date"]).dt.to_period("M"))
    rolling, _ = _rolling_in_band(frame)
    monthly = frame.groupby("month")["inside"].mean()
    mae = float((frame["predicted"] - frame["realised"]).abs().mean())
    mae_naive = float(frame["realised"].abs().mean())
    return {
        "days": int(frame["target_date"].nunique()),
        "n": len(frame),
        "coverage": _round(frame["inside"].mean()),
        "rolling20_in_band_share": _round(rolling),
        "worst_month_coverage": _round(monthly.min()),
        "worst_month": str(monthly.idxmin()),
        "mean_width": _round((frame["p90"] - frame["p10"]).mean(), 6),
        "rank_ic": _round(_rank_ic(frame)),
        "mae_ratio": _round(mae / mae_naive if mae_naive else None),
    }


def trailing_series(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Trailing 20-day coverage per target day (the accuracy chart's series)."""
    daily = frame.groupby("target_date")["inside"].agg(["sum", "count"]).sort_index()
    hits = daily["sum"].rolling(TRAILING_DAYS, min_periods=1).sum()
    counts = daily["count"].rolling(TRAILING_DAYS, min_periods=1).sum()
    return [
        {"date": str(day), "coverage": round(float(h / c), 4), "n": int(c)}
        for day, h, c in zip(daily.index, hits, counts, strict=True)
    ]


def ood_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Flagged (inputs unlike the training data) vs unflagged predictions: share flagged per
    target day, realised MAE and coverage of each group, and the MAE ratio."""
    known = frame[frame["ood_flagged"].notna()]
    if known.empty:
        return {"n_scored": 0}
    flagged = known["ood_flagged"].astype(bool)
    errors = (known["predicted"] - known["realised"]).abs()
    per_day = flagged.groupby(known["target_date"]).mean().sort_index()
    mae_f = float(errors[flagged].mean()) if flagged.any() else None
    mae_u = float(errors[~flagged].mean()) if (~flagged).any() else None
    return {
        "n_scored": len(known),
        "n_flagged": int(flagged.sum()),
        "flagged_share": _round(flagged.mean()),
        "flagged_share_by_day": {str(d): round(float(v), 4) for d, v in per_day.items()},
        "mae_flagged": _round(mae_f, 6),
        "mae_unflagged": _round(mae_u, 6),
        "mae_ratio_flagged_unflagged": _round(mae_f / mae_u if mae_f and mae_u else None, 3),
        "coverage_flagged": _round(known["inside"][flagged].mean() if flagged.any() else None),
        "coverage_unflagged": _round(known["inside"][~flagged].mean()),
    }
