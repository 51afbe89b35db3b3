"""Trading-day arithmetic for the pipeline (target day = next NYSE trading day).

Uses ``ingestion.calendar`` (the contract's calendar) when it exists, else the same
``exchange_calendars`` "XNYS" calendar directly, so both give identical answers.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pandas as pd


@lru_cache(maxsize=1)
def _xnys():
    import exchange_calendars

    return exchange_calendars.get_calendar("XNYS")


def next_trading_day(day: dt.date) -> dt.date:
    try:
        from ingestion.calendar import next_trading_day as ingestion_next
    except ImportError:
        return _xnys().next_session(pd.Timestamp(_xnys().date_to_session(day, "previous"))).date()
    return ingestion_next(day)


def day_timestamp(day: dt.date) -> dt.datetime:
    """00:00 UTC of a trading day: how daily bars (and predictions' data_timestamp) are stamped."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
