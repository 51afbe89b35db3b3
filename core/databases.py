"""Side databases on the platform's PostgreSQL server (benchmarks, replay evaluations): created
on the same server as the default database, whichever server that is."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend
from psycopg import sql


def ensure_database(name: str) -> None:
    """Create database ``name`` on the default connection's server when it does not exist."""
    params = connections["default"].get_connection_params()
    params = {k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@contextlib.contextmanager
def side_connection(name: str) -> Iterator[BaseDatabaseWrapper]:
    """A connection to database ``name`` on the default connection's server, closed afterwards,
    so a command can read another database of the platform (a kept replay). It is not
    registered in ``connections``: the platform's own aliases stay as configured."""
    settings_dict = dict(connections["default"].settings_dict)
    settings_dict["NAME"] = name
    backend = load_backend(settings_dict["ENGINE"])
    wrapper: BaseDatabaseWrapper = backend.DatabaseWrapper(settings_dict, alias=f"side_{name}")
    try:
        yield wrapper
    finally:
        wrapper.close()
