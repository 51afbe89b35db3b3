"""Price-action features against textbook pandas formulas on real prices (gap-free symbols),
the missing-bar convention, and the 253-day requirement. Incremental == full == training set and
point-in-time are covered for every stored column by ``test_live.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.dataset import price_action_history
from features.definitions import PRICE_FEATURES
from features.market import market_close
from features.panel import Panel
from features.price_action import PriceActionEngine

COL = {n: i for i, n in enumerate(PRICE_FEATURES)}
WARM = 253


@pytest.fixture(scope="module")
def price(real_panel):
    return price_action_history(real_panel, market=market_close(real_panel.dates, use_db=False))


def _frame(panel, sym: str) -> pd.DataFrame:
    i = panel.row(sym)
    frame = pd.DataFrame(
        {f: getattr(panel, f)[i] for f in ("open", "high", "low", "close")},
        index=pd.DatetimeIndex(panel.dates),
    )
    assert frame.notna().all().all(), f"{sym} has missing days; pick a gap-free symbol"
    return frame


def _reference(df: pd.DataFrame, market: pd.Series) -> dict[str, pd.Series]:
    c, o, h, lo = df["close"], df["open"], df["high"], df["low"]
    ret = c.pct_change()
    excess = ret - market.pct_change()
    day_range = (h - lo) / c
    return {
        "gap_1d": o / c.shift(1) - 1,
        "intraday_return_1d": c / o - 1,
        "range_1d": day_range,
        "close_location": ((2 * c - h - lo) / (h - lo)).where(h > lo, 0.0),
        "return_3d": c / c.shift(3) - 1,
        "excess_return_1d": excess,
        "excess_return_5d": excess.rolling(5).sum(),
        "range_ratio_5_60": day_range.rolling(5).mean() / day_range.rolling(60).mean(),
        "distance_high_20d": c / h.rolling(20).max() - 1,
        "distance_low_20d": c / lo.rolling(20).min() - 1,
        "distance_high_252d": c / h.rolling(252).max() - 1,
        "max_return_20d": ret.rolling(20).max(),
    }


@pytest.mark.parametrize("sym", ["AAPL", "JPM", "KO"])
def test_it_matches_textbook_pandas_formulas(real_panel, price, sym):
    df = _frame(real_panel, sym)
    market = pd.Series(market_close(real_panel.dates, use_db=False), index=df.index)
    mine = price[real_panel.row(sym)].astype(np.float64)[WARM:]
    for name, expected in _reference(df, market).items():
        np.testing.assert_allclose(
            mine[:, COL[name]], expected.to_numpy()[WARM:], rtol=1e-5, atol=1e-7, err_msg=name
        )


def test_it_leaves_features_undefined_before_253_days_of_history(real_panel, price):
    i = real_panel.row("AAPL")
    assert np.isnan(price[i, : WARM - 1]).all()
    assert np.isfinite(price[i, WARM - 1]).all()


def _panel(close: list[float], open_: list[float]) -> Panel:
    n = len(close)
    c = np.array([close])
    return Panel(
        tickers=np.array(["X"]),
        dates=np.datetime64("2020-01-01") + np.arange(n),
        open=np.array([open_]),
        high=np.fmax(c, np.array([open_])) * 1.01,
        low=np.fmin(c, np.array([open_])) * 0.99,
        close=c,
        volume=np.ones((1, n)),
    )


def test_it_treats_a_missing_day_as_an_unchanged_close_with_no_range() -> None:
    n = WARM + 2
    close = [100.0 + (k % 7) for k in range(n)]
    open_ = [c - 0.5 for c in close]
    close[-1] = open_[-1] = np.nan  # the last day has no bar
    panel = _panel(close, open_)
    engine = PriceActionEngine(1)
    for j in range(n):
        engine.advance(panel.open[:, j], panel.high[:, j], panel.low[:, j], panel.close[:, j], 1.0)
    last = engine.features()[0]
    assert last[COL["gap_1d"]] == 0.0 and last[COL["intraday_return_1d"]] == 0.0
    assert last[COL["range_1d"]] == 0.0 and last[COL["close_location"]] == 0.0
    assert last[COL["excess_return_1d"]] == 0.0  # the market is flat too
