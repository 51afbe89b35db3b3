"""Dual write of a cycle's predictions: Redis (fast layer) and PostgreSQL (durable layer).

PostgreSQL: one binary COPY and ONE statement per cycle, in one transaction. The numbers of
every record (the one-day record of each symbol and, with the longer horizons of issue 19, one
per symbol and horizon) go as fixed-width binary rows (``core.pgcopy``, built by NumPy: no
per-value Python, no number formatting) into a temporary staging table; the statement maps the
tickers to symbol ids with one join on ``ingestion_symbol`` and, in two data-modifying CTEs,
- inserts every ``PredictionRecord`` with ``ON CONFLICT (symbol, data_timestamp,
  model_version) DO NOTHING``, so a redelivered batch adds no rows (each record with its own
  model type, version and target day), and
- upserts ``Prediction`` (one row per symbol; an older data_timestamp never overwrites a newer
  one, so a late redelivery cannot roll a symbol back) from the one-day rows and the per-row
  texts (method, snapshot, earnings context, horizons), which travel as arrays.

Redis: the cached prediction of every symbol (``predictions.cache``, TTL 120 s), in one pipelined
round trip.
Redis is the cache: when it is down the PostgreSQL write still happens (the cycle writes
PostgreSQL first) and the error is reported, not raised.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
import redis
from django.db import connection, transaction

from core import pgcopy, redis_bulk
from predictions.cache import TTL_SECONDS, pred_key
from predictions.pipeline.records import PredictionBatch

logger = logging.getLogger(__name__)

# Every record of the cycle - the one-day record of each symbol and one per symbol and longer
# horizon - as one fixed-width row of numbers (``core.pgcopy``), sent by binary COPY. ``i`` is
# the batch row (1-based), ``kind`` indexes the cycle's (model type, version, target day)
# triples, ``extra`` is the one-day row's out-of-distribution score or the h-day row's momentum
# baseline (NaN: NULL) and ``flag`` the one-day row's out-of-distribution flag.
_STAGE_COLUMNS = [
    ("i", "int4"), ("kind", "int2"), ("current_price", "float8"),
    ("predicted_return", "float8"), ("predicted_price", "float8"), ("sigma", "float8"),
    ("p10", "float8"), ("p50", "float8"), ("p90", "float8"), ("extra", "float8"),
    ("flag", "bool"),
]  # fmt: skip
_STAGE_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS prediction_stage ("
    + ", ".join(f"{name} {pg_type}" for name, pg_type in _STAGE_COLUMNS)
    + ") ON COMMIT DELETE ROWS"
)
_STAGE_COPY = (
    f"COPY prediction_stage ({', '.join(n for n, _ in _STAGE_COLUMNS)}) FROM STDIN (FORMAT binary)"
)

_WRITE_SQL = """
WITH t AS MATERIALIZED (
    -- the batch's tickers mapped to symbol ids once (an unknown ticker drops its rows)
    SELECT s.id AS symbol_id, t.i::int4 AS i
    FROM unnest(%(tickers)s::text[]) WITH ORDINALITY AS t(ticker, i)
    JOIN ingestion_symbol s ON s.ticker = t.ticker
),
k AS (
    SELECT (k.kind - 1)::int2 AS kind, k.model_type, k.model_version, k.target_date, k.horizon
    FROM unnest(%(k_type)s::text[], %(k_version)s::text[], %(k_target)s::date[],
                %(k_horizon)s::bool[]) WITH ORDINALITY AS k(model_type, model_version,
                                                            target_date, horizon, kind)
),
st AS MATERIALIZED (
    SELECT t.symbol_id, x.*, k.model_type, k.model_version, k.target_date, k.horizon,
           NULLIF(x.extra, 'NaN') AS extra_or_null
    FROM prediction_stage x JOIN t ON t.i = x.i JOIN k ON k.kind = x.kind
),
rec AS (
    -- one-day and h-day records alike; ON CONFLICT: a redelivered batch adds no rows
    INSERT INTO predictions_predictionrecord (
        symbol_id, data_timestamp, target_date, model_type, model_version, current_price,
        predicted_return_1d, predicted_price, uncertainty_sigma, p10, p50, p90, predicted_at,
        ood_score, ood_flagged, baseline_return)
    SELECT symbol_id, %(data_timestamp)s, target_date, model_type, model_version,
           current_price, predicted_return, predicted_price, sigma, p10, p50, p90,
           %(predicted_at)s,
           CASE WHEN NOT horizon THEN extra_or_null END,
           CASE WHEN NOT horizon AND extra_or_null IS NOT NULL THEN flag END,
           CASE WHEN horizon THEN extra_or_null END
    FROM st
    ON CONFLICT (symbol_id, data_timestamp, model_version) DO NOTHING
    RETURNING model_type
),
text_columns AS (
    SELECT u.i, u.uncertainty_method, u.earnings_context,
           NULLIF(jsonb_strip_nulls(snap.value), 'null'::jsonb) AS features_snapshot,
           NULLIF(hz.value, 'null'::jsonb) AS horizons
    FROM unnest(%(uncertainty_method)s::text[], %(earnings_context)s::jsonb[])
         WITH ORDINALITY AS u(uncertainty_method, earnings_context, i)
    -- Each row's snapshot and longer horizons from ONE JSON array text each (a jsonb[]
    -- parameter of 5,000 texts cost 0.4 s more per cycle, measured).
    LEFT JOIN jsonb_array_elements(%(features_snapshot)s::jsonb) WITH ORDINALITY AS snap
         ON snap.ordinality = u.i
    LEFT JOIN jsonb_array_elements(%(horizons)s::jsonb) WITH ORDINALITY AS hz
         ON hz.ordinality = u.i
),
pred AS (
    INSERT INTO predictions_prediction AS p (
        symbol_id, current_price, predicted_return_1d, predicted_price, uncertainty_sigma,
        p10, p50, p90, uncertainty_method, model_type, model_version, predicted_at,
        data_timestamp, features_snapshot, earnings_context, ood, horizons)
    SELECT st.symbol_id, st.current_price, st.predicted_return, st.predicted_price, st.sigma,
           st.p10, st.p50, st.p90, c.uncertainty_method, st.model_type, st.model_version,
           %(predicted_at)s, %(data_timestamp)s, c.features_snapshot, c.earnings_context,
           jsonb_build_object('score', st.extra_or_null, 'flagged',
                              CASE WHEN st.extra_or_null IS NOT NULL THEN st.flag END),
           c.horizons
    FROM st JOIN text_columns c ON c.i = st.i
    WHERE NOT st.horizon
    ON CONFLICT (symbol_id) DO UPDATE SET
        current_price = EXCLUDED.current_price,
        predicted_return_1d = EXCLUDED.predicted_return_1d,
        predicted_price = EXCLUDED.predicted_price,
        uncertainty_sigma = EXCLUDED.uncertainty_sigma,
        p10 = EXCLUDED.p10, p50 = EXCLUDED.p50, p90 = EXCLUDED.p90,
        uncertainty_method = EXCLUDED.uncertainty_method,
        model_type = EXCLUDED.model_type,
        model_version = EXCLUDED.model_version,
        predicted_at = EXCLUDED.predicted_at,
        data_timestamp = EXCLUDED.data_timestamp,
        features_snapshot = EXCLUDED.features_snapshot,
        earnings_context = EXCLUDED.earnings_context,
        ood = EXCLUDED.ood,
        horizons = EXCLUDED.horizons
    WHERE p.data_timestamp <= EXCLUDED.data_timestamp
    RETURNING 1
)
SELECT (SELECT count(*) FROM t),
       (SELECT count(*) FROM rec WHERE NOT model_type = ANY(%(h_types)s::text[])),
       (SELECT count(*) FROM pred),
       (SELECT count(*) FROM rec WHERE model_type = ANY(%(h_types)s::text[]))
"""


@dataclass(frozen=True)
class DbWriteResult:
    matched: int  # symbols known to ingestion_symbol
    records_inserted: int  # new one-day PredictionRecord rows (0 on a redelivery)
    predictions_upserted: int
    horizon_records_inserted: int = 0  # new h-day records (one per symbol and horizon)


def fast_transaction(cursor: psycopg.Cursor) -> None:
    """Per-transaction settings of the bulk write (SET LOCAL: nothing leaks to other work).

    - synchronous_commit off: the commit does not wait for the WAL flush. A crash can lose at
      most the last few hundred ms of predictions, which the next cycle (or the redelivered
      task) writes again - they are derived data.
    - session_replication_role = replica (superuser only, as ingestion's bulk load does): skips
      the 2 x N deferred foreign-key checks at COMMIT. Every symbol_id is produced by the join
      with ingestion_symbol inside the same statement, and symbols are never deleted while the
      platform runs, so those checks cannot fail.
    """
    cursor.execute("SET LOCAL synchronous_commit = off")
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cursor.fetchone()
    if row and row[0]:
        cursor.execute("SET LOCAL session_replication_role = replica")


def write_postgres(batch: PredictionBatch) -> DbWriteResult:
    n = len(batch)
    stage, kinds = stage_rows(batch)
    params = {
        "tickers": batch.tickers.tolist(),
        **kinds,
        "h_types": [p.model_type for p in batch.horizons],
        "uncertainty_method": batch.uncertainty_method.tolist(),
        # All rows' snapshots as ONE JSON array text, split by jsonb_array_elements.
        "features_snapshot": batch.features_snapshot,
        "earnings_context": batch.earnings_context or [None] * n,
        "horizons": "[" + ",".join(h or "null" for h in batch.horizons_json()) + "]",
        "data_timestamp": batch.data_timestamp,
        "predicted_at": batch.predicted_at,
    }
    with transaction.atomic():
        connection.ensure_connection()
        # Server-side parameter binding: the arrays travel as parameters instead of being
        # quoted into one huge SQL text by Django's default client-side-binding cursor.
        with psycopg.Cursor(connection.connection) as cursor:
            fast_transaction(cursor)
            cursor.execute(_STAGE_DDL)
            with cursor.copy(_STAGE_COPY) as copy:
                copy.write(stage)
            cursor.execute(_WRITE_SQL, params)
            counts = cursor.fetchone()
    if counts is None:  # the statement ends in one SELECT of counts: never empty
        raise RuntimeError("the prediction write returned no counts")
    matched, inserted, upserted, horizon_inserted = counts
    if matched < n:
        logger.warning("%d of %d predicted tickers are not in ingestion_symbol", n - matched, n)
    return DbWriteResult(int(matched), int(inserted), int(upserted), int(horizon_inserted))


def stage_rows(batch: PredictionBatch) -> tuple[bytes, dict[str, list[Any]]]:
    """Every record of the batch as binary COPY rows of ``prediction_stage``, and the kinds
    they index: the one-day rows' distinct (model type, version) pairs, then one kind per
    longer horizon (its own type, version and target day)."""
    pairs = list(zip(batch.model_type.tolist(), batch.model_version.tolist(), strict=True))
    distinct = list(dict.fromkeys(pairs))
    code = {pair: k for k, pair in enumerate(distinct)}
    n = len(batch)
    score = np.full(n, np.nan) if batch.ood_score is None else batch.ood_score
    one_day = {
        "i": np.arange(1, n + 1),
        "kind": np.array([code[pair] for pair in pairs], dtype=np.int16),
        "current_price": batch.current_price,
        "predicted_return": batch.predicted_return,
        "predicted_price": batch.predicted_price,
        "sigma": batch.sigma,
        "p10": batch.p10,
        "p50": batch.p50,
        "p90": batch.p90,
        "extra": np.where(np.isfinite(score), score, np.nan),  # unknown: NULL
        "flag": np.zeros(n, bool) if batch.ood_flagged is None else batch.ood_flagged,
    }
    columns = [one_day]
    for k, part in enumerate(batch.horizons):
        columns.append(
            {
                "i": part.rows + 1,
                "kind": np.full(len(part.rows), len(distinct) + k, dtype=np.int16),
                "current_price": batch.current_price[part.rows],
                "predicted_return": part.point,
                "predicted_price": np.round(batch.current_price[part.rows] * (1.0 + part.point), 4),
                "sigma": part.sigma,
                "p10": part.quantiles[:, 0],
                "p50": part.quantiles[:, 1],
                "p90": part.quantiles[:, 2],
                "extra": part.baseline,
                "flag": np.zeros(len(part.rows), bool),
            }
        )
    # A symbol's records of every horizon side by side: each target day's realise then rewrites
    # about a third of a page's rows, which the records' fillfactor leaves room for as
    # heap-only tuples (grouped by horizon, it rewrote whole pages and moved every row).
    order = np.argsort(np.concatenate([c["i"] for c in columns]), kind="stable")
    values = {name: np.concatenate([c[name] for c in columns])[order] for name, _ in _STAGE_COLUMNS}
    kinds = {
        "k_type": [t for t, _ in distinct] + [p.model_type for p in batch.horizons],
        "k_version": [v for _, v in distinct] + [p.model_version for p in batch.horizons],
        "k_target": [batch.target_date] * len(distinct) + [p.target_date for p in batch.horizons],
        "k_horizon": [False] * len(distinct) + [True] * len(batch.horizons),
    }
    return pgcopy.binary_copy(_STAGE_COLUMNS, values), kinds


def write_redis(client: redis.Redis, batch: PredictionBatch) -> int:
    """SET every symbol's cached prediction (``predictions.cache``) with its TTL; raises
    ``redis.RedisError`` when Redis is down.

    One round trip: every ``SET key value EX ttl`` packed into one buffer (``core.redis_bulk``:
    redis-py's pipeline spends ~50 ms of Python packing 5,000 commands), sent at once, then
    every reply read. Plain SETs, not a Lua loop: Redis 7.0 spent ~80 us per SET of a
    ~850-byte value inside a script against ~2 us as a command (measured: 5,000 keys held the
    server for 450 ms per cycle against 11 ms, and every API read queued behind it)."""
    ttl = str(TTL_SECONDS).encode()
    commands = [
        redis_bulk.pack(b"SET", pred_key(ticker).encode(), value.encode(), b"EX", ttl)
        for ticker, value in zip(batch.tickers.tolist(), batch.payload_json(), strict=True)
    ]
    redis_bulk.round_trip(client, commands)
    return len(commands)


def repopulate_redis(client: redis.Redis, tickers: list[str] | None = None) -> int:
    """Put the last good PostgreSQL predictions (of ``tickers``, or all) back into Redis,
    unchanged (same predicted_at, so readers can tell they are old): the fast layer keeps
    serving them while a cycle cannot produce new ones ("auto-repair", architecture 12.3)."""
    from predictions.latest import ROW_FIELDS, LatestPrediction
    from predictions.models import Prediction

    rows = Prediction.objects.all()
    if tickers is not None:
        rows = rows.filter(symbol__ticker__in=tickers)
    pipe = client.pipeline(transaction=False)
    count = 0
    for row in rows.values(*ROW_FIELDS).iterator(chunk_size=2000):
        record = LatestPrediction.from_row(row)
        pipe.set(pred_key(record.symbol), json.dumps(record.to_json()), ex=TTL_SECONDS)
        count += 1
    pipe.execute()
    return count
