"""The in-memory shape of a batch of daily bars, shared by providers, validation and storage.

A *bar frame* is a ``pandas.DataFrame`` with the columns of ``BAR_COLUMNS``:
``symbol`` (str), ``exchange`` (str, may be ""), ``date`` (``datetime64``, the trading date),
``open/high/low/close/volume`` (float64; NaN = missing, which validation rejects).
Readers for the shared CSV formats live here so every provider parses them the same way.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

PRICE_COLUMNS = ["open", "high", "low", "close", "volume"]
BAR_COLUMNS = ["symbol", "exchange", "date", *PRICE_COLUMNS]
INDEX_TICKER = "^GSPC"


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": pd.Series([], dtype=object),
            "exchange": pd.Series([], dtype=object),
            "date": pd.Series([], dtype="datetime64[s]"),
            **{c: pd.Series([], dtype="float64") for c in PRICE_COLUMNS},
        }
    )


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Coerce a frame to the bar-frame dtypes (unparseable numbers become NaN, so validation
    reports them as missing instead of the reader crashing on one bad cell)."""
    out = pd.DataFrame(
        {
            "symbol": df["symbol"].astype(str).str.strip().str.upper().to_numpy(dtype=object),
            "exchange": (
                df["exchange"].fillna("").astype(str).to_numpy(dtype=object)
                if "exchange" in df
                else np.full(len(df), "", dtype=object)
            ),
            "date": pd.to_datetime(df["date"], errors="coerce").to_numpy(dtype="datetime64[s]"),
        }
    )
    for col in PRICE_COLUMNS:
        out[col] = pd.to_numeric(df[col], errors="coerce").astype("float64").to_numpy()
    return out


def _date_filter(
    df: pd.DataFrame, start: dt.date | None, end: dt.date | None, date_col: str = "date"
) -> pd.DataFrame:
    if start is not None:
        df = df[df[date_col] >= pd.Timestamp(start)]
    if end is not None:
        df = df[df[date_col] <= pd.Timestamp(end)]
    return df


def read_price_csv(
    path: Path | str,
    symbols: list[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Read a file of the shared price format (``symbol,exchange,date,open,high,low,close,volume``,
    gzip or plain)."""
    raw = pd.read_csv(
        path,
        dtype={"symbol": str, "exchange": str, "date": str},
        keep_default_na=False,
        na_values=[""],
    )
    missing = set(BAR_COLUMNS) - set(raw.columns)
    if missing:
        raise ValueError(f"{path}: not the shared price format, missing columns {sorted(missing)}")
    if symbols:
        raw = raw[raw["symbol"].isin({s.upper() for s in symbols})]
    df = normalise(raw)
    return _date_filter(df, start, end).reset_index(drop=True)


def read_index_csv(
    directory: Path | str, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """The S&P 500 index as ``^GSPC`` bars from the two shared index files.

    OHLCV comes from ``sp500_index_ohlcv_1927_2023.csv``; days after its last date come from
    ``sp500_index_close_1927_2026.csv``, which has only Close and Volume, so open = high = low =
    close there (a documented approximation: the features use the index close only)."""
    directory = Path(directory)
    ohlcv = pd.read_csv(directory / "sp500_index_ohlcv_1927_2023.csv")
    closes = pd.read_csv(directory / "sp500_index_close_1927_2026.csv")
    ohlcv["Date"] = pd.to_datetime(ohlcv["Date"])
    closes["Date"] = pd.to_datetime(closes["Date"])
    later = closes[closes["Date"] > ohlcv["Date"].max()]
    full = pd.DataFrame(
        {
            "date": pd.concat([ohlcv["Date"], later["Date"]], ignore_index=True),
            "open": pd.concat([ohlcv["Open"], later["Close"]], ignore_index=True),
            "high": pd.concat([ohlcv["High"], later["Close"]], ignore_index=True),
            "low": pd.concat([ohlcv["Low"], later["Close"]], ignore_index=True),
            "close": pd.concat([ohlcv["Close"], later["Close"]], ignore_index=True),
            "volume": pd.concat([ohlcv["Volume"], later["Volume"]], ignore_index=True),
        }
    )
    full["symbol"] = INDEX_TICKER
    full["exchange"] = "INDEX"
    return _date_filter(normalise(full), start, end).reset_index(drop=True)
