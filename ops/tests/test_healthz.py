from __future__ import annotations

import json
import os

import pytest
from django.test import Client

from config import embedded_db
from testkit import BaseTestCase


class HealthzTestCase(BaseTestCase):
    def test_it_reports_database_and_redis(self) -> None:
        response = Client().get("/healthz")
        self.assertEqual(response.status_code, 200)
        body = json.loads(response.content)
        self.assertTrue(body["database"]["ok"])
        self.assertIn("vector", body["database"]["extensions"])
        if not os.environ.get("DATABASE_URL") and embedded_db.timescaledb_installed():
            # The embedded cluster preloads TimescaleDB once make setup installed it.
            self.assertTrue(body["database"]["timescaledb"])
        self.assertTrue(body["redis"]["ok"])
        self.assertIn("workers", body)

    def test_it_rejects_post(self) -> None:
        self.assertEqual(Client().post("/healthz").status_code, 405)


@pytest.mark.django_db(transaction=True)
def test_it_sees_a_running_worker(celery_worker_thread) -> None:
    import time

    from ops.health import workers_state

    # The thread worker starts without a ping check: on a busy machine it may need a few
    # seconds before it answers control messages.
    deadline = time.monotonic() + 30
    state = workers_state(timeout=2.0)
    while not state["ok"] and time.monotonic() < deadline:
        state = workers_state(timeout=2.0)
    assert state["ok"], state
    assert state["workers"]


def test_it_reports_redis_down(settings, db) -> None:
    from ops.health import platform_state

    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    state = platform_state()
    assert state["ok"] is False
    assert state["redis"]["ok"] is False
    assert state["workers"]["ok"] is False
