"""The Redis Pub/Sub channel layer for the WebSocket feed (``CHANNEL_LAYER=pubsub``).

Why: with channels_redis' default layer every server process pops the messages for its
WebSocket consumers one at a time (a BZPOPMIN plus a clean-up call each), so fanning out one
pipeline cycle to 10,000 clients queues for seconds (``bench ws``). The Pub/Sub layer sends one
PUBLISH per group; each server process holds one subscription connection and fans out in memory.
Trade-off: delivery is at most once (no per-channel queue in Redis) - fine for a feed whose next
cycle supersedes every message.

Three additions to channels_redis' Pub/Sub layer, each measured by ``bench ws``:
- it sends each PUBLISH alone, behind a per-connection lock, so 5,000 concurrent ``group_send``
  calls (one pipeline cycle) take 5,000 sequential round trips; here the calls that arrive
  together go out as one pipelined batch;
- the pipeline's ``group_send_many`` (a whole cycle) publishes its group messages
  ``BATCH_SIZE`` at a time on one batch channel (``<prefix>__batch``) that every serving process
  subscribes to with its first group: one Redis message to read per 500 updates instead of one
  per update (redis-py's per-message receive cost was most of a web process's cycle). A batch
  is unpacked into the same per-group messages, which then take the path below;
- on receipt it queues the serialised message for every local member channel, and each consumer
  then deserialises its copy and goes through Channels' dispatch loop (a task and an
  ``asyncio.wait`` per message). A consumer may instead register a direct handler for its
  channel (``register_direct``): group messages are then deserialised once per process and
  handed to the handlers synchronously. Other messages take the normal path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

import msgpack
import redis
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, _wrap_close
from channels_redis.utils import decode_hosts
from redis import asyncio as aioredis

from core import redis_bulk

log = logging.getLogger(__name__)

DirectHandler = Callable[[dict[str, Any]], None]

BATCH_SIZE = 500  # group messages per PUBLISH of group_send_many


def batch_channel(prefix: str) -> str:
    return f"{prefix}__batch"


@lru_cache(maxsize=4)
def _sync_client(address: str) -> redis.Redis:
    return redis.Redis.from_url(address, socket_timeout=5, socket_connect_timeout=2)


ReceiveHook = Callable[[dict[str, Any] | None], None]


class BatchingLoopLayer(RedisPubSubLoopLayer):  # type: ignore[misc]  # channels_redis is untyped
    def __init__(
        self, *args: Any, hosts: list[str | dict[str, Any]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, hosts=hosts, **kwargs)
        self.direct: dict[str, DirectHandler] = {}
        for shard in self._shards:
            # channels_redis 4.3 internals (pinned): the shard's receive hook.
            shard._receive_message = self._receiver(shard._receive_message)
        decoded = decode_hosts(hosts)
        # Batching needs one plain Redis URL; anything else keeps the parent's behaviour.
        single = len(decoded) == 1 and set(decoded[0]) == {"address"}
        self._publish_url: str | None = decoded[0]["address"] if single else None
        self._publisher: aioredis.Redis | None = None
        self._pending: list[tuple[str, bytes, asyncio.Future[None]]] = []
        self._flushing = False
        self._batch_channel = batch_channel(self.prefix)
        self._batch_subscribed = False

    def register_direct(self, channel: str, handler: DirectHandler | None) -> None:
        if handler is None:
            self.direct.pop(channel, None)
        else:
            self.direct[channel] = handler

    async def group_add(self, group: str, channel: str) -> None:
        await super().group_add(group, channel)
        if self._publish_url is not None and not self._batch_subscribed:
            # group_send_many's batches reach every process that serves a group.
            await self._get_shard(self._batch_channel).subscribe(self._batch_channel)
            self._batch_subscribed = True

    def _receiver(self, fallback: ReceiveHook) -> ReceiveHook:
        def receive(message: dict[str, Any] | None) -> None:
            if message is not None and _name(message) == self._batch_channel:
                for channel, data in msgpack.unpackb(message["data"]):
                    receive({"channel": channel, "data": data})
                return
            if message is None or not self.direct:
                fallback(message)
                return
            members = self.groups.get(_name(message))
            if not members:
                fallback(message)
                return
            decoded: dict[str, Any] | None = None
            for channel in members:
                handler = self.direct.get(channel)
                if handler is not None:
                    if decoded is None:
                        decoded = self.channel_layer.deserialize(message["data"])
                    try:
                        handler(decoded)
                    except Exception:  # one consumer's failure must not stop the rest
                        log.exception("Direct handler of %s failed", channel)
                elif channel in self.channels:
                    self.channels[channel].put_nowait(message["data"])

        return receive

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if self._publish_url is None:
            await super().group_send(group, message)
            return
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        channel = self._get_group_channel_name(group)
        self._pending.append((channel, self.channel_layer.serialize(message), future))
        if not self._flushing:
            self._flushing = True
            # call_soon: the sends already scheduled in this loop iteration join the batch.
            loop.call_soon(lambda: loop.create_task(self._flush()))
        await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    pipe = self._publisher_client().pipeline(transaction=False)
                    for channel, data, _ in batch:
                        pipe.publish(channel, data)
                    await pipe.execute()
                except Exception as exc:  # noqa: BLE001 - every waiting sender learns of the failure
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for _, _, future in batch:
                    if not future.done():
                        future.set_result(None)
        finally:
            self._flushing = False

    def _publisher_client(self) -> aioredis.Redis:
        if self._publisher is None:
            assert self._publish_url is not None  # only batched when there is one URL
            self._publisher = aioredis.Redis.from_url(self._publish_url)
        return self._publisher

    async def flush(self) -> None:
        await super().flush()
        self._batch_subscribed = False
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None


def _name(message: dict[str, Any]) -> str:
    name = message["channel"]
    return name.decode() if isinstance(name, bytes) else str(name)


class PubSubChannelLayer(RedisPubSubChannelLayer):  # type: ignore[misc]  # channels_redis is untyped
    # The parent proxies unknown attributes to a per-event-loop layer, which raises outside a
    # running loop; sync code probing the layer (the pipeline publisher checks ``hosts`` to pick
    # its bulk path for the default layer) must get a plain "not that layer" answer instead.
    hosts = None

    def group_send_many(self, messages: Iterable[tuple[str, dict[str, Any]]]) -> bool:
        """``group_send`` of every (group, message), from sync code (the pipeline's publish):
        ``BATCH_SIZE`` group messages per PUBLISH on the batch channel, every PUBLISH packed
        into one buffer, one round trip (``core.redis_bulk``), no event loop. The same group
        channel names and serialisation as ``group_send`` inside each batch. False (nothing
        sent) when the layer is not on one plain Redis URL: then ``group_send`` it is."""
        hosts = decode_hosts(self._kwargs.get("hosts"))
        if len(hosts) != 1 or set(hosts[0]) != {"address"}:
            return False
        prefix = self._kwargs.get("prefix", "asgi")
        channel = batch_channel(prefix).encode()

        def commands() -> Iterator[bytes]:  # the first chunks go out while the rest are packed
            batch: list[tuple[str, bytes]] = []
            for group, message in messages:
                batch.append((f"{prefix}__group__{group}", self.serialize(message)))
                if len(batch) == BATCH_SIZE:
                    yield redis_bulk.pack(b"PUBLISH", channel, msgpack.packb(batch))
                    batch = []
            if batch:
                yield redis_bulk.pack(b"PUBLISH", channel, msgpack.packb(batch))

        # chunk=1: each batch leaves as soon as it is packed, the subscribers start on it.
        redis_bulk.round_trip(_sync_client(hosts[0]["address"]), commands(), chunk=1)
        return True

    def register_direct(self, channel: str, handler: DirectHandler | None) -> None:
        """Deliver this channel's group messages to ``handler`` (sync, in the event loop)."""
        self._get_layer().register_direct(channel, handler)

    def _get_layer(self) -> BatchingLoopLayer:
        loop = asyncio.get_running_loop()
        layer: BatchingLoopLayer | None = self._layers.get(loop)
        if layer is None:
            layer = BatchingLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
