"""Enqueue a Celery task by name once the current transaction commits.

Apps never import the Celery app (``config.celery_app``): they name the task, and the queue
comes from the routes declared there, in one place. Passing the name and plain arguments (ids,
ISO dates) keeps apps free of each other's task modules too. Outside a transaction the task is
sent at once, which is also "after the commit".
"""

from __future__ import annotations

import json
from typing import Any

from celery import current_app
from celery.result import AsyncResult
from django.db import InterfaceError, OperationalError, transaction


def send_now(name: str, *args: Any, **kwargs: Any) -> AsyncResult[Any]:
    """Send at once (no transaction to wait for: e.g. a command queueing work)."""
    return current_app.send_task(name, args=list(args), kwargs=kwargs)


def enqueue(name: str, *args: Any, **kwargs: Any) -> None:
    """Send ``name`` with these arguments after the current transaction commits."""
    transaction.on_commit(lambda: send_now(name, *args, **kwargs))


# The live chain's hand-offs (ingest -> features -> inference) wait out a broker restart
# instead of failing the sending task after Celery's default ~1 s: a failed task is
# acknowledged and its day would never be predicted (measured by ``bench faults``). About 50 s:
# 30 tries, 0.5 s apart, then up to 2 s. Request paths keep the default and fail fast.
PATIENT_RETRY_POLICY = {
    "max_retries": 30,
    "interval_start": 0.5,
    "interval_step": 0.5,
    "interval_max": 2.0,
}


# What a PostgreSQL restart raises in a worker (Celery's Django fixup closes the broken
# connection after the failed try, so the retry reconnects), and the retry of a live-chain task
# meeting it: 1, 2, 4, 8, 16, 16... s, ten times (about two minutes).
DATABASE_DOWN = (OperationalError, InterfaceError)
DATABASE_RETRY: dict[str, Any] = {
    "retry_backoff": 1,
    "retry_backoff_max": 16,
    "retry_jitter": False,
    "max_retries": 10,
}


def enqueue_patiently(name: str, *args: Any) -> None:
    """``enqueue`` for a worker's hand-off to the next stage: the send retries through a broker
    outage of up to ~50 s."""
    transaction.on_commit(
        lambda: current_app.send_task(
            name, args=list(args), retry=True, retry_policy=PATIENT_RETRY_POLICY
        )
    )


def ping_workers(timeout: float = 1.0) -> list[str]:
    """Names of the workers that answered a ping; raises when the broker is unreachable."""
    replies = current_app.control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)


def workers_consuming(queue: str, timeout: float = 1.0) -> bool:
    """True when some worker consumes ``queue``; False also when the broker is unreachable."""
    try:
        replies = current_app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception:  # noqa: BLE001 - any broker failure means "no worker" to the caller
        return False
    return any(q.get("name") == queue for qs in replies.values() for q in qs)


def discard_queued(queue: str, task_ids: list[str]) -> int:
    """Remove these tasks' messages still waiting in ``queue`` on the Redis broker (a revoke
    alone lives in the memory of the workers running now: a worker started later would run
    them). Returns how many were removed."""
    import redis

    wanted = set(task_ids)
    client = redis.Redis.from_url(current_app.conf.broker_url)
    removed = 0
    for raw in client.lrange(queue, 0, -1):
        message = raw.decode() if isinstance(raw, bytes) else str(raw)
        try:
            task_id = json.loads(message)["headers"]["id"]
        except (ValueError, KeyError, TypeError):
            continue
        if task_id in wanted:
            removed += int(client.lrem(queue, 1, message))
    return removed
