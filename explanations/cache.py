"""Redis copy of the latest explanation per symbol: ``explanation:{SYMBOL}`` (TTL 300 s)."""

from __future__ import annotations

import json
from typing import Any

import redis
from django.conf import settings

from explanations import conf

_clients: dict[str, redis.Redis] = {}


def client() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return _clients[url]


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
        client().set(
            key(symbol),
            json.dumps(payload, default=str),
            ex=int(conf.get("EXPLANATION_CACHE_SECONDS")),
        )
    except redis.RedisError:
        pass  # PostgreSQL keeps the explanation; the cache is only a shortcut
