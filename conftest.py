"""Project-wide pytest fixtures: real Redis, a real Celery worker, the standing users."""

from __future__ import annotations

import pytest


@pytest.fixture
def redis_client():
    from testkit import test_redis

    client = test_redis()
    yield client
    client.flushdb()


@pytest.fixture
def users(db):
    from testkit import make_users

    return make_users()


@pytest.fixture
def celery_worker_thread(transactional_db):
    """A real Celery worker consuming every queue from the test Redis, in a thread of this
    process (it shares the test database). Tests using it must commit, hence transactional_db."""
    from celery.contrib.testing.worker import start_worker

    from config.celery_app import QUEUES, app

    with start_worker(
        app,
        pool="threads",
        concurrency=1,
        perform_ping_check=False,
        shutdown_timeout=30,
        queues=list(QUEUES),
    ) as worker:
        yield worker
