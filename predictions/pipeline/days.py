"""Trading-day arithmetic for the pipeline (target day = next NYSE trading day, from
``ingestion.calendar``, the contract's calendar)."""

from __future__ import annotations

import datetime as dt

from ingestion.calendar import next_trading_day as next_trading_day


def day_timestamp(day: dt.date) -> dt.datetime:
    """00:00 UTC of a trading day: how daily bars (and predictions' data_timestamp) are stamped."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
