"""Test helpers: small slices of the REAL shared price file, and earnings events for them.

Nothing here is synthetic: the slices are rows of ``sp500_members_daily_2005_2025.csv.gz``
written to a temporary directory at test time (never into the repository).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings

SOURCE_NAME = "sp500_members_daily_2005_2025.csv.gz"
TEST_SYMBOLS = (
    "AAPL", "MSFT", "JPM", "XOM", "KO", "PG", "JNJ", "WMT", "CVX", "PFE", "INTC", "CSCO",
)  # fmt: skip


def source_file(name: str = SOURCE_NAME) -> Path:
    return Path(settings.SHARED_DATA_DIR) / "prices" / name


@lru_cache(maxsize=4)
def _rows(symbols: tuple[str, ...], start: str, end: str | None, source: str) -> pd.DataFrame:
    frame = pd.read_csv(source_file(source), dtype={"symbol": str, "exchange": str, "date": str})
    keep = frame["symbol"].isin(symbols) & (frame["date"] >= start)
    if end:
        keep &= frame["date"] <= end
    return frame[keep].reset_index(drop=True)


def write_slice(
    directory: Path,
    symbols: tuple[str, ...] = TEST_SYMBOLS,
    start: str = "2015-01-01",
    end: str | None = None,
    name: str = "slice.csv.gz",
    source: str = SOURCE_NAME,
) -> Path:
    path = Path(directory) / name
    _rows(tuple(symbols), start, end, source).to_csv(path, index=False, compression="gzip")
    return path


def load_earnings_events(symbols: tuple[str, ...] = TEST_SYMBOLS) -> int:
    """EarningsEvent rows from the shared 8-K dates for ``symbols``. Test approximation of the
    ingestion rule: the reaction day is the first trading day after the filing date."""
    from ingestion.calendar import sessions
    from ingestion.models import EarningsEvent, Symbol

    path = Path(settings.SHARED_DATA_DIR) / "earnings" / "earnings_dates_edgar8k_2003_2025.csv"
    frame = pd.read_csv(path)
    frame = frame[frame["ticker"].isin(symbols)]
    days = sessions()
    dates = frame["earnings_date"].to_numpy().astype("datetime64[D]")
    reaction = days[np.minimum(np.searchsorted(days, dates, side="right"), len(days) - 1)]
    made = 0
    for ticker, d, r in zip(frame["ticker"], dates, reaction, strict=True):
        symbol, _ = Symbol.objects.get_or_create(ticker=ticker)
        _, created = EarningsEvent.objects.get_or_create(
            symbol=symbol,
            date=d.item(),
            defaults={"reaction_date": r.item(), "source": "edgar8k-test"},
        )
        made += created
    return made


def as_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def day_cycle_input(ds: Any, day: np.datetime64) -> tuple[np.ndarray, Any]:
    """(rows, the serving cycle's input) of one dataset day: what the pipeline would pass."""
    from features.definitions import ALL_FEATURES
    from predictions.pipeline.cycle import CycleInput

    rows = np.flatnonzero(ds.dates.astype("datetime64[D]") == day)
    cycle_input = CycleInput(
        data_date=day.item(),
        tickers=ds.tickers[rows],
        X=ds.X[rows],
        feature_names=list(ALL_FEATURES),
        close=ds.current_close[rows],
    )
    return rows, cycle_input
