"""Technical features against independent implementations on real prices.

References: the ``ta`` library (RSI, MACD, Bollinger %B, ATR) and textbook pandas rolling
formulas (volatility, returns, beta, volume ratio). Tolerances: 1e-9 relative where our
arithmetic is the same recurrence as the reference (RSI, MACD, Bollinger, rolling stats), and
1e-6 relative for ATR, whose seed differs from ``ta`` (their first value is the mean of the
first 14 true ranges, ours the first true range; (13/14)^253 ~ 7e-9 of the seed remains).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import ta

from features.dataset import technical_history
from features.definitions import TECHNICAL_FEATURES
from features.market import market_close

COL = {n: i for i, n in enumerate(TECHNICAL_FEATURES)}
WARM = 253


@pytest.fixture(scope="module")
def tech(real_panel):
    return technical_history(real_panel, market=market_close(real_panel.dates, use_db=False))


def _series(panel, sym: str) -> pd.DataFrame:
    i = panel.row(sym)
    frame = pd.DataFrame(
        {f: getattr(panel, f)[i] for f in ("high", "low", "close", "volume")},
        index=pd.DatetimeIndex(panel.dates),
    )
    assert frame["close"].notna().all(), f"{sym} has missing days; pick a gap-free symbol"
    return frame


@pytest.mark.parametrize("sym", ["AAPL", "JPM", "KO", "MSFT", "XOM"])
def test_it_matches_ta_for_rsi_macd_bollinger_atr(real_panel, tech, sym):
    df = _series(real_panel, sym)
    mine = tech[real_panel.row(sym)].astype(np.float64)[WARM:]
    rsi = ta.momentum.RSIIndicator(df["close"], window=14).rsi().to_numpy()[WARM:]
    macd = ta.trend.MACD(df["close"], 26, 12, 9).macd().to_numpy()[WARM:]
    pband = ta.volatility.BollingerBands(df["close"], 20, 2).bollinger_pband().to_numpy()[WARM:]
    atr = ta.volatility.AverageTrueRange(df["high"], df["low"], df["close"], 14)
    atr = atr.average_true_range().to_numpy()[WARM:]
    # float32 storage of the data set: compare at float32 precision.
    np.testing.assert_allclose(mine[:, COL["rsi_14"]], rsi, rtol=1e-6)
    np.testing.assert_allclose(mine[:, COL["macd"]], macd, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mine[:, COL["bollinger_position"]], pband, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mine[:, COL["atr"]], atr, rtol=1e-5)


@pytest.mark.parametrize("sym", ["AAPL", "KO"])
def test_it_matches_textbook_rolling_formulas(real_panel, tech, sym):
    df = _series(real_panel, sym)
    mine = tech[real_panel.row(sym)].astype(np.float64)[WARM:]
    ret = df["close"].pct_change()
    for k in (5, 20, 60):
        expected = (ret.rolling(k).std(ddof=1) * np.sqrt(252)).to_numpy()[WARM:]
        np.testing.assert_allclose(mine[:, COL[f"volatility_{k}d"]], expected, rtol=1e-5)
    for k in (1, 5, 20, 60, 120, 252):
        expected = (df["close"] / df["close"].shift(k) - 1).to_numpy()[WARM:]
        np.testing.assert_allclose(mine[:, COL[f"return_{k}d"]], expected, rtol=1e-5, atol=1e-7)
    vr = (df["volume"] / df["volume"].rolling(20).mean()).to_numpy()[WARM:]
    np.testing.assert_allclose(mine[:, COL["volume_ratio_20d"]], vr, rtol=1e-5)
    m = pd.Series(market_close(real_panel.dates, use_db=False), index=df.index).pct_change()
    beta = (ret.rolling(60).cov(m) / m.rolling(60).var()).to_numpy()[WARM:]
    np.testing.assert_allclose(mine[:, COL["market_beta"]], beta, rtol=1e-5)
    mvol = (m.rolling(20).std() * np.sqrt(252)).to_numpy()[WARM:]
    np.testing.assert_allclose(mine[:, COL["market_volatility"]], mvol, rtol=1e-5)
    cross = (df["close"].rolling(50).mean() > df["close"].rolling(200).mean()).astype(float)
    np.testing.assert_array_equal(mine[:, COL["sma_50_200_cross"]], cross.to_numpy()[WARM:])


def test_it_leaves_features_undefined_before_253_days_of_history(real_panel, tech):
    i = real_panel.row("AAPL")
    assert np.isnan(tech[i, : WARM - 1]).all()
    assert np.isfinite(tech[i, WARM - 1]).all()
