"""Publish one ``prediction.update`` per symbol to the Channels layer (group per symbol).

channels_redis' ``group_send`` costs two Redis round trips per group even when nobody listens,
so 5,000 sequential sends would dominate a cycle. Two measures keep it cheap:
- one pipelined ``EXISTS`` over every group key finds the groups that have subscribers (a
  group's key only exists while a consumer is in it); only those get a ``group_send``;
- the sends run concurrently with ``asyncio.gather`` in one event loop that lives as long as
  the process (channels_redis keeps its connection pools per loop).
With a sharded layer (several hosts) the pre-filter is skipped and every group is sent to.
A consumer that joins between the check and the send gets the next cycle's update.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import redis
from channels.layers import get_channel_layer

from core.groups import PREDICTION_UPDATE_EVENT, prediction_group

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()
SEND_CONCURRENCY = 200  # in-flight group_send calls (bounds connections per pool)


def _event_loop() -> asyncio.AbstractEventLoop:
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop


def _layer_client(layer) -> redis.Redis | None:
    hosts = getattr(layer, "hosts", None)
    if not hosts or len(hosts) != 1 or not hasattr(layer, "_group_key"):
        return None
    host = hosts[0]
    address = host.get("address") if isinstance(host, dict) else host
    if not isinstance(address, str):
        return None
    return redis.Redis.from_url(address, socket_timeout=2, socket_connect_timeout=2)


def subscribed_groups(layer, groups: list[str]) -> list[bool]:
    client = _layer_client(layer)
    if client is None:
        return [True] * len(groups)
    try:
        pipe = client.pipeline(transaction=False)
        for group in groups:
            pipe.exists(layer._group_key(group))
        return [bool(x) for x in pipe.execute()]
    finally:
        client.close()


async def _send(layer, targets: list[tuple[str, dict[str, Any]]]) -> None:
    semaphore = asyncio.Semaphore(SEND_CONCURRENCY)

    async def one(group: str, payload: dict[str, Any]) -> None:
        async with semaphore:
            await layer.group_send(group, {"type": PREDICTION_UPDATE_EVENT, "payload": payload})

    await asyncio.gather(*(one(group, payload) for group, payload in targets))


def publish(payloads: list[dict[str, Any]]) -> int:
    """Send each payload to its symbol's group; returns the number of groups sent to."""
    layer = get_channel_layer()
    if layer is None or not payloads:
        return 0
    groups = [prediction_group(p["symbol"]) for p in payloads]
    targets = [
        (group, payload)
        for group, payload, live in zip(
            groups, payloads, subscribed_groups(layer, groups), strict=True
        )
        if live
    ]
    if targets:
        with _loop_lock:
            _event_loop().run_until_complete(_send(layer, targets))
    return len(targets)
