"""Accuracy figures on one evaluation set; every model and baseline is scored on the same rows."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from scipy import stats

SIGMA_FROM_80 = 2 * 1.2815516  # (p90 - p10) / this = normal-equivalent sigma (docs/contracts.md)
MIN_CROSS_SECTION = 5  # names per day needed for a daily Spearman correlation


def mae(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(pred, dtype="float64") - y)))


def pearson(pred: np.ndarray, y: np.ndarray) -> float | None:
    if len(y) < 3 or np.std(pred) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(pred, y)[0, 1])


def daily_rank_ics(pred: np.ndarray, y: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Spearman correlation across names, one value per day with enough distinct values."""
    order = np.argsort(dates, kind="stable")
    d, p, t = dates[order], np.asarray(pred)[order], np.asarray(y)[order]
    bounds = np.flatnonzero(np.r_[True, d[1:] != d[:-1], True])
    ics = []
    for a, b in itertools.pairwise(bounds):
        if b - a < MIN_CROSS_SECTION or np.ptp(p[a:b]) == 0 or np.ptp(t[a:b]) == 0:
            continue
        ics.append(float(stats.spearmanr(p[a:b], t[a:b]).statistic))
    out = np.asarray(ics, dtype="float64")
    finite: np.ndarray = out[np.isfinite(out)]
    return finite


def daily_rank_ic(pred: np.ndarray, y: np.ndarray, dates: np.ndarray) -> tuple[float | None, int]:
    """Mean over days of the Spearman correlation across names on that day."""
    ics = daily_rank_ics(pred, y, dates)
    return (float(np.mean(ics)) if ics.size else None), int(ics.size)


def icir(ics: np.ndarray) -> float | None:
    """Annualised information ratio of a daily IC series: mean / std x sqrt(252)."""
    if ics.size < 2 or not np.std(ics, ddof=1) > 0:
        return None
    return float(np.mean(ics) / np.std(ics, ddof=1) * np.sqrt(252))


def hit_rate(pred: np.ndarray, y: np.ndarray) -> float | None:
    """Share of rows (with a non-zero outcome) whose forecast has the outcome's sign."""
    ok = np.asarray(y) != 0
    if not ok.any():
        return None
    return float(np.mean(np.sign(np.asarray(pred)[ok]) == np.sign(np.asarray(y)[ok])))


def pinball(
    quantiles: np.ndarray, y: np.ndarray, levels: tuple[float, ...] = (0.1, 0.5, 0.9)
) -> float:
    """Mean pinball (quantile) loss over the levels, in return units."""
    diff = np.asarray(y, dtype="float64")[:, None] - np.asarray(quantiles, dtype="float64")
    tau = np.asarray(levels, dtype="float64")[None, :]
    return float(np.mean(np.maximum(tau * diff, (tau - 1.0) * diff)))


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def evaluate(
    y: np.ndarray,
    dates: np.ndarray,
    point: np.ndarray,
    quantiles: np.ndarray,
    *,
    baselines: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """The contract keys (n, mae, mae_naive, mae_ratio, ic, rank_ic, coverage_p10_p90,
    mae_lightgbm) plus p50 MAE, interval width, sigma and the other baselines."""
    y = np.asarray(y, dtype="float64")
    point = np.asarray(point, dtype="float64").reshape(-1)
    quantiles = np.asarray(quantiles, dtype="float64").reshape(-1, 3)
    n = len(y)
    if n == 0:
        return {"n": 0}
    mae_model = mae(point, y)
    mae_naive = mae(np.zeros_like(y), y)
    rank_ic, ic_days = daily_rank_ic(point, y, dates)
    p10, p50, p90 = quantiles[:, 0], quantiles[:, 1], quantiles[:, 2]
    sigma = (p90 - p10) / SIGMA_FROM_80
    out: dict[str, Any] = {
        "n": int(n),
        "days": int(np.unique(dates).size),
        "mae": _round(mae_model),
        "mae_naive": _round(mae_naive),
        "mae_ratio": _round(mae_model / mae_naive if mae_naive > 0 else None),
        "ic": _round(pearson(point, y)),
        "rank_ic": _round(rank_ic),
        "rank_ic_days": ic_days,
        "coverage_p10_p90": _round(float(np.mean((y >= p10) & (y <= p90)))),
        "below_p10": _round(float(np.mean(y < p10))),
        "above_p90": _round(float(np.mean(y > p90))),
        "mae_p50": _round(mae(p50, y)),
        "mean_interval_width": _round(float(np.mean(p90 - p10))),
        "mean_uncertainty_sigma": _round(float(np.mean(sigma))),
        "monotone": bool(np.all(p10 <= p50) and np.all(p50 <= p90)),
    }
    for name, pred in (baselines or {}).items():
        pred = np.asarray(pred, dtype="float64").reshape(-1)
        ok = np.isfinite(pred)
        # A baseline without a value on a row (e.g. no 20-day history) predicts zero there.
        out[f"mae_{name}"] = _round(mae(np.where(ok, pred, 0.0), y))
        if name == "lightgbm":
            out["rank_ic_lightgbm"] = _round(daily_rank_ic(pred, y, dates)[0])
    return out
