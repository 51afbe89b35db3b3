"""The earnings reaction-day rule (see ingestion.reference.earnings for the measured figures)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.conf import settings

from ingestion.reference.earnings import (
    SOURCE_8K,
    SOURCE_BOTH,
    SOURCE_EPS,
    measure_convention,
    merged_events,
    reaction_date,
)
from ingestion.tests.conftest import SP500, real_bars

D = dt.date


def test_it_moves_announcements_of_unknown_timing_to_the_next_session() -> None:
    assert reaction_date(D(2023, 8, 3), SOURCE_BOTH) == D(2023, 8, 4)  # Thu -> Fri
    assert reaction_date(D(2024, 7, 3), SOURCE_EPS) == D(2024, 7, 5)  # over Independence Day
    assert reaction_date(D(2020, 10, 18), SOURCE_EPS) == D(2020, 10, 19)  # Sunday -> Monday


def test_it_keeps_8k_only_events_on_the_filing_day() -> None:
    assert reaction_date(D(2025, 7, 31), SOURCE_8K) == D(2025, 7, 31)
    assert reaction_date(D(2025, 7, 4), SOURCE_8K) == D(2025, 7, 7)  # holiday -> next session


def test_it_merges_eps_rows_with_8k_filings_of_the_same_release() -> None:
    events = merged_events(settings.SHARED_DATA_DIR)
    aapl = events[events["ticker"] == "AAPL"].set_index("date")
    assert aapl.loc[D(2023, 8, 3), "source"] == SOURCE_BOTH
    assert aapl.loc[D(2025, 7, 31), "source"] == SOURCE_8K
    assert not events.duplicated(["ticker", "date"]).any()


def test_it_measures_the_convention_on_real_returns() -> None:
    # The documented measurement, recomputed on a real subset (10 large members, 2010-2019):
    # EPS-dated events move more on day 1, 8-K-only ones on day 0.
    tickers = ["AAPL", "MSFT", "JPM", "JNJ", "XOM", "PG", "INTC", "CSCO", "KO", "PFE"]
    events = merged_events(settings.SHARED_DATA_DIR)
    events = events[
        events["ticker"].isin(tickers)
        & (pd.to_datetime(events["date"]) >= "2010-01-01")
        & (pd.to_datetime(events["date"]) <= "2019-12-31")
    ]
    table = measure_convention(events, real_bars(SP500, tickers, "2009-12-01", "2020-01-31"))
    both = table.loc[SOURCE_BOTH]
    assert both["n"] > 100
    assert both["mean_abs_day1"] > both["mean_abs_day0"]
