"""The System health board of architecture section 10.2 from live data, for the staff-only
``/ops`` page: predictions updated n of N and the age of the last update, each component's
status and rate, queue depths, Redis and PostgreSQL health, and the model-performance block.

Statuses: ``healthy``, ``degraded`` (working but late or over a threshold of docs/metrics.md),
``down`` (not answering or nothing recent), ``idle`` (nothing to do yet, e.g. no model)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Avg, Count, Sum
from django.utils import timezone

from core import metrics_collectors, redis_clients
from core.metrics_view import registry
from ingestion.models import IngestionRun
from predictions.metrics import cached_accuracy, freshness
from predictions.models import ModelStatus, ModelVersion, PipelineRun, PredictionRecord

RATE_WINDOW = timedelta(minutes=5)
QUEUE_LAG_LIMIT = 1000
ORDER = {"healthy": 0, "idle": 1, "degraded": 2, "down": 3}


def _component(name: str, status: str, detail: str, rate: str = "") -> dict[str, str]:
    return {"name": name, "status": status, "detail": detail, "rate": rate}


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"


def _late(seconds: float | None) -> str:
    if seconds is None:
        return "down"
    return "healthy" if seconds <= settings.PREDICTION_STALE_SECONDS else "degraded"


def ingestion() -> dict[str, str]:
    now = timezone.now()
    live = IngestionRun.objects.filter(mode=IngestionRun.Mode.LIVE)
    last = live.order_by("-started_at").first()
    if last is None:
        return _component("Ingestion", "idle", "no live cycle yet")
    recent = live.filter(started_at__gte=now - RATE_WINDOW).aggregate(rows=Sum("received"))
    age = (now - (last.finished_at or last.started_at)).total_seconds()
    rate = f"{(recent['rows'] or 0) / RATE_WINDOW.total_seconds():.1f} rows/s"
    status = "down" if last.status == IngestionRun.Status.FAILED else _late(age)
    return _component("Ingestion", status, f"last cycle {_age(age)} ({last.status})", rate)


def prediction_cycles() -> list[dict[str, str]]:
    """Feature store and the two model agents, from the recorded prediction cycles."""
    now = timezone.now()
    last = PipelineRun.objects.order_by("-started_at").first()
    if last is None:
        return [
            _component(n, "idle", "no cycle yet")
            for n in ("Features", "Normal-day model", "Earnings-day model")
        ]
    age = (now - last.finished_at).total_seconds()
    recent = PipelineRun.objects.filter(started_at__gte=now - RATE_WINDOW)
    per_min = (recent.aggregate(n=Sum("n_predicted"))["n"] or 0) / RATE_WINDOW.total_seconds() * 60
    no_features = any("no features" in str(e) for e in last.errors)
    features = _component(
        "Features",
        "down" if no_features else _late(age),
        f"{last.n_symbols:,} symbols in the last cycle, {_age(age)}",
        f"{recent.count() / RATE_WINDOW.total_seconds() * 60:.1f} updates/min",
    )
    out = [features]
    active = dict(
        ModelVersion.objects.filter(status=ModelStatus.ACTIVE).values_list("kind", "version")
    )
    for kind, label in (("normal", "Normal-day model"), ("earnings", "Earnings-day model")):
        out.append(_model(kind, label, active.get(kind), last, age, per_min))
    return out


def _model(
    kind: str, label: str, version: str | None, last: PipelineRun, age: float, per_min: float
) -> dict[str, str]:
    if version is None:
        return _component(label, "idle" if kind == "earnings" else "down", "no active model")
    served = last.model_versions.get(kind)
    rate = f"{per_min:.0f} predictions/min (all kinds)"
    if kind == "earnings" and not last.n_earnings:
        return _component(label, _late(age), f"{version}; no earnings-day symbol last cycle", rate)
    status = _late(age) if served == version else "degraded"
    return _component(label, status, f"{version}; served {served or 'nothing'} last cycle", rate)


def api() -> dict[str, str]:
    total = errors = 0.0
    for family in registry().collect():
        if family.name != "stockpred_api_request_duration_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_count"):
                total += sample.value
                errors += sample.value if sample.labels.get("status", "").startswith("5") else 0
    share = errors / total if total else 0.0
    status = "degraded" if share > 0.005 else "healthy"
    return _component("API", status, f"{total:,.0f} requests since start, {share:.2%} 5xx")


def redis_health() -> dict[str, str]:
    try:
        client = redis_clients.client()
        started = time.perf_counter()
        client.ping()
        ping_ms = (time.perf_counter() - started) * 1000
        used, limit = metrics_collectors.redis_memory(client)
    except (redis.RedisError, OSError) as exc:
        return _component("Redis", "down", f"not answering: {exc}")
    share = used / limit if limit else 0.0
    status = "degraded" if share > 0.8 else "healthy"
    return _component("Redis", status, f"{share:.0%} of memory limit, ping {ping_ms:.1f} ms")


def database_health() -> dict[str, str]:
    try:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        ping_ms = (time.perf_counter() - started) * 1000
        used, limit = metrics_collectors.db_connections()
    except (DatabaseError, OSError) as exc:
        return _component("PostgreSQL", "down", f"not answering: {exc}")
    status = "degraded" if used > 0.8 * limit else "healthy"
    return _component("PostgreSQL", status, f"{used} of {limit} connections, ping {ping_ms:.1f} ms")


def queues() -> tuple[dict[str, str], list[dict[str, Any]]]:
    try:
        broker = redis_clients.client(url=settings.CELERY_BROKER_URL)
        lengths = metrics_collectors.queue_lengths(broker)
    except (redis.RedisError, OSError) as exc:
        return _component("Queues", "down", f"broker not answering: {exc}"), []
    rows = [{"queue": q, "length": n, "late": n > QUEUE_LAG_LIMIT} for q, n in lengths.items()]
    worst = max(lengths.values(), default=0)
    status = "degraded" if worst > QUEUE_LAG_LIMIT else "healthy"
    return _component("Queues", status, f"{sum(lengths.values()):,} waiting, max {worst:,}"), rows


def model_performance() -> list[dict[str, Any]]:
    accuracy = cached_accuracy()
    made = {
        row["model_type"]: row
        for row in PredictionRecord.objects.values("model_type").annotate(
            n=Count("id"), sigma=Avg("uncertainty_sigma")
        )
    }
    out = []
    for kind, model_type, label in (
        ("normal", "normal_day", "Normal-day model"),
        ("earnings", "earnings_day", "Earnings-day model"),
    ):
        windows = accuracy.get(kind, {})
        row: dict[str, Any] = dict(made.get(model_type, {}))
        out.append(
            {
                "kind": kind,
                "label": label,
                "windows": sorted(windows.items()),
                "predictions_made": row.get("n", 0),
                "avg_sigma": row.get("sigma"),
            }
        )
    return out


def system_health() -> dict[str, Any]:
    fresh = freshness()
    queue_component, queue_rows = queues()
    components = [
        ingestion(),
        *prediction_cycles(),
        api(),
        redis_health(),
        database_health(),
        queue_component,
    ]
    worst = max((c["status"] for c in components), key=ORDER.__getitem__)
    overall = {"healthy": "healthy", "idle": "healthy", "degraded": "degraded"}.get(worst, "down")
    total = fresh["total"]
    return {
        "overall": overall,
        "updated": fresh["fresh"],
        "total": total,
        "updated_share": fresh["fresh"] / total if total else None,
        "last_update": _age(fresh["newest_age"]),
        "components": components,
        "queues": queue_rows,
        "models": model_performance(),
        "stale_seconds": settings.PREDICTION_STALE_SECONDS,
    }
