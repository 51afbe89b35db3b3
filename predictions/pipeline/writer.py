"""Dual write of a cycle's predictions: Redis (fast layer) and PostgreSQL (durable layer).

PostgreSQL: ONE statement per cycle. The columns travel as arrays, ``unnest`` turns them into
rows, a join on ``ingestion_symbol`` maps tickers to ids, and two data-modifying CTEs
- upsert ``Prediction`` (one row per symbol; an older data_timestamp never overwrites a newer
  one, so a late redelivery cannot roll a symbol back), and
- insert ``PredictionRecord`` with ``ON CONFLICT (symbol, data_timestamp, model_version) DO
  NOTHING``, so a redelivered batch adds no rows; the longer horizons (issue 19) add one record
  per symbol and horizon the same way (their own model type, version and target day).

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

from predictions.cache import TTL_SECONDS, pred_key
from predictions.pipeline.records import PredictionBatch

logger = logging.getLogger(__name__)

REDIS_CHUNK = 1000  # keys per script call

_WRITE_SQL = """
WITH snap AS (
    SELECT NULLIF(jsonb_strip_nulls(value), 'null'::jsonb) AS features_snapshot, ordinality AS i
    FROM jsonb_array_elements(%(features_snapshot)s::jsonb) WITH ORDINALITY
),
hz AS (
    -- Each row's longer horizons, from ONE JSON array text (a jsonb[] parameter of 5,000
    -- texts cost 0.4 s more per cycle, measured).
    SELECT NULLIF(value, 'null'::jsonb) AS horizons, ordinality AS i
    FROM jsonb_array_elements(%(horizons)s::jsonb) WITH ORDINALITY
),
u AS MATERIALIZED (
    SELECT s.id AS symbol_id, u.*, snap.features_snapshot, hz.horizons
    FROM unnest(
        %(tickers)s::text[], %(current_price)s::float8[], %(predicted_return)s::float8[],
        %(predicted_price)s::float8[], %(sigma)s::float8[], %(p10)s::float8[],
        %(p50)s::float8[], %(p90)s::float8[], %(model_type)s::text[],
        %(model_version)s::text[], %(uncertainty_method)s::text[], %(earnings_context)s::jsonb[],
        %(ood_score)s::float8[], %(ood_flagged)s::bool[]
    ) WITH ORDINALITY AS u(ticker, current_price, predicted_return, predicted_price, sigma, p10,
           p50, p90, model_type, model_version, uncertainty_method, earnings_context, ood_score,
           ood_flagged, i)
    JOIN ingestion_symbol s ON s.ticker = u.ticker
    LEFT JOIN snap ON snap.i = u.i
    LEFT JOIN hz ON hz.i = u.i
),
rec AS (
    INSERT INTO predictions_predictionrecord (
        symbol_id, data_timestamp, target_date, model_type, model_version, current_price,
        predicted_return_1d, predicted_price, uncertainty_sigma, p10, p50, p90, predicted_at,
        ood_score, ood_flagged)
    SELECT symbol_id, %(data_timestamp)s, %(target_date)s, model_type, model_version,
           current_price, predicted_return, predicted_price, sigma, p10, p50, p90,
           %(predicted_at)s, ood_score, ood_flagged
    FROM u
    ON CONFLICT (symbol_id, data_timestamp, model_version) DO NOTHING
    RETURNING 1
),
hrec AS (
    -- One record per (symbol, longer horizon): its own model type and target day, so the
    -- accuracy tracking realises it h trading days later like any record.
    INSERT INTO predictions_predictionrecord (
        symbol_id, data_timestamp, target_date, model_type, model_version, current_price,
        predicted_return_1d, predicted_price, uncertainty_sigma, p10, p50, p90, predicted_at,
        baseline_return)
    SELECT u.symbol_id, %(data_timestamp)s, (%(h_target_dates)s::date[])[h.part],
           (%(h_model_types)s::text[])[h.part], (%(h_model_versions)s::text[])[h.part],
           u.current_price, h.predicted_return, h.predicted_price, h.sigma, h.p10, h.p50, h.p90,
           %(predicted_at)s, h.baseline
    FROM unnest(
        %(h_row)s::int[], %(h_part)s::int[], %(h_predicted_return)s::float8[],
        %(h_predicted_price)s::float8[], %(h_sigma)s::float8[], %(h_p10)s::float8[],
        %(h_p50)s::float8[], %(h_p90)s::float8[], %(h_baseline)s::float8[]
    ) AS h(row_i, part, predicted_return, predicted_price, sigma, p10, p50, p90, baseline)
    -- the batch row (1-based ordinality of u): its symbol id and close, no second join
    JOIN u ON u.i = h.row_i
    ON CONFLICT (symbol_id, data_timestamp, model_version) DO NOTHING
    RETURNING 1
),
pred AS (
    INSERT INTO predictions_prediction AS p (
        symbol_id, current_price, predicted_return_1d, predicted_price, uncertainty_sigma,
        p10, p50, p90, uncertainty_method, model_type, model_version, predicted_at,
        data_timestamp, features_snapshot, earnings_context, ood, horizons)
    SELECT symbol_id, current_price, predicted_return, predicted_price, sigma, p10, p50, p90,
           uncertainty_method, model_type, model_version, %(predicted_at)s, %(data_timestamp)s,
           features_snapshot, earnings_context,
           jsonb_build_object('score', ood_score, 'flagged', ood_flagged), horizons
    FROM u
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
SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM rec), (SELECT count(*) FROM pred),
       (SELECT count(*) FROM hrec)
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
    ood_score, ood_flagged = batch.ood_columns()
    params = {
        "tickers": batch.tickers.tolist(),
        "current_price": batch.current_price.tolist(),
        "predicted_return": batch.predicted_return.tolist(),
        "predicted_price": batch.predicted_price.tolist(),
        "sigma": batch.sigma.tolist(),
        "p10": batch.p10.tolist(),
        "p50": batch.p50.tolist(),
        "p90": batch.p90.tolist(),
        "model_type": batch.model_type.tolist(),
        "model_version": batch.model_version.tolist(),
        "uncertainty_method": batch.uncertainty_method.tolist(),
        # All rows' snapshots as ONE JSON array text, split by jsonb_array_elements.
        "features_snapshot": batch.features_snapshot,
        "earnings_context": batch.earnings_context or [None] * n,
        "ood_score": ood_score,
        "ood_flagged": ood_flagged,
        "horizons": "[" + ",".join(h or "null" for h in batch.horizons_json()) + "]",
        **horizon_params(batch),
        "data_timestamp": batch.data_timestamp,
        "target_date": batch.target_date,
        "predicted_at": batch.predicted_at,
    }
    with transaction.atomic():
        connection.ensure_connection()
        # Server-side parameter binding: the arrays travel as parameters instead of being
        # quoted into one huge SQL text by Django's default client-side-binding cursor.
        with psycopg.Cursor(connection.connection) as cursor:
            fast_transaction(cursor)
            cursor.execute(_WRITE_SQL, params)
            counts = cursor.fetchone()
    if counts is None:  # the statement ends in one SELECT of counts: never empty
        raise RuntimeError("the prediction write returned no counts")
    matched, inserted, upserted, horizon_inserted = counts
    if matched < n:
        logger.warning("%d of %d predicted tickers are not in ingestion_symbol", n - matched, n)
    return DbWriteResult(int(matched), int(inserted), int(upserted), int(horizon_inserted))


def horizon_params(batch: PredictionBatch) -> dict[str, list[Any]]:
    """The h-day records' columns (every horizon part one after the other) as arrays: each row
    names its batch row (1-based, the ordinality the statement joins on) and its part (1-based
    into the per-part target day, model type and version)."""
    parts = batch.horizons

    def cat(arrays: list[np.ndarray]) -> list[Any]:
        return np.concatenate(arrays).tolist() if arrays else []

    baseline = cat([p.baseline for p in parts])
    return {
        "h_row": cat([p.rows + 1 for p in parts]),
        "h_part": cat([np.full(len(p.rows), k + 1) for k, p in enumerate(parts)]),
        "h_target_dates": [p.target_date for p in parts],
        "h_model_types": [p.model_type for p in parts],
        "h_model_versions": [p.model_version for p in parts],
        "h_predicted_return": cat([p.point for p in parts]),
        "h_predicted_price": cat(
            [np.round(batch.current_price[p.rows] * (1.0 + p.point), 4) for p in parts]
        ),
        "h_sigma": cat([p.sigma for p in parts]),
        "h_p10": cat([p.quantiles[:, 0] for p in parts]),
        "h_p50": cat([p.quantiles[:, 1] for p in parts]),
        "h_p90": cat([p.quantiles[:, 2] for p in parts]),
        "h_baseline": [None if v != v else v for v in baseline],  # NaN -> NULL
    }


_SET_MANY_LUA = """
for i = 1, #KEYS do
    redis.call('SET', KEYS[i], ARGV[i], 'EX', ARGV[#ARGV])
end
return #KEYS
"""


def write_redis(client: redis.Redis, batch: PredictionBatch) -> int:
    """SET every symbol's cached prediction (``predictions.cache``) with its TTL; raises
    ``redis.RedisError`` when Redis is down.

    One pipelined round trip of script calls, ``REDIS_CHUNK`` keys each: packing 5,000
    separate SET commands costs redis-py more than the server's work (measured ~40% slower);
    chunks keep each script call short, so Redis never blocks other clients for long."""
    tickers = batch.tickers.tolist()
    values = batch.payload_json()
    set_many = client.register_script(_SET_MANY_LUA)
    pipe = client.pipeline(transaction=False)
    for start in range(0, len(tickers), REDIS_CHUNK):
        keys = [pred_key(t) for t in tickers[start : start + REDIS_CHUNK]]
        set_many(keys=keys, args=[*values[start : start + REDIS_CHUNK], TTL_SECONDS], client=pipe)
    pipe.execute()
    return len(tickers)


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
