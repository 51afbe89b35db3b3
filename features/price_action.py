"""The 12 price-action features for every symbol at once, one trading day at a time.

They describe the shape of the latest bars (gaps, ranges, where the close sits in the day's
range), very short returns against the market, and distance from recent highs and lows: the
OHLCV information the 20 technical features leave out (they read only close, high/low through
ATR, and volume). Chosen on test years 2019-2022 only (docs/models.md, "Price-action inputs").

``PriceActionEngine`` keeps its own rolling window of the last ``WINDOW`` = 253 days, with the
same missing-bar convention as ``features.technical`` (close carried forward; a missing day has
open = high = low = that close and return 0), and is stepped by the same loops (training data
set and live engine), so training and serving compute identical values.

Formulas (t = current trading day, C/O/H/L the carried close/open/high/low, r the daily return
``C_t / C_{t-1} - 1``, m the S&P 500's daily return):

* ``gap_1d`` = ``O_t / C_{t-1} - 1``; ``intraday_return_1d`` = ``C_t / O_t - 1``.
* ``range_1d`` = ``(H_t - L_t) / C_t``.
* ``close_location`` = ``(2 C_t - H_t - L_t) / (H_t - L_t)`` in [-1, 1]; 0 when H = L.
* ``return_3d`` = ``C_t / C_{t-3} - 1``.
* ``excess_return_1d`` = ``r_t - m_t``; ``excess_return_5d`` = the sum of ``r - m`` over t-4 .. t.
* ``range_ratio_5_60`` = mean of ``range_1d`` over 5 days / its mean over 60 days (NaN when 0).
* ``distance_high_20d`` = ``C_t / max(H_{t-19..t}) - 1``; ``distance_low_20d`` =
  ``C_t / min(L_{t-19..t}) - 1``; ``distance_high_252d`` = ``C_t / max(H_{t-251..t}) - 1``.
* ``max_return_20d`` = ``max(r_{t-19..t})``.

Like the technical features they are defined only with the symbol's full 253-day history.
"""

from __future__ import annotations

import numpy as np

from features.definitions import PRICE_FEATURES
from features.window import compact

WINDOW = 253
_COL = {name: i for i, name in enumerate(PRICE_FEATURES)}


def _nan(n: int) -> np.ndarray:
    return np.full(n, np.nan)


class PriceActionEngine:
    """Rolling state of the 12 price-action features for a fixed list of symbols."""

    def __init__(self, n_symbols: int, spare: int = 256) -> None:
        self.n_symbols = n_symbols
        self.capacity = WINDOW + spare
        shape = (n_symbols, self.capacity)
        self._close = np.full(shape, np.nan)
        self._open = np.full(shape, np.nan)
        self._high = np.full(shape, np.nan)
        self._low = np.full(shape, np.nan)
        self._ret = np.full(shape, np.nan)
        self._excess = np.full(shape, np.nan)
        self._range = np.full(shape, np.nan)
        self._mclose = np.nan
        self._n = 0
        self.history = np.zeros(n_symbols, dtype=np.int64)

    def _buffers(self) -> tuple[np.ndarray, ...]:
        return (
            self._close,
            self._open,
            self._high,
            self._low,
            self._ret,
            self._excess,
            self._range,
        )

    def _slot(self) -> int:
        if self._n == self.capacity:
            keep = WINDOW - 1
            compact(self._buffers(), self._n, keep)
            self._n = keep
        slot = self._n
        self._n += 1
        return slot

    def advance(
        self,
        open_: np.ndarray,
        high: np.ndarray,
        low: np.ndarray,
        close: np.ndarray,
        market_close: float,
    ) -> None:
        """Append one trading day: arrays of shape (S,), NaN where a symbol has no bar."""
        prev = self._close[:, self._n - 1].copy() if self._n else _nan(self.n_symbols)
        prev_m = self._mclose
        slot = self._slot()
        has_bar = np.isfinite(close)
        c = np.where(has_bar, close, prev)
        o = np.where(has_bar & np.isfinite(open_), open_, c)
        h = np.where(has_bar & np.isfinite(high), high, c)
        lo = np.where(has_bar & np.isfinite(low), low, c)
        m = market_close if np.isfinite(market_close) else prev_m
        with np.errstate(invalid="ignore", divide="ignore"):
            ret = c / prev - 1.0
            self._range[:, slot] = (h - lo) / c
            self._excess[:, slot] = ret - (m / prev_m - 1.0)
        self._close[:, slot] = c
        self._open[:, slot] = o
        self._high[:, slot] = h
        self._low[:, slot] = lo
        self._ret[:, slot] = ret
        self._mclose = m
        self.history += np.isfinite(c)

    def _last(self, buf: np.ndarray, k: int) -> np.ndarray | None:
        if self._n < k:
            return None
        return buf[:, self._n - k : self._n]

    def _col(self, buf: np.ndarray, back: int) -> np.ndarray:
        if self._n - 1 - back < 0:
            return _nan(self.n_symbols)
        return buf[:, self._n - 1 - back]

    def features(self) -> np.ndarray:
        """(S, 12) float64 features of the current day in ``PRICE_FEATURES`` order."""
        out = np.full((self.n_symbols, len(PRICE_FEATURES)), np.nan)
        if self._n == 0:
            return out
        with np.errstate(invalid="ignore", divide="ignore"):
            self._put_bar(out)
            self._put_windows(out)
        out[self.history < WINDOW] = np.nan
        return out

    def _put_bar(self, out: np.ndarray) -> None:
        c, o = self._col(self._close, 0), self._col(self._open, 0)
        h, lo = self._col(self._high, 0), self._col(self._low, 0)
        span = h - lo
        out[:, _COL["gap_1d"]] = o / self._col(self._close, 1) - 1.0
        out[:, _COL["intraday_return_1d"]] = c / o - 1.0
        out[:, _COL["range_1d"]] = self._col(self._range, 0)
        out[:, _COL["close_location"]] = np.where(span > 0, (2.0 * c - h - lo) / span, 0.0)
        out[:, _COL["return_3d"]] = c / self._col(self._close, 3) - 1.0
        out[:, _COL["excess_return_1d"]] = self._col(self._excess, 0)

    def _put_windows(self, out: np.ndarray) -> None:
        c = self._col(self._close, 0)
        excess, ret = self._last(self._excess, 5), self._last(self._ret, 20)
        if excess is not None:
            out[:, _COL["excess_return_5d"]] = excess.sum(axis=1)
        if ret is not None:
            out[:, _COL["max_return_20d"]] = ret.max(axis=1)
        for name, buf, k, reduce in (
            ("distance_high_20d", self._high, 20, np.max),
            ("distance_low_20d", self._low, 20, np.min),
            ("distance_high_252d", self._high, 252, np.max),
        ):
            win = self._last(buf, k)
            if win is not None:
                out[:, _COL[name]] = c / reduce(win, axis=1) - 1.0
        short, long = self._last(self._range, 5), self._last(self._range, 60)
        if short is not None and long is not None:
            base = long.mean(axis=1)
            out[:, _COL["range_ratio_5_60"]] = np.where(base > 0, short.mean(axis=1) / base, np.nan)
