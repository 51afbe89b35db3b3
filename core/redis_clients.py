"""The one Redis client factory. Every module asks for a client by preset instead of building
its own, so timeouts are chosen once per kind of caller:

- ``REQUEST``: the API's and the website's request path. Short timeouts, no retry: a Redis
  outage costs a request a few hundred milliseconds before it answers from PostgreSQL.
- ``PIPELINE``: the live cycle's batched reads and writes (thousands of keys per round trip).
- ``WORKER``: everything else in workers and commands (explanations, indexing, health).

One sync client per (preset, URL) per process, and one asyncio client per event loop
(asyncio connections belong to the loop that opened them).
"""

from __future__ import annotations

import asyncio
import weakref
from enum import StrEnum
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings


class Preset(StrEnum):
    REQUEST = "request"
    PIPELINE = "pipeline"
    WORKER = "worker"


def _options(preset: Preset) -> dict[str, Any]:
    if preset is Preset.REQUEST:
        timeout = settings.API_REDIS_TIMEOUT_SECONDS
        return {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if preset is Preset.PIPELINE:
        # An outage must cost a cycle a second, not a hang; a batch of 5,000 keys still fits.
        return {"socket_timeout": 5.0, "socket_connect_timeout": 1.0}
    return {"socket_timeout": 5.0, "socket_connect_timeout": 2.0}


_sync: dict[tuple[Preset, str], redis.Redis] = {}
_async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, aioredis.Redis]]
_async = weakref.WeakKeyDictionary()


def client(preset: Preset = Preset.WORKER, url: str | None = None) -> redis.Redis:
    """The process's client for ``preset`` (``url`` defaults to ``settings.REDIS_URL``)."""
    url = url or settings.REDIS_URL
    key = (preset, url)
    found = _sync.get(key)
    if found is None:
        found = _sync[key] = redis.Redis.from_url(url, **_options(preset))
    return found


def async_client(preset: Preset = Preset.REQUEST) -> aioredis.Redis:
    """The running event loop's asyncio client for ``preset``."""
    per_loop = _async.setdefault(asyncio.get_running_loop(), {})
    key = f"{preset}|{settings.REDIS_URL}"
    found = per_loop.get(key)
    if found is None:
        found = per_loop[key] = aioredis.Redis.from_url(settings.REDIS_URL, **_options(preset))
    return found
