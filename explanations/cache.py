"""Redis copy of the latest explanation per symbol: ``explanation:{SYMBOL}`` (TTL 300 s)."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
from django.conf import settings

from explanations import conf

log = logging.getLogger(__name__)
_clients: dict[tuple[str, float], redis.Redis] = {}
READ_TIMEOUT = 0.5  # the request path falls back to PostgreSQL rather than wait
WRITE_TIMEOUT = 5.0  # the worker can wait; a lost write would leave only PostgreSQL


def client(timeout: float = READ_TIMEOUT) -> redis.Redis:
    url = settings.REDIS_URL
    if (url, timeout) not in _clients:
        _clients[(url, timeout)] = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
    return _clients[(url, timeout)]


def key(symbol: str) -> str:
    return f"explanation:{symbol.upper()}"


def get(symbol: str) -> dict[str, Any] | None:
    try:
        raw = client().get(key(symbol))
    except redis.RedisError:
        return None
    return json.loads(raw) if raw else None


def put(symbol: str, payload: dict[str, Any]) -> None:
    try:
        client(WRITE_TIMEOUT).set(
            key(symbol),
            json.dumps(payload, default=str),
            ex=int(conf.get("EXPLANATION_CACHE_SECONDS")),
        )
    except redis.RedisError:
        # PostgreSQL keeps the explanation; the cache is only a shortcut.
        log.warning("Could not cache the explanation of %s", symbol, exc_info=True)
