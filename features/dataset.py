"""``build_dataset``: THE code path that turns a price panel into (features, target) rows.

Training calls it on a historical panel; the live engine (``features.live``) runs the very same
``TechnicalEngine`` day by day and the same earnings feature code, so training and serving
compute identical values (tested in ``features/tests/test_live.py``).

Rows: one per (symbol, trading day t) where the symbol has a bar on t and all 20 technical
features are defined (253 days of history). Columns of ``X`` follow ``ALL_FEATURES`` (the
price-action features share the technical features' 253-day requirement); NaN means
missing (earnings features are NaN where the data cannot give them). ``y`` is the next-day
return ``close(t+1) / close(t) - 1`` with t+1 the next date of the panel (NaN where the symbol
has no bar on t+1, or t is the panel's last day). ``is_earnings_day`` is true when the symbol
has an ``EarningsEvent`` whose ``reaction_date`` is the next NYSE trading day after t.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from features.definitions import (
    ALL_FEATURES,
    EARNINGS_SLICE,
    N_FEATURES,
    N_PRICE,
    N_TECHNICAL,
    PRICE_SLICE,
    TECHNICAL_SLICE,
)
from features.earnings import earnings_features as earnings_features  # tests swap it here
from features.market import market_close
from features.panel import DateLike, Panel, _day
from features.price_action import PriceActionEngine
from features.technical import TechnicalEngine


@dataclass
class Dataset:
    tickers: np.ndarray  # (N,) str
    dates: np.ndarray  # (N,) datetime64[D], day t of the features
    X: np.ndarray  # (N, 49) float32, ALL_FEATURES order, NaN = missing
    y: np.ndarray  # (N,) float32 next-day return, NaN when unknown
    is_earnings_day: np.ndarray  # (N,) bool
    current_close: np.ndarray  # (N,) float64 close of day t

    feature_names: tuple[str, ...] = ALL_FEATURES

    def __len__(self) -> int:
        return len(self.y)

    @property
    def mask(self) -> np.ndarray:
        """(N, 49) bool, True where a feature has a value (the explicit missingness mask)."""
        has_value: np.ndarray = np.isfinite(self.X)
        return has_value


def next_trading_days(dates: np.ndarray) -> np.ndarray:
    """The NYSE trading day after each date (datetime64[D])."""
    from ingestion.calendar import sessions

    days = sessions()
    i = np.searchsorted(days, np.asarray(dates).astype("datetime64[D]"), side="right")
    following: np.ndarray = days[np.minimum(i, len(days) - 1)]
    return following


def earnings_day_mask(tickers: np.ndarray, next_days: np.ndarray) -> np.ndarray:
    """For (ticker, next_day) pairs: does an ``EarningsEvent`` react on that next day?"""
    from ingestion.models import EarningsEvent

    tickers = np.asarray(tickers).astype(str)
    next_days = np.asarray(next_days).astype("datetime64[D]")
    if len(tickers) == 0:
        return np.zeros(0, dtype=bool)
    lo, hi = next_days.min().item(), next_days.max().item()
    # No ticker filter: an IN list of thousands of tickers costs more than the few extra rows.
    rows = EarningsEvent.objects.filter(reaction_date__gte=lo, reaction_date__lte=hi).values_list(
        "symbol__ticker", "reaction_date"
    )
    keys = {f"{t}|{d.isoformat()}" for t, d in rows if d is not None}  # never None (>= lo)
    if not keys:
        return np.zeros(len(tickers), dtype=bool)
    pair = np.char.add(np.char.add(tickers.astype("U16"), "|"), next_days.astype("U10"))
    return np.isin(pair, np.array(sorted(keys)))


class _Engine(Protocol):
    # Each engine takes its own bar fields, then the S&P 500 close.
    def advance(self, *args: Any, **kwargs: Any) -> None: ...

    def features(self) -> np.ndarray: ...


def _history(
    panel: Panel,
    engine: _Engine,
    fields: tuple[str, ...],
    width: int,
    *,
    start_index: int,
    market: np.ndarray | None,
) -> np.ndarray:
    """(S, D, width) float32 features of every day of the panel (NaN where undefined), computed
    by stepping ``engine`` through the days with the panel's ``fields`` and the S&P 500 close."""
    s, d = panel.shape
    out = np.full((s, d, width), np.nan, dtype=np.float32)
    mclose = market_close(panel.dates) if market is None else market
    for j in range(d):
        engine.advance(*(getattr(panel, f)[:, j] for f in fields), float(mclose[j]))
        if j >= start_index:
            out[:, j, :] = engine.features()
    return out


def technical_history(
    panel: Panel, *, start_index: int = 0, market: np.ndarray | None = None
) -> np.ndarray:
    """(S, D, 20) technical features, by stepping one ``TechnicalEngine`` through the days."""
    fields = ("high", "low", "close", "volume")
    engine = TechnicalEngine(panel.shape[0])
    return _history(panel, engine, fields, N_TECHNICAL, start_index=start_index, market=market)


def price_action_history(
    panel: Panel, *, start_index: int = 0, market: np.ndarray | None = None
) -> np.ndarray:
    """(S, D, 12) price-action features, by stepping one ``PriceActionEngine`` through the days."""
    fields = ("open", "high", "low", "close")
    engine = PriceActionEngine(panel.shape[0])
    return _history(panel, engine, fields, N_PRICE, start_index=start_index, market=market)


def build_dataset(panel: Panel, *, start: DateLike = None, end: DateLike = None) -> Dataset:
    """Feature rows for the days in [start, end] (the whole panel by default).

    History before ``start`` in the panel is used to warm the rolling windows up, so pass a
    panel that begins at least 253 trading days before ``start`` to get rows from ``start``.
    Nothing after day t is used for the features of day t (only ``y`` looks one day ahead).
    """
    lo, hi = _day(start), _day(end)
    if hi is not None:
        # Keep one extra day after `end` so y of the last requested day is known.
        stop = min(int(np.searchsorted(panel.dates, hi, side="right")) + 1, len(panel.dates))
        panel = Panel(
            tickers=panel.tickers,
            dates=panel.dates[:stop],
            **{f: getattr(panel, f)[:, :stop] for f in ("open", "high", "low", "close", "volume")},
        )
    d = panel.shape[1]
    first = int(np.searchsorted(panel.dates, lo)) if lo is not None else 0
    last = int(np.searchsorted(panel.dates, hi, side="right")) if hi is not None else d

    mclose = market_close(panel.dates)
    tech = technical_history(panel, start_index=first, market=mclose)
    in_range = np.zeros(d, dtype=bool)
    in_range[first:last] = True
    rows_mask = np.isfinite(panel.close) & np.isfinite(tech).all(axis=2) & in_range[np.newaxis, :]
    sym_idx, day_idx = np.nonzero(rows_mask)

    close = panel.close
    nxt = np.full_like(close, np.nan)
    nxt[:, :-1] = close[:, 1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (nxt[sym_idx, day_idx] / close[sym_idx, day_idx] - 1.0).astype(np.float32)

    n = len(sym_idx)
    x = np.full((n, N_FEATURES), np.nan, dtype=np.float32)
    x[:, TECHNICAL_SLICE] = tech[sym_idx, day_idx]
    del tech
    x[:, EARNINGS_SLICE] = earnings_features(panel, sym_idx, day_idx)
    x[:, PRICE_SLICE] = price_action_history(panel, start_index=first, market=mclose)[
        sym_idx, day_idx
    ]

    tickers = panel.tickers[sym_idx]
    dates = panel.dates[day_idx]
    is_earn = earnings_day_mask(tickers, next_trading_days(dates)) if n else np.zeros(0, bool)
    return Dataset(
        tickers=tickers,
        dates=dates,
        X=x,
        y=y,
        is_earnings_day=is_earn,
        current_close=close[sym_idx, day_idx].astype(np.float64),
    )


def as_date(value: np.datetime64) -> dt.date:
    day: dt.date = value.astype("datetime64[D]").item()
    return day
