"""Scrape-time figures of the infrastructure, computed when ``/metrics`` is read (web only):
Celery queue depths (broker lists), Redis memory, PostgreSQL connections. A component that does
not answer reports ``*_up 0`` instead of failing the whole scrape."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import redis
from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core import redis_clients

log = logging.getLogger(__name__)

# kombu's Redis transport keeps priority levels 3, 6, 9 in lists "<queue>\x06\x16<priority>".
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def queue_names() -> list[str]:
    return [q.name for q in current_app.conf.task_queues or []]


def queue_lengths(client: redis.Redis) -> dict[str, int]:
    names = queue_names()
    pipe = client.pipeline(transaction=False)
    for name in names:
        for suffix in _PRIORITY_SUFFIXES:
            pipe.llen(name + suffix)
    counts = pipe.execute()
    n = len(_PRIORITY_SUFFIXES)
    return {name: int(sum(counts[i * n : (i + 1) * n])) for i, name in enumerate(names)}


def redis_memory(client: redis.Redis) -> tuple[int, int]:
    """(used bytes, limit bytes): the limit is ``maxmemory``, or the machine's memory when
    Redis runs without one (it then grows until the system runs out)."""
    info = client.info("memory")
    limit = int(info.get("maxmemory") or 0) or int(info.get("total_system_memory") or 0)
    return int(info["used_memory"]), limit


def db_connections() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        )
        used = int(cursor.fetchone()[0])
        cursor.execute("SHOW max_connections")
        limit = int(cursor.fetchone()[0])
    return used, limit


def _gauge(
    name: str, doc: str, value: float, labels: dict[str, str] | None = None
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


class InfrastructureCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._broker()
        yield from self._redis()
        yield from self._database()

    def _broker(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "stockpred_celery_queue_length",
            "Messages waiting in each Celery queue.",
            labels=["queue"],
        )
        try:
            lengths = queue_lengths(redis_clients.client(url=settings.CELERY_BROKER_URL))
            for queue, length in lengths.items():
                family.add_metric([queue], length)
        except (redis.RedisError, OSError) as exc:
            log.warning("queue depths unavailable: %s", exc)
        yield family

    def _redis(self) -> Iterator[GaugeMetricFamily]:
        try:
            used, limit = redis_memory(redis_clients.client())
        except (redis.RedisError, OSError) as exc:
            log.warning("Redis metrics unavailable: %s", exc)
            yield _gauge("stockpred_redis_up", "1 when Redis answered the scrape.", 0)
            return
        yield _gauge("stockpred_redis_up", "1 when Redis answered the scrape.", 1)
        yield _gauge("stockpred_redis_memory_used_bytes", "Redis used_memory.", used)
        yield _gauge(
            "stockpred_redis_memory_limit_bytes",
            "Redis maxmemory, or the machine's memory when unlimited.",
            limit,
        )

    def _database(self) -> Iterator[GaugeMetricFamily]:
        try:
            used, limit = db_connections()
        except (DatabaseError, OSError) as exc:
            log.warning("PostgreSQL metrics unavailable: %s", exc)
            yield _gauge("stockpred_db_up", "1 when PostgreSQL answered the scrape.", 0)
            return
        yield _gauge("stockpred_db_up", "1 when PostgreSQL answered the scrape.", 1)
        yield _gauge("stockpred_db_connections", "Client connections to PostgreSQL.", used)
        yield _gauge("stockpred_db_max_connections", "PostgreSQL max_connections.", limit)
