"""The 20 technical features for every symbol at once, one trading day at a time.

``TechnicalEngine`` keeps a rolling window (the last ``WINDOW`` = 253 trading days) of each
symbol's close, daily return and volume as (symbols x days) NumPy arrays, plus the state of the
exponential averages (MACD, RSI, ATR). ``advance()`` appends one day for all symbols (a few
vectorised NumPy operations, no per-symbol loop); ``features()`` reduces the window to the 20
features of the current day. The training data set (``features.dataset``) and the live engine
(``features.live``) drive this same class, so the two cannot drift apart, and an incremental
update is bit-identical to a full recompute of the same history.

Conventions (t = the current trading day, positions are trading days of the panel's date axis):

* Missing bar. A day without a bar for a symbol is a day on which its price did not change:
  the close is carried forward (``C_t = C_{t-1}``, daily return 0), high = low = that close
  (true range 0) and the volume is missing (NaN). Volume means skip missing days. Before the
  symbol's first bar everything is NaN. A data set row / live value exists only on days with an
  actual bar.
* Daily return ``r_t = C_t / C_{t-1} - 1``.
* ``return_k`` = ``C_t / C_{t-k} - 1`` for k = 1, 5, 20, 60, 120, 252 (needs 253 days of history).
* ``volatility_k`` = sample standard deviation (ddof = 1) of the k daily returns
  ``r_{t-k+1} .. r_t`` times sqrt(252) (annualised), k = 5, 20, 60.
* ``volume_ratio_k`` = ``V_t / mean(V_{t-k+1} .. V_t)`` (k days including t, missing days
  skipped), k = 5, 20; NaN when that mean is 0 or V_t is missing.
* ``dollar_volume`` = ``C_t * V_t`` in price units (the shared data's volume is split-adjusted
  like its prices, so this is close to the traded value). Models should see it transformed
  (e.g. log1p); the value stored is raw.
* ``market_beta`` = ``Cov(r, m) / Var(m)`` over the 60 daily returns ``t-59 .. t`` of the stock
  (r) and the S&P 500 (m), both demeaned over the window.
* ``market_return`` = ``M_t / M_{t-1} - 1`` (one-day S&P 500 return, same day t).
* ``market_volatility`` = sample std (ddof = 1) of the last 20 daily S&P 500 returns x sqrt(252).
* ``rsi_14`` = ``100 - 100 / (1 + G/L)`` with Wilder smoothing (alpha = 1/14, i.e.
  ``G_t = G_{t-1} + (g_t - G_{t-1}) / 14``) of gains ``g = max(C_t - C_{t-1}, 0)`` and losses
  ``l = max(C_{t-1} - C_t, 0)``, seeded with 0 on the symbol's first bar (as the ``ta`` library
  does); 100 when L = 0 (and 50 when G = L = 0).
* ``macd`` = ``EMA12(C) - EMA26(C)`` with ``EMA_t = EMA_{t-1} + a (C_t - EMA_{t-1})``,
  ``a = 2/(n+1)``, seeded with the first close (pandas ``ewm(adjust=False)``), price units.
* ``sma_50_200_cross`` = 1.0 if ``mean(C_{t-49..t}) > mean(C_{t-199..t})`` else 0.0.
* ``bollinger_position`` = ``(C_t - L) / (U - L)`` with ``U, L = SMA20 +- 2 sigma20``, sigma the
  population std (ddof = 0) of the last 20 closes (as ``ta``); 0.5 when sigma = 0.
* ``atr`` = Wilder average (alpha = 1/14) of the true range
  ``TR_t = max(H_t - L_t, |H_t - C_{t-1}|, |L_t - C_{t-1}|)`` (``H_t - L_t`` on the first bar),
  seeded with the first bar's true range, price units. (``ta`` seeds with the mean of the first
  14 TR; the difference decays as (13/14)^n, below 1e-7 relative after the 253-day warm-up.)

A symbol's features are all defined once it has 253 days of history (the ``return_252d``
requirement covers every other window); the exponential averages are then past 250 steps of
warm-up, so their seed contributes less than (25/27)^250 ~ 4e-9 of the value.
"""

from __future__ import annotations

import numpy as np

from features.definitions import TECHNICAL_FEATURES
from features.window import compact

WINDOW = 253  # closes C_{t-252} .. C_t: the longest lookback (return_252d)
ANNUALISE = np.sqrt(252.0)
_MACD_FAST = 2.0 / (12 + 1)
_MACD_SLOW = 2.0 / (26 + 1)
_WILDER = 1.0 / 14.0
_COL = {name: i for i, name in enumerate(TECHNICAL_FEATURES)}


def _nan(shape: int) -> np.ndarray:
    return np.full(shape, np.nan)


class TechnicalEngine:
    """Rolling state of the 20 technical features for a fixed list of symbols.

    ``advance`` costs O(S); ``features`` costs O(S x 200) (the longest averaged window). The
    window buffer has spare columns so appending is a column write, and it is compacted (one
    copy of the last ``WINDOW - 1`` columns) only every ``spare`` days.
    """

    def __init__(self, n_symbols: int, spare: int = 256) -> None:
        self.n_symbols = n_symbols
        self.capacity = WINDOW + spare
        shape = (n_symbols, self.capacity)
        self._close = np.full(shape, np.nan)  # forward-filled close
        self._ret = np.full(shape, np.nan)  # daily return of the forward-filled close
        self._volume = np.full(shape, np.nan)
        self._mclose = np.full(self.capacity, np.nan)  # S&P 500 close, forward-filled
        self._mret = np.full(self.capacity, np.nan)
        self._n = 0  # filled columns; column n-1 is the current day
        self.days_seen = 0
        self.history = np.zeros(n_symbols, dtype=np.int64)  # days since the first bar (incl.)
        self.has_bar = np.zeros(n_symbols, dtype=bool)  # an actual bar on the current day
        self._ema_fast = _nan(n_symbols)
        self._ema_slow = _nan(n_symbols)
        self._avg_gain = _nan(n_symbols)
        self._avg_loss = _nan(n_symbols)
        self._atr = _nan(n_symbols)

    # -- appending a day -------------------------------------------------------------------

    def _slot(self) -> int:
        if self._n == self.capacity:
            keep = WINDOW - 1
            buffers = (self._close, self._ret, self._volume, self._mclose, self._mret)
            compact(buffers, self._n, keep)
            self._n = keep
        slot = self._n
        self._n += 1
        return slot

    def advance(
        self,
        high: np.ndarray,
        low: np.ndarray,
        close: np.ndarray,
        volume: np.ndarray,
        market_close: float,
    ) -> None:
        """Append one trading day: arrays of shape (S,), NaN where a symbol has no bar."""
        # A copy: compaction in _slot() overwrites the buffer column this would view.
        prev = self._close[:, self._n - 1].copy() if self._n else _nan(self.n_symbols)
        prev_m = self._mclose[self._n - 1] if self._n else np.nan
        slot = self._slot()

        has_bar = np.isfinite(close)
        c = np.where(has_bar, close, prev)  # carry the close over a missing day
        # A bar with a missing high/low contributes its close; a missing day has no range.
        h = np.where(has_bar & np.isfinite(high), high, c)
        lo = np.where(has_bar & np.isfinite(low), low, c)
        self._close[:, slot] = c
        self._ret[:, slot] = c / prev - 1.0
        self._volume[:, slot] = np.where(has_bar, volume, np.nan)
        m = market_close if np.isfinite(market_close) else prev_m
        self._mclose[slot] = m
        self._mret[slot] = m / prev_m - 1.0

        started = np.isfinite(c)
        first = started & ~np.isfinite(self._ema_fast)
        self.history += started
        self.has_bar = has_bar
        self.days_seen += 1

        # Exponential averages, vectorised across symbols. NaN state = not started yet.
        self._ema_fast = np.where(first, c, self._ema_fast + _MACD_FAST * (c - self._ema_fast))
        self._ema_slow = np.where(first, c, self._ema_slow + _MACD_SLOW * (c - self._ema_slow))
        delta = c - prev
        gain = np.where(first, 0.0, np.maximum(delta, 0.0))
        loss = np.where(first, 0.0, np.maximum(-delta, 0.0))
        self._avg_gain = np.where(first, 0.0, self._avg_gain + _WILDER * (gain - self._avg_gain))
        self._avg_loss = np.where(first, 0.0, self._avg_loss + _WILDER * (loss - self._avg_loss))
        tr_prev = np.fmax(np.abs(h - prev), np.abs(lo - prev))  # NaN-skipping on the first bar
        tr = np.fmax(h - lo, tr_prev)
        self._atr = np.where(first, tr, self._atr + _WILDER * (tr - self._atr))

    # -- reducing the window -----------------------------------------------------------------

    def _back(self, buf: np.ndarray, k: int) -> np.ndarray:
        """Column t-k of a (S, cap) buffer, NaN when the window does not reach back that far."""
        if self._n - 1 - k < 0:
            return _nan(buf.shape[0])
        return buf[:, self._n - 1 - k]

    def _last(self, buf: np.ndarray, k: int) -> np.ndarray | None:
        """The last k columns t-k+1 .. t, or None when fewer exist."""
        if self._n < k:
            return None
        return buf[..., self._n - k : self._n]

    def features(self) -> np.ndarray:
        """(S, 20) float64 features of the current day in ``TECHNICAL_FEATURES`` order."""
        s = self.n_symbols
        out = np.full((s, len(TECHNICAL_FEATURES)), np.nan)
        if self._n == 0:
            return out
        c = self._close[:, self._n - 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            self._put_returns(out, c)
            self._put_volume(out, c)
            self._put_market(out)
            self._put_trend(out, c)

        # Defined only with the full 253-day lookback (every window above fits inside it).
        out[self.history < WINDOW] = np.nan
        return out

    def _put_returns(self, out: np.ndarray, c: np.ndarray) -> None:
        """Returns over 1 .. 252 days and annualised volatilities of daily returns."""
        for k, name in (
            (1, "return_1d"),
            (5, "return_5d"),
            (20, "return_20d"),
            (60, "return_60d"),
            (120, "return_120d"),
            (252, "return_252d"),
        ):
            out[:, _COL[name]] = c / self._back(self._close, k) - 1.0

        for k, name in ((5, "volatility_5d"), (20, "volatility_20d"), (60, "volatility_60d")):
            win = self._last(self._ret, k)
            if win is not None:
                out[:, _COL[name]] = win.std(axis=1, ddof=1) * ANNUALISE

    def _put_volume(self, out: np.ndarray, c: np.ndarray) -> None:
        """Today's volume against its recent mean, and dollar volume."""
        v = self._volume[:, self._n - 1]
        for k, name in ((5, "volume_ratio_5d"), (20, "volume_ratio_20d")):
            win = self._last(self._volume, k)
            if win is not None:
                valid = np.isfinite(win)
                total = np.where(valid, win, 0.0).sum(axis=1)
                count = valid.sum(axis=1)
                mean = total / np.maximum(count, 1)
                out[:, _COL[name]] = np.where((count > 0) & (mean > 0), v / mean, np.nan)
        out[:, _COL["dollar_volume"]] = c * v

    def _put_market(self, out: np.ndarray) -> None:
        """60-day beta to the market, the market's return and 20-day volatility."""
        r60 = self._last(self._ret, 60)
        m60 = self._last(self._mret, 60)
        if r60 is not None and m60 is not None:  # both exist from 60 days of history on
            md = m60 - m60.mean()
            rd = r60 - r60.mean(axis=1, keepdims=True)
            var_m = float(md @ md)
            out[:, _COL["market_beta"]] = (rd @ md) / var_m if var_m > 0 else np.nan

        out[:, _COL["market_return"]] = self._mret[self._n - 1]
        m20 = self._last(self._mret, 20)
        if m20 is not None:
            out[:, _COL["market_volatility"]] = m20.std(ddof=1) * ANNUALISE

    def _put_trend(self, out: np.ndarray, c: np.ndarray) -> None:
        """RSI, MACD, the 50/200-day cross, the Bollinger position and ATR."""
        g, lo_ = self._avg_gain, self._avg_loss
        rsi = 100.0 - 100.0 / (1.0 + g / lo_)
        rsi = np.where(lo_ == 0, np.where(g == 0, 50.0, 100.0), rsi)
        out[:, _COL["rsi_14"]] = rsi
        out[:, _COL["macd"]] = self._ema_fast - self._ema_slow

        c50 = self._last(self._close, 50)
        c200 = self._last(self._close, 200)
        if c50 is not None and c200 is not None:  # c50 exists whenever c200 does
            sma50 = c50.mean(axis=1)
            sma200 = c200.mean(axis=1)
            cross = (sma50 > sma200).astype(np.float64)
            out[:, _COL["sma_50_200_cross"]] = np.where(np.isfinite(sma200), cross, np.nan)

        c20 = self._last(self._close, 20)
        if c20 is not None:
            mean20 = c20.mean(axis=1)
            sd20 = c20.std(axis=1, ddof=0)
            pos = (c - (mean20 - 2.0 * sd20)) / (4.0 * sd20)
            out[:, _COL["bollinger_position"]] = np.where(sd20 > 0, pos, 0.5)
            out[np.isnan(sd20), _COL["bollinger_position"]] = np.nan
        out[:, _COL["atr"]] = self._atr

    @property
    def close(self) -> np.ndarray:
        """Forward-filled close of the current day, (S,)."""
        return self._close[:, self._n - 1] if self._n else _nan(self.n_symbols)
