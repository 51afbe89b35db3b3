"""Conformalised quantile calibration on the validation year (scaled, one-sided per tail).

The raw p10/p90 heads are rescaled around p50: p10' = p50 - s_lo * (p50 - p10) and
p90' = p50 + s_hi * (p90 - p50). s_lo is the conformal (finite-sample corrected) 90% quantile of
the normalised lower score (p50 - y) / (p50 - p10) on validation rows, s_hi likewise for the upper
tail, so about 10% of validation outcomes fall below p10' and 10% above p90' (80% inside).
Multiplying the offsets by s >= 0 keeps p10 <= p50 <= p90, and the offsets stay conditional on the
features (a volatile name keeps a wider interval than a quiet one).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

TAIL = 0.10  # each tail outside [p10, p90]
MIN_OFFSET = 1e-8


def conformal_level(n: int, tail: float = TAIL) -> float:
    return min(1.0, math.ceil((n + 1) * (1 - tail)) / n)


def tail_scales(y: np.ndarray, quantiles: np.ndarray) -> dict[str, Any]:
    """Multipliers (lower, upper) from RAW (uncalibrated) validation quantiles."""
    y = np.asarray(y, dtype="float64")
    q = np.asarray(quantiles, dtype="float64")
    p10, p50, p90 = q[:, 0], q[:, 1], q[:, 2]
    d_lo = np.maximum(p50 - p10, MIN_OFFSET)
    d_hi = np.maximum(p90 - p50, MIN_OFFSET)
    n = len(y)
    level = conformal_level(n)
    s_lo = float(np.quantile((p50 - y) / d_lo, level, method="higher"))
    s_hi = float(np.quantile((y - p50) / d_hi, level, method="higher"))
    return {
        "method": "scaled_conformal_quantile_regression",
        "fitted_on": "validation",
        "n": int(n),
        "target_coverage": round(1 - 2 * TAIL, 4),
        "conformal_level": level,
        "lower_scale": max(s_lo, 0.0),
        "upper_scale": max(s_hi, 0.0),
        "raw_coverage_validation": float(np.mean((y >= p10) & (y <= p90))),
    }


def apply_scales(quantiles: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """The same transformation the graph applies (used to check the graph on validation)."""
    q = np.asarray(quantiles, dtype="float64")
    p50 = q[:, 1]
    return np.stack([p50 - lower * (p50 - q[:, 0]), p50, p50 + upper * (q[:, 2] - p50)], axis=1)


MAX_SHRINK = 1.5  # the largest point scale, unless a kind caps it (lifecycle.MAX_POINT_SCALE)
SHRINK_GRID = np.round(np.arange(0.05, MAX_SHRINK + 0.01, 0.05), 2)


def point_shrinkage(
    y: np.ndarray, point: np.ndarray, max_scale: float = MAX_SHRINK
) -> dict[str, Any]:
    """The multiplier k of the point forecast with the lowest validation MAE of k * point (grid
    0.05..``max_scale``): a weak signal is MAE-optimal when shrunk towards the zero forecast.
    k stays > 0 so the forecast keeps its ranking of the symbols (k = 0 would be the zero
    forecast)."""
    y = np.asarray(y, dtype="float64")
    point = np.asarray(point, dtype="float64")
    grid = SHRINK_GRID[np.less_equal(SHRINK_GRID, max_scale + 1e-9)]
    maes = [float(np.mean(np.abs(k * point - y))) for k in grid]
    best = int(np.argmin(maes))
    return {
        "point_scale": float(grid[best]),
        "point_scale_max": float(max_scale),
        "point_mae_validation_unscaled": maes[int(np.flatnonzero(SHRINK_GRID == 1.0)[0])],
        "point_mae_validation_scaled": maes[best],
    }
