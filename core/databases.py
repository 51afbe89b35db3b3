"""Side databases on the platform's PostgreSQL server (benchmarks, replay evaluations): created
on the same server as the default database, whichever server that is."""

from __future__ import annotations

import psycopg
from django.db import connections
from psycopg import sql


def ensure_database(name: str) -> None:
    """Create database ``name`` on the default connection's server when it does not exist."""
    params = connections["default"].get_connection_params()
    params = {k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
