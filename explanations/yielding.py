"""Bulk indexing steps aside while an explanation is being generated.

``nice`` (and the niced autogroup, core/scheduling.py) leaves the index worker a small share of
the CPU, but on two cores each slice it gets still preempts the language model's threads and
evicts their caches. So the index worker also pauses between its embedding batches (32 chunks,
well under a second each) while any explanation job runs, and resumes when none does.

Redis key (owned here): ``explanations:running``, a sorted set of the running jobs' ids scored
by when their claim expires (a worker that dies mid-job stops counting after ``CLAIM_SECONDS``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from core import redis_clients
from core.redis_clients import Preset

log = logging.getLogger(__name__)

KEY = "explanations:running"
CLAIM_SECONDS = 150.0  # the explain task's hard time limit (120 s) and some margin
POLL_SECONDS = 0.2
MAX_PAUSE_SECONDS = 300.0  # indexing is never held back longer than this per batch


def _client() -> redis.Redis:
    return redis_clients.client(Preset.WORKER)


@contextmanager
def explaining(job_id: str) -> Iterator[None]:
    """Mark an explanation job as running for as long as the block lasts."""
    try:
        _client().zadd(KEY, {job_id: time.time() + CLAIM_SECONDS})
    except redis.RedisError:  # without Redis nothing waits on the mark
        log.warning("Could not mark explanation %s as running", job_id)
    try:
        yield
    finally:
        try:
            _client().zrem(KEY, job_id)
        except redis.RedisError:  # the claim expires by itself
            log.warning("Could not unmark explanation %s", job_id)


def running() -> int:
    """Explanation jobs running now (expired claims are dropped)."""
    try:
        client = _client()
        client.zremrangebyscore(KEY, "-inf", time.time())
        return int(client.zcard(KEY))
    except redis.RedisError:
        return 0


def wait_while_explaining(max_seconds: float = MAX_PAUSE_SECONDS) -> float:
    """Block while an explanation runs (at most ``max_seconds``); the seconds waited."""
    started = time.monotonic()
    while running() and time.monotonic() - started < max_seconds:
        time.sleep(POLL_SECONDS)
    return time.monotonic() - started
