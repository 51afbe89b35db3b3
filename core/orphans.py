"""Give back the messages of a dead worker without waiting for the visibility timeout.

With late acknowledgement on the Redis broker, a message a worker has taken sits in kombu's
``unacked`` hash (and ``unacked_index``, scored by delivery time) until the worker acknowledges
it. A worker killed outright (kill -9 of the whole worker, a lost machine) never does, and
kombu puts the message back only once it is older than the ``visibility_timeout`` (900 s here:
it must exceed the longest task, or a long explanation would run twice). Measured by
``bench faults``: the live cycle whose inference worker was killed mid-batch came back after
15 minutes, long after its day was over.

So each worker, when it starts and then every ``ORPHAN_CHECK_SECONDS``, looks at the unacked
messages of ITS queues older than ``ORPHAN_MIN_AGE_SECONDS`` and asks every worker (remote control
``active``, ``reserved`` and ``scheduled``) which task ids are still held; a message nobody holds is
an orphan and goes back to the head of its queue. The min age covers the instant between a worker
taking a message and listing it as reserved. A worker that does not answer in time (a busy ``solo``
pool) can have its running task redelivered: the pipeline's writes are idempotent, so that costs
CPU, never a duplicate row.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

ORPHAN_MIN_AGE_SECONDS = 10.0
ORPHAN_CHECK_SECONDS = 5.0
INSPECT_TIMEOUT_SECONDS = 1.0
UNACKED_KEY = "unacked"  # kombu.transport.redis.Channel.unacked_key
UNACKED_INDEX_KEY = "unacked_index"


def held_task_ids(app: Any, timeout: float = INSPECT_TIMEOUT_SECONDS) -> set[str] | None:
    """Ids of the tasks some worker is running or holds; None when no worker answered."""
    inspect = app.control.inspect(timeout=timeout)
    replies = [inspect.active(), inspect.reserved(), inspect.scheduled()]
    if all(r is None for r in replies):
        return None
    # ``scheduled`` (a retry's countdown, an ETA) nests the task under "request".
    return {
        (task.get("request") or task)["id"]
        for reply in replies
        for tasks in (reply or {}).values()
        for task in tasks
    }


def _candidates(client: Any, queues: set[str], min_age: float) -> list[tuple[bytes, str]]:
    """(delivery tag, task id) of the old enough unacked messages routed to ``queues``."""
    tags = client.zrange(UNACKED_INDEX_KEY, 0, time.time() - min_age, byscore=True)
    found = []
    for tag in tags:
        raw = client.hget(UNACKED_KEY, tag)
        if raw is None:
            continue
        payload, _exchange, routing_key = json.loads(raw)
        task_id = (payload.get("headers") or {}).get("id")
        if routing_key in queues and task_id:
            found.append((tag, str(task_id)))
    return found


def reclaim(app: Any, queues: Iterable[str], min_age: float = ORPHAN_MIN_AGE_SECONDS) -> int:
    """Put the orphaned messages of ``queues`` back; returns how many."""
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        client = channel.client
        candidates = _candidates(client, set(queues), min_age)
        if not candidates:
            return 0
        held = held_task_ids(app)
        if held is None:
            held = set()  # no worker answered, not even this one's: nobody holds anything
        orphans = [tag for tag, task_id in candidates if task_id not in held]
        for tag in orphans:
            channel.qos.restore_by_tag(tag, client)
    if orphans:
        log.warning("redelivered %d orphaned message(s) of %s", len(orphans), sorted(queues))
    return len(orphans)


def _loop(app: Any, queues: list[str], stop: threading.Event, period: float) -> None:
    while True:
        try:
            reclaim(app, queues)
        except Exception:  # the broker may be down: the next round retries
            log.debug("orphan check failed", exc_info=True)
        if stop.wait(period):
            return


def start_reaper(
    app: Any, queues: Iterable[str], period: float = ORPHAN_CHECK_SECONDS
) -> threading.Event:
    """Check now and every ``period`` seconds in a daemon thread; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_loop, args=(app, sorted(queues), stop, period), name="orphan-reaper", daemon=True
    )
    thread.start()
    return stop
