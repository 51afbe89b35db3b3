"""Redis clients for the API's request path: short timeouts so a Redis outage costs a few hundred
milliseconds at most and the API falls back to PostgreSQL instead of hanging.

One sync client per process and one asyncio client per event loop (asyncio connections belong to
the loop that opened them).
"""

from __future__ import annotations

import asyncio
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

_sync_client: tuple[str, redis.Redis] | None = None
_patient_client: tuple[str, redis.Redis] | None = None
# Sign-in throttling runs next to a password hash (~100 ms): a loaded Redis must not make it skip
# counting a failure, so it waits longer than the API's hot path does.
PATIENT_TIMEOUT_SECONDS = 2.0
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, aioredis.Redis]]
_async_clients = weakref.WeakKeyDictionary()


def _options() -> dict:
    timeout = settings.API_REDIS_TIMEOUT_SECONDS
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry_on_timeout": False}


def sync_client() -> redis.Redis:
    global _sync_client
    url = settings.REDIS_URL
    if _sync_client is None or _sync_client[0] != url:
        _sync_client = (url, redis.Redis.from_url(url, **_options()))
    return _sync_client[1]


def patient_client() -> redis.Redis:
    """A sync client with a longer timeout, for security counters off the hot path."""
    global _patient_client
    url = settings.REDIS_URL
    if _patient_client is None or _patient_client[0] != url:
        timeout = max(PATIENT_TIMEOUT_SECONDS, settings.API_REDIS_TIMEOUT_SECONDS)
        client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False
        )
        _patient_client = (url, client)
    return _patient_client[1]


def async_client() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    url = settings.REDIS_URL
    cached = _async_clients.get(loop)
    if cached is None or cached[0] != url:
        cached = (url, aioredis.Redis.from_url(url, **_options()))
        _async_clients[loop] = cached
    return cached[1]
