"""State of the services the platform depends on, for /healthz and the run command."""

from __future__ import annotations

import time
from typing import Any

import redis
from django.db import connection

from core.redis_clients import Preset, client
from core.tasking import ping_workers


def database_state() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT extname FROM pg_extension WHERE extname IN ('vector', 'timescaledb')"
            )
            extensions = sorted(row[0] for row in cursor.fetchall())
    except Exception as exc:  # noqa: BLE001 - any driver error means "down"; the message says why
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
        client(Preset.PIPELINE).ping()
    except redis.RedisError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def workers_state(timeout: float = 1.0) -> dict[str, Any]:
    try:
        names = ping_workers(timeout)
    except Exception as exc:  # noqa: BLE001 - broker unreachable, whatever the transport says
        return {"ok": False, "error": str(exc), "workers": []}
    return {"ok": bool(names), "workers": names}


def platform_state(include_workers: bool = True) -> dict[str, Any]:
    state: dict[str, Any] = {"database": database_state(), "redis": redis_state()}
    if include_workers:
        state["workers"] = (
            workers_state() if state["redis"]["ok"] else {"ok": False, "error": "redis is down"}
        )
    state["ok"] = state["database"]["ok"] and state["redis"]["ok"]
    return state
