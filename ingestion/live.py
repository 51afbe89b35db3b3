"""The live cycle: one step of new quotes for every symbol, validated and stored.

Replay (the default): a clock in Redis, ``replay:date`` = ISO date of the last emitted trading
day, advances one trading day of the replay file per cycle and emits that day's bars for every
symbol as the current quotes. The clock never goes backwards: unset, it starts after the latest
day PostgreSQL holds (the last successful live run, or the newest stored bar: a Redis restarted
empty must not replay days the database already has), or at ``REPLAY_START_DATE`` on an empty
database; at the end of the file it stays on the last day (re-emitted bars are stored as
``unchanged``, the forecasts keep being refreshed). The key only advances after the bars are
stored, so a failed cycle is retried on the same day. A Redis lock keeps two cycles from
overlapping.

yfinance: fetches the last few days for every active symbol (the provider's cache keeps this to
the recent tail) and reports the newest trading day received.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import redis
from django.conf import settings
from numpy.typing import NDArray

from core import redis_clients
from core.redis_clients import Preset
from ingestion.models import AssetType, IngestionRun, Interval, PriceBar
from ingestion.pipeline import ingest_frame
from ingestion.providers import BarQuery, Provider, get_provider
from ingestion.providers.replay import ReplayProvider

log = logging.getLogger(__name__)

REPLAY_KEY = "replay:date"
LOCK_KEY = "replay:lock"


def redis_client() -> redis.Redis:
    return redis_clients.client(Preset.PIPELINE)


def replay_date(client: redis.Redis | None = None) -> str | None:
    """The last trading day the replay clock emitted (ISO), or None (not started, Redis down)."""
    try:
        value = (client or redis_clients.client(Preset.REQUEST)).get(REPLAY_KEY)
    except redis.RedisError:
        return None
    return _text(value)


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def next_replay_day(days: NDArray[np.datetime64], current: str | None, start: str) -> np.datetime64:
    """The file day after ``current`` (or the first on/after ``start``); the last file day once
    the file is exhausted, never an earlier one."""
    if current:
        i = int(np.searchsorted(days, np.datetime64(current, "D"), side="right"))
    else:
        i = int(np.searchsorted(days, np.datetime64(start, "D")))
    if i >= len(days):
        log.info("replay clock at the end of the file (%s): staying on the last day", current)
        i = len(days) - 1
    day: np.datetime64 = days[i]
    return day


def last_stored_replay_day() -> str | None:
    """The day of the last successful replay live cycle, from PostgreSQL: a Redis restart
    without persistence empties ``replay:date``, and the clock must go on from where it was, not
    jump back to ``REPLAY_START_DATE`` (which would serve old days' predictions as the latest)."""
    run = (
        IngestionRun.objects.filter(
            provider="replay", mode=IngestionRun.Mode.LIVE, status=IngestionRun.Status.OK
        )
        .order_by("-pk")
        .values_list("params", flat=True)
        .first()
    )
    day = run.get("date") if isinstance(run, dict) else None
    return str(day)[:10] if day else None


def latest_stored_bar_day() -> str | None:
    """The newest daily bar of a stock in PostgreSQL (a backfill may reach past the last live
    run). Index series are left out: the S&P 500 file runs a year past the price files."""
    value = (
        PriceBar.objects.filter(interval=Interval.DAY, symbol__asset_type=AssetType.EQUITY)
        .order_by("-timestamp")
        .values_list("timestamp", flat=True)
        .first()
    )
    return value.date().isoformat() if value else None


def resume_from(client: redis.Redis) -> str | None:
    """The day the clock last emitted: Redis's key, or when it is gone, the latest day the
    database holds (ISO dates compare in order)."""
    current = _text(client.get(REPLAY_KEY))
    if current:
        return current
    stored = [d for d in (last_stored_replay_day(), latest_stored_bar_day()) if d]
    return max(stored, default=None)


def replay_cycle(
    client: redis.Redis | None = None, provider: ReplayProvider | None = None
) -> dict[str, Any]:
    client = client or redis_client()
    provider = provider or ReplayProvider()
    lock = client.lock(LOCK_KEY, timeout=120, blocking_timeout=0)
    if not lock.acquire(blocking=False):
        return {"skipped": "another live cycle is running"}
    try:
        current = resume_from(client)
        day = next_replay_day(provider.days(), current, settings.REPLAY_START_DATE)
        bars = provider.day_bars(day)
        summary = ingest_frame(
            bars,
            provider="replay",
            mode=IngestionRun.Mode.LIVE,
            params={"date": str(day), "file": str(provider.file)},
        )
        client.set(REPLAY_KEY, str(day))
        summary["trading_date"] = str(day)
        return summary
    finally:
        lock.release()


def yfinance_cycle(
    provider: Provider | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    provider = provider or get_provider("yfinance")
    today = today or dt.datetime.now(dt.UTC).date()
    query = BarQuery(start=today - dt.timedelta(days=7), end=today)
    bars = provider.fetch(query)
    summary = ingest_frame(
        bars, provider="yfinance", mode=IngestionRun.Mode.LIVE, params={"end": str(today)}
    )
    summary["provider_report"] = provider.report()
    summary["trading_date"] = (
        str(bars["date"].max().date()) if len(bars) else None  # newest day received
    )
    return summary


def live_cycle() -> dict[str, Any]:
    if settings.MARKET_DATA_PROVIDER == "yfinance":
        return yfinance_cycle()
    return replay_cycle()
