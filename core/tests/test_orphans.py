"""The orphan reaper against a private redis-server: the state a worker killed with kill -9
leaves in kombu's unacked hash, given back to its queue; young or foreign messages left alone."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import redis
from celery import Celery
from kombu.entity import Exchange, Queue

from core.orphans import UNACKED_INDEX_KEY, UNACKED_KEY, reclaim
from predictions.replay import _free_port


@pytest.fixture
def broker():
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    # Not the current app: later tests that send tasks must keep the platform's broker.
    app = Celery("orphans", broker=f"redis://127.0.0.1:{port}/0", set_as_current=False)
    app.conf.task_queues = [
        Queue(q, Exchange(q, type="direct"), routing_key=q) for q in ("inference", "ingest")
    ]
    try:
        yield app, client
    finally:
        proc.terminate()
        proc.wait(10)


def _taken(app, client, queue: str, age: float) -> str:
    """Send a task, then leave it as a dead worker does: popped from its list, unacknowledged."""
    app.send_task("predictions.tasks.pipeline.run_predictions", args=["2025-07-08"], queue=queue)
    raw = client.rpop(queue)
    payload = json.loads(raw)
    tag = payload["properties"]["delivery_tag"]
    client.hset(UNACKED_KEY, tag, json.dumps([payload, queue, queue]))
    client.zadd(UNACKED_INDEX_KEY, {tag: time.time() - age})
    return payload["headers"]["id"]


def test_it_gives_back_an_old_message_that_no_worker_holds(broker) -> None:
    app, client = broker
    task_id = _taken(app, client, "inference", age=60)
    assert client.llen("inference") == 0
    assert reclaim(app, ["inference"], min_age=10) == 1
    back = json.loads(client.lindex("inference", 0))
    assert back["headers"]["id"] == task_id
    assert client.hlen(UNACKED_KEY) == 0 and client.zcard(UNACKED_INDEX_KEY) == 0


def test_it_leaves_young_messages_and_other_queues_alone(broker) -> None:
    app, client = broker
    _taken(app, client, "inference", age=1)  # just taken: maybe not listed as reserved yet
    _taken(app, client, "ingest", age=60)  # another worker's queue
    assert reclaim(app, ["inference"], min_age=10) == 0
    assert client.llen("inference") == 0 and client.llen("ingest") == 0
    assert client.hlen(UNACKED_KEY) == 2
