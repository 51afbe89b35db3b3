"""State of the services the platform depends on, for /healthz and the run command."""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection


def database_state() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT extname FROM pg_extension WHERE extname IN ('vector', 'timescaledb')"
            )
            extensions = sorted(row[0] for row in cursor.fetchall())
    except Exception as exc:  # any driver error means "down"; the message says why
        return {"ok": False, "error": str(exc).strip().splitlines()[0]}
    return {
        "ok": True,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        "extensions": extensions,
        "timescaledb": "timescaledb" in extensions,
    }


def redis_state() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        client.ping()
    except redis.RedisError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def workers_state(timeout: float = 1.0) -> dict[str, Any]:
    from config.celery_app import app

    try:
        replies = app.control.ping(timeout=timeout)
    except Exception as exc:  # broker unreachable
        return {"ok": False, "error": str(exc), "workers": []}
    names = sorted(name for reply in replies for name in reply)
    return {"ok": bool(names), "workers": names}


def platform_state(include_workers: bool = True) -> dict[str, Any]:
    state: dict[str, Any] = {"database": database_state(), "redis": redis_state()}
    if include_workers:
        state["workers"] = (
            workers_state() if state["redis"]["ok"] else {"ok": False, "error": "redis is down"}
        )
    state["ok"] = state["database"]["ok"] and state["redis"]["ok"]
    return state
