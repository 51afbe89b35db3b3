"""Forecast accuracy split by the market regime of the target day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from decisions.regime import STATE_NAMES
from decisions.regime_store import by_date


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def breakdown(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per regime, from daily points ``{"time", "n", "mae", "mae_naive", "coverage",
    "rank_ic"}``: days, predictions, MAE / naive MAE (prediction-weighted), coverage
    (prediction-weighted) and the mean daily rank IC. Days without a stored regime are left
    out."""
    if not points:
        return []
    days = [dt.date.fromisoformat(p["time"]) for p in points]
    regimes = by_date(min(days), max(days))
    out = []
    for name in STATE_NAMES:
        mine = [p for p, d in zip(points, days, strict=True) if regimes.get(d) == name]
        if not mine:
            continue
        n = sum(p["n"] for p in mine)
        mae = sum(p["mae"] * p["n"] for p in mine) / n
        naive = sum(p["mae_naive"] * p["n"] for p in mine) / n
        covered = [p for p in mine if p["coverage"] is not None]
        coverage = (
            sum(p["coverage"] * p["n"] for p in covered) / sum(p["n"] for p in covered)
            if covered
            else None
        )
        out.append(
            {
                "regime": name,
                "days": len(mine),
                "n": n,
                "mae": mae,
                "mae_naive": naive,
                "mae_ratio": mae / naive if naive else None,
                "coverage": coverage,
                "rank_ic": _mean([p["rank_ic"] for p in mine if p["rank_ic"] is not None]),
            }
        )
    return out
