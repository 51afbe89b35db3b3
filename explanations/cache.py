"""Redis copy of the latest explanation per symbol: ``explanation:{SYMBOL}`` (TTL 300 s)."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from core import redis_clients
from core.redis_clients import Preset
from explanations import conf

log = logging.getLogger(__name__)


def client(preset: Preset = Preset.REQUEST) -> redis.Redis:
    """Reads use the request path's short timeouts (PostgreSQL answers rather than wait);
    the worker writes with ``Preset.WORKER``: it can wait, and a lost write would leave only
    PostgreSQL."""
    return redis_clients.client(preset)


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
        client(Preset.WORKER).set(
            key(symbol),
            json.dumps(payload, default=str),
            ex=int(conf.get("EXPLANATION_CACHE_SECONDS")),
        )
    except redis.RedisError:
        # PostgreSQL keeps the explanation; the cache is only a shortcut.
        log.warning("Could not cache the explanation of %s", symbol, exc_info=True)
