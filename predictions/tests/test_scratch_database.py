"""The benches' scratch database (``predictions.replay.scratch_database``) is dropped at the end
even when a session of a stopped process is still connected to it."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from predictions.replay import scratch_database

pytestmark = pytest.mark.django_db(transaction=True)

NAME = "scratch_teardown_test"


def _connect(dbname: str) -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"], port=s["PORT"] or None, user=s["USER"], dbname=dbname, autocommit=True
    )


def test_it_drops_the_database_a_lingering_session_still_uses() -> None:
    with scratch_database(NAME):
        assert connection.settings_dict["NAME"] == NAME
        lingering = _connect(NAME)  # e.g. a killed worker's backend still finishing
    with _connect("postgres") as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [NAME]).fetchall()
    assert found == []
    assert lingering.closed or lingering.broken or _is_dead(lingering)


def _is_dead(conn: psycopg.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False
