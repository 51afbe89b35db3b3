"""Publish one ``prediction.update`` per symbol to the Channels layer (group per symbol).

channels_redis' ``group_send`` costs four Redis round trips per group, even for a group nobody
watches; 5,000 of them per cycle take seconds (``bench pipeline`` prints the measurement). With a
single-host channels_redis layer (this platform's), the publisher speaks the same protocol in
bulk instead:

1. ONE Lua call over every symbol's group key returns the live members (channels added within
   ``group_expiry``) of the groups that have any - usually a handful of watched symbols;
2. the message for each member channel is built and serialised by the layer itself
   (``_map_channel_keys_to_connection``: same ``__asgi_channel__`` fan-in, same serializer,
   same capacity), and
3. ONE pipeline delivers them with channels_redis' own ``group_send`` Lua script (capacity
   check, ZADD, EXPIRE per channel).

So a cycle costs two or three round trips whatever the number of symbols and watchers. The
platform's Pub/Sub layer (``predictions.ws_layer``, the default) cannot tell who listens, so
every group gets its message: ``group_send_many`` packs all PUBLISHes into one round trip
(measured: the per-group ``group_send`` coroutines cost ~340 ms of CPU per 5,000-symbol cycle).
Any other layer (sharded, in-memory) gets plain ``group_send`` calls, run concurrently in one
event loop that lives as long as the process (channels_redis keeps connection pools per loop).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import redis
from channels.layers import BaseChannelLayer, get_channel_layer

from core.groups import PREDICTION_UPDATE_EVENT, prediction_group

# In-flight group_send calls on the generic path: below redis-py asyncio's pool limit (100).
SEND_CONCURRENCY = 50
EVAL_CHUNK = 1000  # channel keys per delivery script call

_LIVE_MEMBERS_LUA = """
local out = {}
for i = 1, #KEYS do
    local members = redis.call('ZRANGEBYSCORE', KEYS[i], ARGV[1], '+inf')
    if #members > 0 then
        out[#out + 1] = i
        out[#out + 1] = members
    end
end
return out
"""

# channels_redis 4.x group_send script, verbatim in behaviour.
_DELIVER_LUA = """
local over_capacity = 0
local current_time = ARGV[#ARGV - 1]
local expiry = ARGV[#ARGV]
for i=1,#KEYS do
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
        redis.call('ZADD', KEYS[i], current_time, ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _event_loop() -> asyncio.AbstractEventLoop:
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop


@lru_cache(maxsize=4)
def _client(address: str) -> redis.Redis:
    return redis.Redis.from_url(address, socket_timeout=2, socket_connect_timeout=2)


def _bulk_client(layer: BaseChannelLayer) -> redis.Redis | None:
    """A sync client on the layer's Redis when the bulk path applies, else None."""
    hosts = getattr(layer, "hosts", None)
    needed = ("_group_key", "_map_channel_keys_to_connection", "group_expiry", "expiry")
    if not hosts or len(hosts) != 1 or not all(hasattr(layer, n) for n in needed):
        return None
    host = hosts[0]
    address = host.get("address") if isinstance(host, dict) else None
    if not isinstance(address, str) or len(host) != 1:
        return None
    return _client(address)


def live_members(
    layer: BaseChannelLayer, client: redis.Redis, groups: list[str]
) -> dict[int, list[str]]:
    """Index in ``groups`` -> member channel names, for the groups that have members."""
    if not groups:
        return {}
    keys = [layer._group_key(g) for g in groups]
    since = int(time.time()) - layer.group_expiry
    reply = client.eval(_LIVE_MEMBERS_LUA, len(keys), *keys, since)
    return {int(reply[j]) - 1: [m.decode() for m in reply[j + 1]] for j in range(0, len(reply), 2)}


Event = Callable[[int], dict[str, Any]]


def _bulk_publish(
    layer: BaseChannelLayer, client: redis.Redis, tickers: list[str], event: Event
) -> int:
    groups = [prediction_group(t) for t in tickers]
    members = live_members(layer, client, groups)
    keys: list[bytes | str] = []
    messages: list[bytes] = []
    capacities: list[int] = []
    for index, channels in members.items():
        message = event(index)
        _, key_to_message, key_to_capacity = layer._map_channel_keys_to_connection(
            channels, message
        )
        for key, serialised in key_to_message.items():
            keys.append(key)
            messages.append(serialised)
            capacities.append(key_to_capacity[key])
    if keys:
        pipe = client.pipeline(transaction=False)
        stale = int(time.time()) - int(layer.expiry)
        for key in keys:
            pipe.zremrangebyscore(key, 0, stale)
        for start in range(0, len(keys), EVAL_CHUNK):
            chunk = slice(start, start + EVAL_CHUNK)
            pipe.eval(
                _DELIVER_LUA,
                len(keys[chunk]),
                *keys[chunk],
                *messages[chunk],
                *capacities[chunk],
                time.time(),
                layer.expiry,
            )
        pipe.execute()
    return len(members)


async def _send(layer: BaseChannelLayer, targets: list[tuple[str, dict[str, Any]]]) -> None:
    # channels_redis' core layer takes a pooled connection per in-flight call (redis-py caps a
    # pool at 100); other layers (e.g. predictions.ws_layer's Pub/Sub layer, which pipelines the
    # sends that arrive together) get every send at once.
    core = type(layer).__module__.startswith("channels_redis.core")
    semaphore = asyncio.Semaphore(SEND_CONCURRENCY if core else max(1, len(targets)))

    async def one(group: str, message: dict[str, Any]) -> None:
        async with semaphore:
            await layer.group_send(group, message)

    await asyncio.gather(*(one(group, message) for group, message in targets))


def publish(
    tickers: list[str],
    payload: Callable[[int], dict[str, Any]],
    frame: Callable[[int], str] | None = None,
) -> int:
    """Send ``payload(i)`` to the group of ``tickers[i]``; payloads are only built for the
    groups that get a message. ``frame(i)``, when given, is the client's update frame as JSON
    text (``PredictionBatch.update_frame``), sent along as ``text`` so that the web servers
    forward it as it is instead of encoding it once per process. Returns the number of groups
    that had subscribers (bulk path) or that were sent to (generic path)."""
    layer = get_channel_layer()
    if layer is None or not tickers:
        return 0

    def event(i: int) -> dict[str, Any]:
        message = {"type": PREDICTION_UPDATE_EVENT, "payload": payload(i)}
        if frame is not None:
            message["text"] = frame(i)
        return message

    client = _bulk_client(layer)
    if client is not None:
        return _bulk_publish(layer, client, tickers, event)
    send_many = getattr(layer, "group_send_many", None)  # predictions.ws_layer's Pub/Sub layer
    # A generator: each event is built (and sent, a chunk at a time) as the send reaches it.
    if send_many is not None and send_many(
        (prediction_group(t), event(i)) for i, t in enumerate(tickers)
    ):
        return len(tickers)
    targets = [(prediction_group(t), event(i)) for i, t in enumerate(tickers)]
    with _loop_lock:
        _event_loop().run_until_complete(_send(layer, targets))
    return len(targets)
