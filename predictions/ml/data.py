"""Which rows train, calibrate and test each model: a time split, never a random one.

Multi-horizon kinds (``HORIZON_KINDS``) use the h-day return as target (``with_horizon``) and
drop h days at each boundary instead of one (``part_masks``).

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

from core.enums import HORIZON_OF_KIND, KIND_OF_HORIZON, TYPE_OF_KIND

KINDS = ("normal", "earnings")
HORIZON_KINDS: tuple[str, ...] = tuple(str(k) for k in KIND_OF_HORIZON.values())
ALL_KINDS = KINDS + HORIZON_KINDS  # every kind the lifecycle trains (commands' choices)
MODEL_TYPES = TYPE_OF_KIND


def horizon_of(kind: str) -> int:
    """Trading days ahead a kind forecasts (1 for the normal/earnings models)."""
    return HORIZON_OF_KIND[kind]


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


FEATURE_SETS = ("base", "price")


def feature_columns(kind: str, feature_set: str = "base") -> list[str]:
    """The stored features a model of ``kind`` reads: ``base`` = the 20 technical features for
    the normal model, the technical and earnings features (37) for the others (as the first
    models); ``price`` adds the 12 price-action features (``features.price_action``)."""
    from features.definitions import EARNINGS_FEATURES, PRICE_FEATURES, TECHNICAL_FEATURES

    if feature_set not in FEATURE_SETS:
        raise ValueError(f"Unknown feature set {feature_set!r}; expected one of {FEATURE_SETS}")
    names = (
        list(TECHNICAL_FEATURES) if kind == "normal" else [*TECHNICAL_FEATURES, *EARNINGS_FEATURES]
    )
    return names + list(PRICE_FEATURES) if feature_set == "price" else names


def part_masks(ds: DatasetLike, split: Split, horizon: int = 1) -> dict[str, np.ndarray]:
    """Boolean row masks train/val/test; rows need a known target. A row of day t belongs to a
    part only if t is in it; the last ``horizon`` days of train and of validation are dropped
    (the embargo) because their targets (close of t+1 .. t+horizon) are days of the next part:
    overlapping multi-day targets must not carry the next part's prices into this one."""
    dates = ds.dates.astype("datetime64[D]")
    has_y = np.isfinite(ds.y)
    train = dates <= day(split.train_end)
    val = (dates >= day(split.val_start)) & (dates <= day(split.val_end))
    test = (dates >= day(split.test_start)) & (dates <= day(split.test_end))
    for mask in (train, val):
        days = np.unique(dates[mask])
        if days.size:
            mask &= dates < days[-min(horizon, days.size)]
    return {"train": train & has_y, "val": val & has_y, "test": test & has_y}


@dataclass(frozen=True)
class HorizonDataset:
    """A dataset whose target is the ``horizon``-day return close(t) -> close(t+h), h trading
    days (panel columns) ahead; ``target_dates`` is the day of close(t+h) (NaT when unknown)."""

    tickers: np.ndarray
    dates: np.ndarray
    X: np.ndarray
    y: np.ndarray
    is_earnings_day: np.ndarray
    current_close: np.ndarray
    target_dates: np.ndarray
    horizon: int


def with_horizon(ds: DatasetLike, panel: Any, horizon: int) -> HorizonDataset:
    """``ds`` with its target replaced by the simple ``horizon``-day return (like the one-day
    target: close(t+h)/close(t) - 1, NaN when the close h trading days later is missing)."""
    pdates = np.asarray(panel.dates, dtype="datetime64[D]")
    close = np.asarray(panel.close, dtype="float64")
    row_of = {str(t): i for i, t in enumerate(panel.tickers)}
    rows = np.fromiter((row_of[str(t)] for t in ds.tickers), dtype="int64", count=len(ds.tickers))
    cols = np.searchsorted(pdates, np.asarray(ds.dates).astype("datetime64[D]"))
    ahead = cols + horizon
    known = ahead < pdates.size
    later = np.full(rows.size, np.nan)
    later[known] = close[rows[known], ahead[known]]
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (later / close[rows, cols] - 1.0).astype(np.float32)
    target_dates = np.full(rows.size, np.datetime64("NaT"), dtype="datetime64[D]")
    target_dates[known] = pdates[ahead[known]]
    return HorizonDataset(
        tickers=ds.tickers,
        dates=ds.dates,
        X=ds.X,
        y=y,
        is_earnings_day=ds.is_earnings_day,
        current_close=ds.current_close,
        target_dates=target_dates,
        horizon=horizon,
    )


def kind_rows(ds: DatasetLike, kind: str) -> np.ndarray:
    """Rows a model of this kind SERVES (routing rule of the contract); a horizon model serves
    every symbol."""
    if kind in HORIZON_KINDS:
        return np.ones(len(ds.y), dtype=bool)
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
