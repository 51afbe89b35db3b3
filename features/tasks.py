"""Celery task of the live cycle: ``features.tasks.update_features(date_iso)`` (queue features).

The engine state lives in this worker process (``_ENGINES``, keyed by the universe), so each
cycle costs one incremental update; a cold worker, a changed universe or a gap in the days
(the engine's date is not the previous trading day) rebuilds it from ``PriceBar``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from celery import shared_task

from core import metrics
from core.tasking import DATABASE_DOWN, DATABASE_RETRY, enqueue_patiently
from features import handoff, store
from features.earnings import CLOSE_LOOKBACK, EarningsData
from features.live import DayBars, FeatureEngine, LiveFeatures
from features.panel import Panel

log = logging.getLogger(__name__)
T = TypeVar("T")
_ENGINES: dict[str, FeatureEngine] = {}
_LOCK = threading.Lock()
_EARNINGS_REFRESH_S = 300.0
_loaded_at: dict[str, float] = {}


def universe() -> list[str]:
    from ingestion.models import AssetType, Symbol

    return list(
        Symbol.objects.filter(asset_type=AssetType.EQUITY, active=True)
        .order_by("ticker")
        .values_list("ticker", flat=True)
    )


def _key(tickers: list[str]) -> str:
    return hashlib.sha1("\n".join(tickers).encode()).hexdigest()


def rebuild(tickers: list[str], day: dt.date) -> tuple[FeatureEngine, LiveFeatures]:
    from ingestion.calendar import trading_days

    # Enough sessions for the technical warm-up and the post-earnings close lookback.
    start_guess = day - dt.timedelta(days=int((CLOSE_LOOKBACK + 300) * 7 / 5))
    days = trading_days(start_guess, day)
    start = days[max(0, len(days) - (CLOSE_LOOKBACK + 300))]
    panel = Panel.from_db(tickers=tickers, start=start, end=day)
    engine = FeatureEngine(EarningsData.from_db(tickers))
    live = engine.full(panel)
    return engine, live


def compute(day: dt.date) -> LiveFeatures:
    """Bring this process's engine to ``day`` (incrementally when possible) and return it."""
    with _LOCK:  # a threads/gevent pool must not advance the shared state twice at once
        return _compute(day)


def _compute(day: dt.date) -> LiveFeatures:
    from ingestion.calendar import previous_trading_day

    tickers = universe()
    key = _key(tickers)
    engine = _ENGINES.get(key)
    if engine is not None and engine.ready and engine.data_date == day:
        return engine.snapshot()
    if engine is not None and engine.ready and engine.data_date == previous_trading_day(day):
        if time.monotonic() - _loaded_at.get(key, 0.0) > _EARNINGS_REFRESH_S:
            engine.set_earnings(EarningsData.from_db(tickers))  # new events / fundamentals
            _loaded_at[key] = time.monotonic()
        return engine.update(DayBars.from_db(day))
    _ENGINES.clear()  # one universe per process: drop the old state before building anew
    engine, live = rebuild(tickers, day)
    _ENGINES[key] = engine
    _loaded_at[key] = time.monotonic()
    return live


REDIS_WAIT_SECONDS = 60.0


def _when_redis_answers(write: Callable[[], T], what: str, day: dt.date) -> T:
    """Run a Redis write; while Redis is down (a restart), retry it for up to
    ``REDIS_WAIT_SECONDS`` instead of failing: a failed task is acknowledged and its day would
    never be predicted."""
    deadline = time.monotonic() + REDIS_WAIT_SECONDS
    while True:
        try:
            return write()
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            log.warning("features %s: Redis unavailable for the %s, retrying", day, what)
            time.sleep(1.0)


@shared_task(
    name="features.tasks.update_features",
    # No result key: the cycle's outcome lives in its records and metrics, and three keys a
    # cycle kept for result_expires grew Redis by 20 % in a 30-minute soak. A caller that waits
    # for the result sends ignore_result=False.
    ignore_result=True,
    time_limit=240,
    soft_time_limit=200,
    acks_late=True,
    autoretry_for=DATABASE_DOWN,  # a PostgreSQL restart: retried, not acknowledged as failed
    **DATABASE_RETRY,
)
def update_features(date_iso: str) -> dict[str, Any]:
    """The day's features: first the one-value matrix the inference task reads, then the
    prediction task is sent, then the per-symbol hashes (API, explanations) are written while the
    inference worker runs: ~80 ms of Redis server time a cycle (5,000 hashes of 51 fields) that
    no prediction waits for. The API answers a prediction with the features it was made from
    until the hash names the same day (``predictions.api.service.live_features``)."""
    started = time.perf_counter()
    day = dt.date.fromisoformat(date_iso)
    live = compute(day)
    _when_redis_answers(lambda: handoff.write_matrix(store.client(), live), "matrix", day)
    enqueue_patiently("predictions.tasks.pipeline.run_predictions", date_iso)
    written = _when_redis_answers(lambda: store.write_live(live), "feature hashes", day)
    elapsed = time.perf_counter() - started
    elapsed_ms = round(elapsed * 1000, 1)
    metrics.FEATURES_SECONDS.observe(elapsed)
    metrics.FEATURES_SYMBOLS.set(written)
    metrics.FEATURES_LAST_UPDATE.set(time.time())
    log.info("features %s: %d symbols written in %.1f ms", date_iso, written, elapsed_ms)
    return {"date": date_iso, "symbols": written, "ms": elapsed_ms}
