"""Trading-day arithmetic for the pipeline (target day = next NYSE trading day, from
``ingestion.calendar``, the contract's calendar)."""

from __future__ import annotations

import datetime as dt

from ingestion.calendar import next_trading_day as next_trading_day


def trading_day_after(day: dt.date, h: int) -> dt.date:
    """The h-th NYSE trading day after ``day`` (the target of an h-day forecast from day t)."""
    for _ in range(h):
        day = next_trading_day(day)
    return day


def day_timestamp(day: dt.date) -> dt.datetime:
    """00:00 UTC of a trading day: how daily bars (and predictions' data_timestamp) are stamped."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
