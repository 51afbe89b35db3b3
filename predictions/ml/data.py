"""Which rows train, calibrate and test each model: a time split, never a random one.

Default split for data ending at ``until`` (the issue's split for the shared file ending
2025-07-09): train = every day before 1 Jan of (until.year - 3), validation = that calendar year
(2022), test = 1 Jan of (until.year - 2) .. until (2023-01-01 .. 2025-07-09). Rows whose target
day t+1 lies beyond a boundary are dropped from the earlier part, so no target leaks across it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import numpy as np

from core.enums import TYPE_OF_KIND

KINDS = ("normal", "earnings")
MODEL_TYPES = TYPE_OF_KIND


class DatasetLike(Protocol):
    tickers: np.ndarray
    dates: np.ndarray
    X: np.ndarray
    y: np.ndarray
    is_earnings_day: np.ndarray
    current_close: np.ndarray


@dataclass(frozen=True)
class Split:
    train_end: date  # last feature day of the training part (inclusive)
    val_start: date
    val_end: date
    test_start: date
    test_end: date

    @classmethod
    def for_until(cls, until: date) -> Split:
        val_year = until.year - 3
        return cls(
            train_end=date(val_year - 1, 12, 31),
            val_start=date(val_year, 1, 1),
            val_end=date(val_year, 12, 31),
            test_start=date(val_year + 1, 1, 1),
            test_end=until,
        )

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k).isoformat() for k in self.__dataclass_fields__}


def day(d: date) -> np.datetime64:
    return np.datetime64(d.isoformat(), "D")


def feature_columns(kind: str) -> list[str]:
    from features.definitions import ALL_FEATURES, TECHNICAL_FEATURES

    return list(TECHNICAL_FEATURES) if kind == "normal" else list(ALL_FEATURES)


def part_masks(ds: DatasetLike, split: Split) -> dict[str, np.ndarray]:
    """Boolean row masks train/val/test; rows need a known target. A row of day t belongs to a
    part only if t is in it; the last day of train/val is dropped because its target (t+1) is a
    day of the next part."""
    dates = ds.dates.astype("datetime64[D]")
    has_y = np.isfinite(ds.y)
    train = dates <= day(split.train_end)
    val = (dates >= day(split.val_start)) & (dates <= day(split.val_end))
    test = (dates >= day(split.test_start)) & (dates <= day(split.test_end))
    for mask in (train, val):
        if mask.any():
            mask &= dates < dates[mask].max()
    return {"train": train & has_y, "val": val & has_y, "test": test & has_y}


def kind_rows(ds: DatasetLike, kind: str) -> np.ndarray:
    """Rows a model of this kind SERVES (routing rule of the contract)."""
    return (
        ds.is_earnings_day.astype(bool) if kind == "earnings" else ~ds.is_earnings_day.astype(bool)
    )


def subsample(mask: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    """At most ``limit`` True entries, chosen uniformly with a fixed seed (sorted indices)."""
    idx = np.flatnonzero(mask)
    if limit is None or idx.size <= limit:
        return idx
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(idx, size=limit, replace=False))


def winsorize_limits(y: np.ndarray, q: float = 0.001) -> tuple[float, float]:
    lo, hi = np.quantile(y, [q, 1 - q])
    return float(lo), float(hi)


def summary(ds: DatasetLike) -> dict[str, Any]:
    dates = ds.dates.astype("datetime64[D]")
    return {
        "rows": len(ds.y),
        "symbols": int(np.unique(ds.tickers).size),
        "first_date": str(dates.min()) if len(dates) else None,
        "last_date": str(dates.max()) if len(dates) else None,
        "earnings_rows": int(np.count_nonzero(ds.is_earnings_day)),
    }
