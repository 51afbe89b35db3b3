"""Queued tasks can be taken back from the Redis broker by id (``bench explain`` does it with
the index batches it no longer needs)."""

from __future__ import annotations

from core.tasking import discard_queued, send_now


def test_it_discards_only_the_named_waiting_tasks(redis_client):
    name = "explanations.tasks.index_documents_batch"  # routed to "index"; no worker here
    ours, other = send_now(name, [], True), send_now(name, [], False)
    assert redis_client.llen("index") == 2
    assert discard_queued("index", [ours.id, "not-queued"]) == 1
    assert redis_client.llen("index") == 1
    assert discard_queued("index", [other.id]) == 1
    assert redis_client.llen("index") == 0
