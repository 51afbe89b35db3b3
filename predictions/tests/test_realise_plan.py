"""The realise's plans: records updated in place (heap-only tuples), and the due outcomes
joined with their bars by hashing however stale the chunks' statistics are."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db import connection

from core.timescale import is_hypertable
from predictions.accuracy import (
    _FRESH_DDL,
    _FRESH_SQL,
    _due_params,
    _no_nested_loops,
    record_realised,
)
from predictions.benchmarks.pipeline import record_updates
from predictions.benchmarks.universe import make_symbols, store_bars, store_records

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 7, 8)
NEXT = dt.date(2025, 7, 9)


def _plan(params: dict[str, object], *, guarded: bool) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT plan")
        if guarded:
            _no_nested_loops(cursor)
        cursor.execute(_FRESH_DDL)
        cursor.execute("EXPLAIN " + _FRESH_SQL, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("ROLLBACK TO SAVEPOINT plan")
    return plan


def test_it_joins_due_outcomes_by_hashing_on_statistics_of_one_day():
    tickers = [f"P{i:04d}" for i in range(1000)]
    ids = make_symbols(tickers)
    store_bars(ids, tickers, DAY, np.full(len(tickers), 100.0))
    store_records(ids, DAY, NEXT)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ingestion_pricebar")
        cursor.execute("ANALYZE predictions_predictionrecord")
    store_bars(ids, tickers, NEXT, np.full(len(tickers), 101.0))
    store_records(ids, NEXT, dt.date(2025, 7, 10))
    params = _due_params(NEXT, 0)
    # the statistics say "one day of bars": the planner drives a loop from the new day's bars
    assert "Nested Loop" in _plan(params, guarded=False)
    assert "Nested Loop" not in _plan(params, guarded=True)


def test_it_updates_realised_records_in_place():
    tickers = [f"H{i:02d}" for i in range(10)]  # one page, so its free room is no question
    ids = make_symbols(tickers)
    store_bars(ids, tickers, DAY, np.full(len(tickers), 100.0))
    store_records(ids, DAY, NEXT)
    store_bars(ids, tickers, NEXT, np.linspace(95.0, 105.0, len(tickers)))
    assert record_realised(NEXT, lookback_days=0) == len(tickers)
    with connection.cursor() as cursor:
        updates = record_updates(cursor, transaction_only=True)
    # an index on a column the realise sets (realised_at's partial index did) makes none HOT
    assert (updates["updated"], updates["hot"]) == (len(tickers), len(tickers))


def test_it_leaves_room_on_every_page_of_the_records():
    tickers = [f"F{i:02d}" for i in range(5)]
    ids = make_symbols(tickers)
    store_records(ids, DAY, NEXT)
    store_records(ids, dt.date(2021, 3, 1), dt.date(2021, 3, 2))  # a chunk of its own
    with connection.cursor() as cursor:
        relations = ["predictions_predictionrecord"]
        if is_hypertable(cursor, "predictions_predictionrecord"):
            cursor.execute("SELECT show_chunks('predictions_predictionrecord')::text")
            relations += [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT c.oid::regclass::text, c.reloptions FROM pg_class c"
            " WHERE c.oid = ANY(%s::regclass[])",
            [relations],
        )
        options = dict(cursor.fetchall())
    assert len(options) == len(relations) >= 1
    assert all("fillfactor=60" in (value or []) for value in options.values()), options
