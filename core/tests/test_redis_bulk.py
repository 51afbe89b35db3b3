"""``core.redis_bulk``: commands packed here, sent in one round trip, replies in order."""

from __future__ import annotations

import pytest
import redis

from core import redis_bulk


def test_it_sends_every_command_and_returns_every_reply_in_order(redis_client):
    value = 'x\r\n$3\r\n{"a": 1}' * 50  # protocol bytes inside a value stay data
    commands = [redis_bulk.pack(b"SET", f"bulk:{i}".encode(), value.encode(), b"EX", b"60")
                for i in range(500)]  # fmt: skip
    replies = redis_bulk.round_trip(redis_client, commands)
    assert len(replies) == 500 and all(r in (True, b"OK", "OK") for r in replies)
    assert redis_client.get("bulk:499") == value.encode()
    assert 0 < redis_client.ttl("bulk:0") <= 60
    assert redis_bulk.round_trip(redis_client, []) == []


def test_it_raises_on_an_error_reply_and_leaves_the_client_usable(redis_client):
    redis_client.set("bulk:text", "not a number")
    with pytest.raises(redis.ResponseError):
        redis_bulk.round_trip(
            redis_client,
            [redis_bulk.pack(b"INCR", b"bulk:text"), redis_bulk.pack(b"SET", b"bulk:after", b"1")],
        )
    # The connection with a reply left unread was closed: the next command gets its own reply.
    assert redis_client.get("bulk:text") == b"not a number"
    assert redis_bulk.round_trip(redis_client, [redis_bulk.pack(b"GET", b"bulk:text")]) == [
        b"not a number"
    ]
