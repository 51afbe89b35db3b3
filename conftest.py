"""Project-wide pytest fixtures: real Redis, a real Celery worker, the standing users."""

from __future__ import annotations

import uuid

import pytest
import redis

# A key left in the platform's Redis database for the length of the run: if it is gone at the
# end, something in the suite emptied a running platform's data (issue 24), and the run fails.
_GUARD_KEY = f"testguard:{uuid.uuid4().hex}"


def _platform_redis() -> redis.Redis | None:
    from django.conf import settings

    client = redis.Redis.from_url(settings.PLATFORM_REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        return None  # no platform Redis to protect
    return client


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.conf import settings

    if settings.REDIS_URL == settings.PLATFORM_REDIS_URL:
        pytest.exit(f"the tests would use the platform's Redis ({settings.REDIS_URL})", 2)
    client = _platform_redis()
    if client is not None:
        client.set(_GUARD_KEY, "make test must leave this key alone", ex=6 * 3600)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    client = _platform_redis()
    if client is None:
        return
    if client.delete(_GUARD_KEY) == 0:
        session.config.get_terminal_writer().line(
            "the platform's Redis database lost the guard key during the run", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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


@pytest.fixture(autouse=True)
def _fresh_sector_map():
    """Each test reads the sectors of its own symbols (``ingestion.sectors`` caches them per
    process for the live cycle)."""
    from ingestion.sectors import forget_sectors

    forget_sectors()
    yield
    forget_sectors()
