"""The live feature engine: full build from a panel, then one-day incremental updates.

``FeatureEngine.full(panel)`` steps the same ``TechnicalEngine`` the training data set uses
through the panel's days; ``update(bars)`` appends one day. Both return ``LiveFeatures`` for the
last day, whose technical values are bit-identical to ``build_dataset`` on the same history and
whose earnings values come from the same ``earnings_features_rows`` over the last
``CLOSE_LOOKBACK`` + 1 closes (enough for every post-earnings window the features may use).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from features.dataset import earnings_day_mask, next_trading_days
from features.definitions import (
    EARNINGS_SLICE,
    N_FEATURES,
    N_TECHNICAL,
    PRICE_SLICE,
    TECHNICAL_SLICE,
)
from features.earnings import CLOSE_LOOKBACK, EarningsData, earnings_features_rows
from features.market import market_close
from features.panel import Panel
from features.price_action import PriceActionEngine
from features.technical import TechnicalEngine


@dataclass
class LiveFeatures:
    tickers: np.ndarray  # (S,)
    data_date: dt.date
    X: np.ndarray  # (S, 49) float32, ALL_FEATURES order, NaN = missing
    close: np.ndarray  # (S,) close of data_date (NaN when the symbol has no bar that day)
    is_earnings_day: np.ndarray  # (S,) bool: the next trading day is a reaction day

    @property
    def data_timestamp(self) -> str:
        """00:00 UTC of the data's trading day, ISO with Z (as ``PriceBar.timestamp``)."""
        return f"{self.data_date.isoformat()}T00:00:00Z"

    @property
    def valid(self) -> np.ndarray:
        """Symbols with a bar on data_date and every technical feature defined."""
        ok: np.ndarray = np.isfinite(self.close) & np.isfinite(self.X[:, :N_TECHNICAL]).all(axis=1)
        return ok


@dataclass
class DayBars:
    """One trading day's bars for some symbols (any order; NaN / absent = no bar)."""

    date: dt.date
    tickers: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @classmethod
    def from_db(cls, date: dt.date) -> DayBars:
        panel = Panel.from_db(start=date, end=date)
        col = int(np.searchsorted(panel.dates, np.datetime64(date, "D")))
        if col >= len(panel.dates) or panel.dates[col] != np.datetime64(date, "D"):
            raise LookupError(f"No daily bars stored for {date}")
        return cls(
            date=date,
            tickers=panel.tickers,
            **{f: getattr(panel, f)[:, col] for f in ("open", "high", "low", "close", "volume")},
        )


_FIELDS = ("open", "high", "low", "close", "volume")


class FeatureEngine:
    """Rolling feature state for a fixed universe of tickers (one instance per universe)."""

    def __init__(self, earnings: EarningsData | None = None, *, check_earnings: bool = True):
        self._earnings = earnings
        self._check_earnings = check_earnings
        self.tickers: np.ndarray = np.array([], dtype=str)
        self._tech: TechnicalEngine | None = None
        self._price: PriceActionEngine | None = None
        self._index: dict[str, int] = {}
        cap = CLOSE_LOOKBACK + 1 + 256
        self._cap = cap
        self._closes = np.empty((0, cap))
        self._dates = np.empty(cap, dtype="datetime64[D]")
        self._n = 0
        self.data_date: dt.date | None = None

    def set_earnings(self, data: EarningsData) -> None:
        """Swap in freshly loaded earnings facts (new events, fundamentals) between cycles."""
        self._earnings = data

    @property
    def ready(self) -> bool:
        return self._tech is not None and self._n > 0

    def _earnings_data(self) -> EarningsData:
        if self._earnings is None:
            self._earnings = EarningsData.from_db(self.tickers)
        return self._earnings

    def _append(
        self, day: np.datetime64[dt.date], bars: dict[str, np.ndarray], mclose: float
    ) -> None:
        """``bars``: (S,) arrays open, high, low, close, volume in the universe's order."""
        assert self._tech is not None and self._price is not None
        high, low, close = bars["high"], bars["low"], bars["close"]
        self._tech.advance(high, low, close, bars["volume"], mclose)
        self._price.advance(bars["open"], high, low, close, mclose)
        if self._n == self._cap:
            keep = CLOSE_LOOKBACK  # + the new column = CLOSE_LOOKBACK + 1
            self._closes[:, :keep] = self._closes[:, self._n - keep : self._n]
            self._dates[:keep] = self._dates[self._n - keep : self._n]
            self._n = keep
        self._closes[:, self._n] = close
        self._dates[self._n] = day
        self._n += 1
        self.data_date = day.item()

    def full(self, panel: Panel) -> LiveFeatures:
        """Rebuild the state from a panel (its last day becomes the data date)."""
        s = len(panel.tickers)
        self.tickers = panel.tickers.copy()
        self._index = {t: i for i, t in enumerate(self.tickers)}
        self._tech = TechnicalEngine(s)
        self._price = PriceActionEngine(s)
        self._closes = np.full((s, self._cap), np.nan)
        self._n = 0
        mclose = market_close(panel.dates)
        # Only the last CLOSE_LOOKBACK + 1 closes are kept, but every day feeds the state.
        for j in range(len(panel.dates)):
            bars = {f: getattr(panel, f)[:, j] for f in _FIELDS}
            self._append(panel.dates[j], bars, float(mclose[j]))
        return self.snapshot()

    def update(self, bars: DayBars) -> LiveFeatures:
        """Append one trading day (must be after the current data date)."""
        if not self.ready:
            raise RuntimeError("FeatureEngine.update() before full()")
        day = np.datetime64(bars.date, "D")
        if self.data_date is not None and day <= np.datetime64(self.data_date, "D"):
            raise ValueError(f"{bars.date} is not after the engine's data date {self.data_date}")
        s = len(self.tickers)
        idx = np.array([self._index.get(str(t), -1) for t in bars.tickers], dtype=np.int64)
        ok = idx >= 0
        cols = {}
        for name in _FIELDS:
            arr = np.full(s, np.nan)
            arr[idx[ok]] = np.asarray(getattr(bars, name), dtype=np.float64)[ok]
            cols[name] = arr
        mclose = float(market_close(np.array([day]))[0])
        self._append(day, cols, mclose)
        return self.snapshot()

    def snapshot(self) -> LiveFeatures:
        """Features of the current data date for every symbol of the universe."""
        assert self._tech is not None and self._price is not None
        s = len(self.tickers)
        x = np.full((s, N_FEATURES), np.nan, dtype=np.float32)
        x[:, TECHNICAL_SLICE] = self._tech.features()
        x[:, PRICE_SLICE] = self._price.features()
        closes = self._closes[:, : self._n]
        dates = self._dates[: self._n]
        last = self._n - 1
        rows_s = np.arange(s)
        earn = earnings_features_rows(
            self._earnings_data(), self.tickers, dates, closes, rows_s, np.full(s, last)
        )
        x[:, EARNINGS_SLICE] = earn
        close = closes[:, last].copy()
        if self._check_earnings and s:
            nxt = next_trading_days(np.full(s, dates[last]))
            is_earn = earnings_day_mask(self.tickers, nxt)
        else:
            is_earn = np.zeros(s, dtype=bool)
        return LiveFeatures(
            tickers=self.tickers,
            data_date=dates[last].item(),
            X=x,
            close=close,
            is_earnings_day=is_earn,
        )
