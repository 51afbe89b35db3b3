"""Model inputs: THE one code path from the 49 stored features of a day's symbols to the columns
a model reads, shared by training, evaluation, the walk-forward and the serving pipeline.

An input name is either a stored feature (``features.definitions.ALL_FEATURES``, passed through
raw) or a derived cross-sectional input:
- ``xs_rank:<feature>``: the feature's percentile rank among the symbols of the SAME day, centred
  to [-0.5, 0.5] (ties share their mean rank, NaN stays NaN). Ranks remove the market-wide level
  and scale of a feature, which move over years, and keep only where a name stands against its
  peers that day.
- ``sector_mean:<feature>``: the equal-weighted mean of the feature over the same day's symbols
  of the symbol's GICS sector (NaN for an unknown sector or fewer than ``MIN_SECTOR_SYMBOLS``
  values), and ``sector_rel:<feature>`` = the feature minus that mean: how the industry moved
  and how the name moved against it (issue 13). They need each row's sector (``sectors``).
Serving predicts every symbol of a day at once (``predictions.pipeline.cycle``), so the day's
universe is there and the inputs are computed by this very function; rows of different days
never mix (``day_ids``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

XS_RANK = "xs_rank:"
SECTOR_MEAN = "sector_mean:"
SECTOR_REL = "sector_rel:"
# Market-wide inputs are equal for every symbol of a day: their rank carries no information.
NOT_RANKED = frozenset({"market_return", "market_volatility"})
SECTOR_FEATURES = ("return_1d", "return_5d", "return_20d")
MIN_SECTOR_SYMBOLS = 3
SCHEMES = ("raw", "xs_rank", "xs_rank_sector")
_DERIVED = (XS_RANK, SECTOR_MEAN, SECTOR_REL)


def base_name(name: str) -> str:
    for prefix in _DERIVED:
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return name


def sector_inputs() -> list[str]:
    """The sector inputs' names, in the order of ``input_columns``."""
    return [f"{prefix}{f}" for prefix in (SECTOR_REL, SECTOR_MEAN) for f in SECTOR_FEATURES]


def needs_sectors(inputs: Sequence[str]) -> bool:
    return any(name.startswith((SECTOR_MEAN, SECTOR_REL)) for name in inputs)


def input_columns(features: Sequence[str], scheme: str) -> list[str]:
    """The model's input names for its stored ``features`` under ``scheme``."""
    if scheme not in SCHEMES:
        raise ValueError(f"Unknown input scheme {scheme!r}; expected one of {SCHEMES}")
    names = list(features)
    if scheme in ("xs_rank", "xs_rank_sector"):
        names += [f"{XS_RANK}{f}" for f in features if f not in NOT_RANKED]
    if scheme == "xs_rank_sector":
        names += sector_inputs()
    return names


def cross_sectional_rank(values: np.ndarray, day_ids: np.ndarray) -> np.ndarray:
    """Per-day percentile rank of ``values`` in [-0.5, 0.5] (mean rank for ties, NaN kept)."""
    values = np.asarray(values, dtype="float64")
    out = np.full(values.shape, np.nan, dtype="float64")
    idx = np.flatnonzero(np.isfinite(values))
    if idx.size == 0:
        return out
    order = idx[np.lexsort((values[idx], day_ids[idx]))]
    d, v = day_ids[order], values[order]
    new_day = np.r_[True, d[1:] != d[:-1]]
    starts = np.flatnonzero(new_day)
    counts = np.diff(np.r_[starts, order.size])
    pos = np.arange(order.size) - np.repeat(starts, counts)
    # Equal values on one day share the mean of their positions.
    run = np.cumsum(np.r_[True, new_day[1:] | (v[1:] != v[:-1])]) - 1
    mean_pos = np.bincount(run, weights=pos) / np.bincount(run)
    out[order] = (mean_pos[run] + 0.5) / np.repeat(counts, counts) - 0.5
    return out


def sector_mean(values: np.ndarray, day_ids: np.ndarray, sectors: np.ndarray) -> np.ndarray:
    """Equal-weighted mean of ``values`` over the rows of the same day and sector (finite values
    only); NaN for an unknown sector ("") or fewer than ``MIN_SECTOR_SYMBOLS`` values."""
    values = np.asarray(values, dtype="float64")
    out = np.full(values.shape, np.nan, dtype="float64")
    labels, codes = np.unique(np.asarray(sectors).astype(str), return_inverse=True)
    known = labels[codes] != ""
    if not known.any():
        return out
    group = np.asarray(day_ids, dtype="int64") * len(labels) + codes
    ok = known & np.isfinite(values)
    size = int(group.max()) + 1
    sums = np.bincount(group[ok], weights=values[ok], minlength=size)
    counts = np.bincount(group[ok], minlength=size)
    enough = known & (counts[group] >= MIN_SECTOR_SYMBOLS)
    out[enough] = sums[group[enough]] / counts[group[enough]]
    return out


def _derived(
    name: str, column: np.ndarray, days: np.ndarray, sectors: np.ndarray | None
) -> np.ndarray:
    if name.startswith(XS_RANK):
        return cross_sectional_rank(column, days)
    if sectors is None:
        raise KeyError(f"Sectors not supplied for {name}")
    mean = sector_mean(column, days, sectors)
    return mean if name.startswith(SECTOR_MEAN) else column - mean


def model_inputs(
    x: np.ndarray,
    names: Sequence[str],
    inputs: Sequence[str],
    day_ids: np.ndarray | None = None,
    *,
    ranks: dict[str, np.ndarray] | None = None,
    sectors: np.ndarray | None = None,
) -> np.ndarray:
    """(N, len(inputs)) float32 for rows ``x`` (N, len(names)) of stored features.

    ``day_ids`` (N,) groups rows by day for the cross-sectional inputs; None = one day (serving).
    Pass EVERY symbol of each day, not just the rows one model serves: the rank is against the
    whole day's universe, in training and at serving alike. ``ranks``: a dict kept for the same
    ``x`` (one serving cycle) so models that share a derived input compute it once.
    ``sectors``: (N,) each row's GICS sector ("" unknown), for the sector inputs.
    """
    index = {name: i for i, name in enumerate(names)}
    missing = [n for n in inputs if base_name(n) not in index]
    if missing:
        raise KeyError(f"Features not supplied: {missing}")
    days = np.zeros(len(x), dtype="int64") if day_ids is None else np.asarray(day_ids)
    out = np.empty((len(x), len(inputs)), dtype="float32")
    for j, name in enumerate(inputs):
        column = np.asarray(x[:, index[base_name(name)]], dtype="float64")
        if name == base_name(name):
            out[:, j] = column
        elif ranks is not None and name in ranks:
            out[:, j] = ranks[name]
        else:
            out[:, j] = _derived(name, column, days, sectors)
            if ranks is not None:
                ranks[name] = out[:, j].copy()
    return out


def day_ids_of(dates: np.ndarray) -> np.ndarray:
    """Integer day id per row (rows of one date share it)."""
    return np.unique(np.asarray(dates).astype("datetime64[D]"), return_inverse=True)[1]
