"""A transparent baseline in the walk-forward file format, built from the REAL shared prices
(used by the tests and ``bench backtest`` to exercise the backtest at full size).

The forecast is a transparent one-line rule, not a model: p50 = -0.1 x the day's return
(short-term reversal), the interval +-1.2816 x the trailing 20-day volatility. ``date`` is day
t of the data, ``realised`` the return of t's next session, like the files of
``python manage.py walkforward``. Nothing is synthetic; callers write it to a temporary
directory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings

PRICES = "prices/sp500_members_daily_2005_2025.csv.gz"


def price_rows(symbols: list[str] | None, start: str, end: str) -> pd.DataFrame:
    frame = pd.read_csv(
        Path(settings.SHARED_DATA_DIR) / PRICES,
        usecols=["symbol", "date", "close"],
        dtype={"symbol": str, "date": str},
    )
    keep = (frame["date"] >= start) & (frame["date"] <= end)
    if symbols is not None:
        keep &= frame["symbol"].isin(symbols)
    return frame[keep].sort_values(["symbol", "date"]).reset_index(drop=True)


def reversal_predictions(prices: pd.DataFrame) -> pd.DataFrame:
    from ingestion.calendar import sessions

    days = sessions()
    d = pd.to_datetime(prices["date"]).to_numpy().astype("datetime64[D]")
    by = prices.groupby("symbol")
    ret_1d = by["close"].pct_change()
    realised = by["close"].shift(-1) / prices["close"] - 1.0
    next_day = by["date"].shift(-1)
    expected_next = pd.Series(days[np.searchsorted(days, d, side="right")]).astype(str)
    # A gap in the bars: the next row is not the next session, so no clean next-day return.
    realised = realised.where(next_day.to_numpy() == expected_next.to_numpy())
    vol = ret_1d.groupby(prices["symbol"]).rolling(20).std().reset_index(level=0, drop=True)
    p50 = -0.1 * ret_1d
    frame = pd.DataFrame(
        {
            "symbol": prices["symbol"],
            "date": prices["date"],
            "p10": p50 - 1.2816 * vol,
            "p50": p50,
            "p90": p50 + 1.2816 * vol,
            "realised": realised,
            "kind": "normal",
            "year": prices["date"].str[:4].astype(int),
        }
    )
    return frame.dropna(subset=["p10", "p50", "p90", "realised"]).reset_index(drop=True)


def write_file(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, compression="gzip", float_format="%.8g")
    return path
