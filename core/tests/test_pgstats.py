"""Statistics for never-analysed relations: plain tables, and the children of a parent (as a
hypertable's chunks are), leaving analysed ones alone."""

from __future__ import annotations

import pytest
from django.db import connection

from core.pgstats import analyse_new, never_analysed

pytestmark = pytest.mark.django_db


def _table(name: str, *, inherits: str | None = None) -> None:
    with connection.cursor() as cursor:
        tail = f" INHERITS ({inherits})" if inherits else ""
        cursor.execute(f"CREATE TABLE {name} (x int){tail}")
        cursor.execute(f"INSERT INTO {name} SELECT generate_series(1, 500)")


def _estimate(name: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [name])
        return float(cursor.fetchone()[0])


def test_it_analyses_a_table_that_has_no_statistics_once():
    _table("pgstats_plain")
    with connection.cursor() as cursor:
        assert never_analysed(cursor, ["pgstats_plain"]) == ["pgstats_plain"]
        assert analyse_new(cursor, ["pgstats_plain"]) == ["pgstats_plain"]
        assert _estimate("pgstats_plain") == 500
        assert analyse_new(cursor, ["pgstats_plain"]) == []


def test_it_analyses_the_children_of_a_parent_not_the_parent():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE pgstats_root (x int)")
    _table("pgstats_chunk_1", inherits="pgstats_root")
    _table("pgstats_chunk_2", inherits="pgstats_root")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pgstats_chunk_1")
        assert analyse_new(cursor, ["pgstats_root"]) == ["pgstats_chunk_2"]
        assert never_analysed(cursor, ["pgstats_root"]) == []
    assert _estimate("pgstats_chunk_2") == 500
