"""The market series (S&P 500 close) aligned to a panel's trading days.

Source order: ``PriceBar`` of ``^GSPC`` (interval 1d) where those bars exist, else the shared
index CSV ``index/sp500_index_close_1927_2026.csv`` (same closes as the OHLCV file on every
overlapping day, and it runs to 2026). Dates that neither source has are NaN; the technical
engine carries the last close forward over them (market return 0 that day).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd
from django.conf import settings

MARKET_TICKER = "^GSPC"
INDEX_CSV = "index/sp500_index_close_1927_2026.csv"


@lru_cache(maxsize=1)
def _csv_series() -> tuple[np.ndarray, np.ndarray]:
    frame = pd.read_csv(settings.SHARED_DATA_DIR / INDEX_CSV, usecols=["Date", "Close"])
    dates = pd.to_datetime(frame["Date"]).to_numpy().astype("datetime64[D]")
    order = np.argsort(dates, kind="stable")
    return dates[order], frame["Close"].to_numpy(dtype=np.float64)[order]


def _align(dates: np.ndarray, src_dates: np.ndarray, src_close: np.ndarray) -> np.ndarray:
    out = np.full(len(dates), np.nan)
    if len(src_dates) == 0:
        return out
    i = np.searchsorted(src_dates, dates)
    i_clip = np.minimum(i, len(src_dates) - 1)
    hit = src_dates[i_clip] == dates
    out[hit] = src_close[i_clip[hit]]
    return out


def _db_series(
    first: np.datetime64[dt.date], last: np.datetime64[dt.date]
) -> tuple[np.ndarray, np.ndarray]:
    from ingestion.models import PriceBar

    lo = dt.datetime.combine(first.item(), dt.time(), dt.UTC)
    hi = dt.datetime.combine(last.item() + dt.timedelta(days=1), dt.time(), dt.UTC)
    rows = list(
        PriceBar.objects.filter(
            symbol__ticker=MARKET_TICKER, interval="1d", timestamp__gte=lo, timestamp__lt=hi
        )
        .order_by("timestamp")
        .values_list("timestamp", "close")
    )
    if not rows:
        return np.array([], dtype="datetime64[D]"), np.array([])
    d = np.array([r[0].date() for r in rows], dtype="datetime64[D]")
    return d, np.array([r[1] for r in rows], dtype=np.float64)


def market_close(dates: np.ndarray, *, use_db: bool = True) -> np.ndarray:
    """S&P 500 close on each of ``dates`` (datetime64[D], ascending), NaN where unknown."""
    dates = np.asarray(dates).astype("datetime64[D]")
    out = _align(dates, *_csv_series())
    if use_db and len(dates):
        db_dates, db_close = _db_series(dates[0], dates[-1])
        if len(db_dates):
            from_db = _align(dates, db_dates, db_close)
            out = np.where(np.isfinite(from_db), from_db, out)
    return out
