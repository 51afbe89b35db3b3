"""Read-only access to the live Redis keys the pipeline and feature engine write
(docs/contracts.md): ``pred:{SYMBOL}``, ``features:{SYMBOL}``, ``earnings_flag:{SYMBOL}``,
``replay:date``. The website never writes them."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings

from predictions import cache

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


def cached_predictions(tickers: list[str]) -> dict[str, dict[str, Any]]:
    """``pred:{SYMBOL}`` payloads of the tickers that have one (TTL 120 s). A Redis outage
    degrades to "no cached prediction": pages then fall back to the database."""
    try:
        return cache.read_many(client(), tickers)
    except redis.RedisError as exc:
        log.warning("Redis unavailable for pred:* (%s); using the database", exc)
        return {}


def live_features(ticker: str) -> dict[str, str]:
    try:
        raw = client().hgetall(f"features:{ticker}")
    except redis.RedisError:
        return {}
    return {k.decode(): v.decode() for k, v in raw.items()}


def earnings_flagged() -> set[str]:
    """Tickers whose next trading day is an earnings reaction day (``earnings_flag:*`` = "1")."""
    try:
        keys = list(client().scan_iter(match="earnings_flag:*", count=1000))
        if not keys:
            return set()
        values = client().mget(keys)
    except redis.RedisError:
        return set()
    return {
        key.decode().split(":", 1)[1]
        for key, value in zip(keys, values, strict=True)
        if value is not None and value.decode() == "1"
    }


def is_earnings_flagged(ticker: str) -> bool:
    try:
        return client().get(f"earnings_flag:{ticker}") == b"1"
    except redis.RedisError:
        return False


def replay_date() -> str | None:
    try:
        value = client().get("replay:date")
    except redis.RedisError:
        return None
    return value.decode() if value else None
