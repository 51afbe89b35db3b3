"""Fixtures of the ingestion tests: real rows of the shared data, read once per session."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import pytest
from django.conf import settings

SP500 = "prices/sp500_members_daily_2005_2025.csv.gz"
US = "prices/us_stocks_daily_last500_asof_2025-07-09.csv.gz"


@lru_cache(maxsize=2)
def _whole(rel: str) -> pd.DataFrame:
    from ingestion.frames import read_price_csv

    return read_price_csv(settings.SHARED_DATA_DIR / rel)


def real_bars(
    rel: str, symbols: list[str], start: str | None = None, end: str | None = None
) -> pd.DataFrame:
    """Real rows of a shared price file (a bar frame), sorted by symbol and date."""
    df = _whole(rel)
    df = df[df["symbol"].isin(symbols)]
    if start:
        df = df[df["date"] >= pd.Timestamp(start)]
    if end:
        df = df[df["date"] <= pd.Timestamp(end)]
    return df.sort_values(["symbol", "date"]).reset_index(drop=True)


def row(df: pd.DataFrame, symbol: str, day: str) -> pd.Series:
    hit = df[(df["symbol"] == symbol) & (df["date"] == pd.Timestamp(day))]
    assert len(hit) == 1, f"{symbol} {day} not found exactly once"
    return hit.iloc[0]


@pytest.fixture(autouse=True)
def _fresh_symbol_cache():
    """Test databases are rolled back or flushed between tests: never reuse cached ids."""
    from ingestion.storage import forget_symbol_cache

    forget_symbol_cache()
    yield
    forget_symbol_cache()
