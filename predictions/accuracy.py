"""Accuracy tracking: realised outcomes of past predictions and rolling error figures.

A prediction made from the close of trading day t targets t+1 (``PredictionRecord.target_date``).
Once the bars of a trading day d are stored, ``record_realised(d)`` fills in every record whose
target is d or earlier with one set-based UPDATE ... FROM (no per-row ORM saves). The live
cycle asks for its own day only (``CYCLE_LOOKBACK_DAYS``); the hourly sweep
(``realise_late_outcomes``) takes the records whose bar came later.

``rolling_accuracy()`` is what the API's ``/api/accuracy`` and the website show: per model kind
(``normal``/``earnings``, and the longer horizons ``horizon_5d``/``horizon_20d`` whose records
are realised h trading days later) and window (``24h`` of data time, ``30d``):
- ``n``: realised predictions in the window;
- ``mae``: mean |predicted - realised| next-day return;
- ``mae_naive``: MAE of the naive forecast "return = 0" (mean |realised|), the bar to beat;
- ``coverage_p10_p90``: share of realised returns inside [p10, p90] (target 0.80);
- ``rank_ic``: mean over target days of the cross-sectional Spearman correlation between
  predicted and realised returns (days with at least ``MIN_IC_SYMBOLS`` symbols), else None;
- horizon kinds only, ``momentum``: ``n``, ``mae`` and ``rank_ic`` of the momentum baseline
  (the trailing h-day return at t, stored with each record) on its realised records.

Windows are anchored on DATA time, not wall time: in replay the clock moves one trading day
every few seconds, so "the last 24 h" means target days in (as_of - 1 day, as_of], where as_of
is the latest target day that has a realised outcome.

Every figure is read from ``predictions_daily_accuracy`` (``predictions.time_series``): sums per
data day, model type and target day. On TimescaleDB it is a continuous aggregate, refreshed by
its policy and, right after ``record_realised`` changes rows, for the days it changed; on plain
PostgreSQL it is a view over the same rows, so both paths give the same numbers. The rank IC of
a target day is the Pearson correlation of the stored cross-sectional ranks (Spearman's rho,
ties ranked as ``rank()`` does), computed from their summed moments.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction

from core.enums import HORIZON_OF_KIND, KIND_OF_TYPE, ONE_DAY_TYPES, TYPE_OF_KIND
from core.pgstats import analyse_new
from ingestion.live import latest_stored_bar_day
from predictions.time_series import DAILY_ACCURACY, refresh_daily_accuracy

MIN_IC_SYMBOLS = 5
WINDOWS: dict[str, int] = {"24h": 1, "30d": 30}
KIND_OF_MODEL_TYPE = KIND_OF_TYPE
# The longer horizons' kinds (issue 19): their records also hold the momentum baseline.
HORIZON_KINDS = tuple(kind for kind, h in HORIZON_OF_KIND.items() if h > 1)
# The tables the realise statement joins (their statistics decide its plan).
REALISE_TABLES = ("predictions_predictionrecord", "ingestion_pricebar")
SHADOW_REALISE_TABLES = ("predictions_shadowrecord", "ingestion_pricebar")
# Calendar days that hold the longest horizon's trading days, with room for holidays: a record
# of target day d was made no earlier than d minus this.
_OLDEST_DATA_DAY = dt.timedelta(days=max(HORIZON_OF_KIND.values()) * 7 // 5 + 14)
# The cycle realises the records of its own data day, the day whose bars it has just stored. A
# record whose target bar was stored later than that (a late or repaired bar, a cycle that never
# ran) is realised by the hourly sweep (``predictions.tasks.accuracy``) over this many days.
CYCLE_LOOKBACK_DAYS = 0
SWEEP_LOOKBACK_DAYS = 40

# The unrealised records of target days in [since, upto] joined with their target day's bar
# (one place: the served records' and the shadow records' statements both use it). The bar's
# timestamp bounds repeat the target-day bounds as constants: only then can the planner leave
# out the bar chunks outside them (without: every chunk of the price history was scanned,
# ~0.8 s a cycle on the live database); ``oldest`` does the same for the records' chunks. No
# index covers ``realised_at`` (migration 0013): the records of the target days are found by
# (model type, target day), so the cycle asks for its own day only and a sweep for the rest.
_DUE_OUTCOMES = """
    FROM predictions_predictionrecord r2
    JOIN ingestion_pricebar b1
      ON b1.symbol_id = r2.symbol_id AND b1.interval = '1d'
     AND b1.timestamp = (r2.target_date::timestamp AT TIME ZONE 'UTC')
     AND b1.timestamp >= (%(since)s::date::timestamp AT TIME ZONE 'UTC')
     AND b1.timestamp <= (%(upto)s::date::timestamp AT TIME ZONE 'UTC')
    WHERE r2.realised_at IS NULL AND r2.target_date IS NOT NULL
      AND r2.target_date <= %(upto)s AND r2.target_date >= %(since)s
      AND r2.data_timestamp >= %(oldest)s
"""

_REALISE_SQL = f"""
UPDATE predictions_predictionrecord AS r
SET realised_return = x.realised,
    abs_error = abs(r.predicted_return_1d - x.realised),
    inside_interval = CASE WHEN r.p10 IS NULL OR r.p90 IS NULL THEN NULL
                           ELSE x.realised BETWEEN r.p10 AND r.p90 END,
    realised_at = now()
FROM (
    -- The realised return is measured from the close the prediction started from
    -- (current_price = close of day t), so predicted and realised share one base.
    SELECT r2.id AS id, r2.data_timestamp AS ts,
           b1.close / NULLIF(r2.current_price, 0) - 1 AS realised
{_DUE_OUTCOMES}) AS x
WHERE r.id = x.id AND r.data_timestamp = x.ts AND x.realised IS NOT NULL
"""


# The unserved forecasts of rollout versions (issue 22): realised the same way, so a shadow or
# canary version is compared with the served one on the same (symbol, target day) pairs. Not in
# the cycle (it would cost every cycle ~0.1-0.4 s for 12,000 rows): the rollout gate realises
# them right before it compares (``predictions.rollout.stages.realise_pending``).
_REALISE_SHADOW_SQL = _REALISE_SQL.replace(
    "predictions_predictionrecord", "predictions_shadowrecord"
)


def realise_shadow(upto: dt.date, *, lookback_days: int = 3650) -> int:
    """``record_realised`` for ``ShadowRecord`` (no ranks, no aggregate: only the rollout
    comparison reads them)."""
    with transaction.atomic(), connection.cursor() as cursor:
        analyse_new(cursor, list(SHADOW_REALISE_TABLES))  # see record_realised
        _no_nested_loops(cursor)
        cursor.execute(_REALISE_SHADOW_SQL, _due_params(upto, lookback_days))
        return int(cursor.rowcount)


def _no_nested_loops(cursor: Any) -> None:
    """For the rest of the transaction: the due outcomes are joined with their bars by hashing,
    never by a nested loop. A chunk analysed while it held one trading day has statistics that
    give any other day ~1 row; the planner then looped over the day's 5,000 bars and scanned a
    records chunk for each: 20.8 s for 12,397 outcomes (EXPLAIN ANALYZE, ``bench pipeline``'s
    last cycle; the 20-s realises after ``bench mixed``). A hash join costs the same whatever
    the statistics say (one pass over each side)."""
    cursor.execute("SET LOCAL enable_nestloop = off")


def _due_params(upto: dt.date, lookback_days: int) -> dict[str, Any]:
    """The due-outcome statements' parameters: target days [since, upto] and the oldest data
    day a record of those target days can have."""
    since = upto - dt.timedelta(days=lookback_days)
    oldest = dt.datetime.combine(since - _OLDEST_DATA_DAY, dt.time(), dt.UTC)
    return {"upto": upto, "since": since, "oldest": oldest}


# Ranks among the realised records of each (model type, target day) group in {groups}; rows
# whose ranks are already right are not rewritten.
RANK_SQL = """
UPDATE predictions_predictionrecord AS r
SET rank_predicted = x.rp, rank_realised = x.rr
FROM (
    SELECT id, data_timestamp AS ts,
           rank() OVER (PARTITION BY model_type, target_date ORDER BY predicted_return_1d) AS rp,
           rank() OVER (PARTITION BY model_type, target_date ORDER BY realised_return) AS rr
    FROM predictions_predictionrecord
    WHERE realised_return IS NOT NULL AND target_date IS NOT NULL AND {groups}
) AS x
WHERE r.id = x.id AND r.data_timestamp = x.ts
  AND (r.rank_predicted, r.rank_realised) IS DISTINCT FROM (x.rp, x.rr)
"""


def rank_realised(target_days: list[dt.date]) -> int:
    """(Re)rank the realised records of these target days; whatever writes realised outcomes
    calls it (``record_realised``; fixtures that store realised records directly)."""
    with connection.cursor() as cursor:
        cursor.execute(RANK_SQL.format(groups="target_date = ANY(%(days)s)"), {"days": target_days})
        return int(cursor.rowcount)


# The due outcomes are staged in a temporary table and analysed before the statement that uses
# them: planned from the CTE, their count was misjudged ~40x (the newest chunks' statistics say
# "unrealised" for most rows) and the update joined them by hashing EVERY stored record
# (260,000 rows, 140 ms of a 645 ms statement, in bench pipeline's 22nd cycle; in a live table
# of months, more). Staged, the planner knows the ~15,000 rows and their few groups.
_FRESH_DDL = """
CREATE TEMP TABLE IF NOT EXISTS realise_fresh (
    id bigint, ts timestamptz, model_type varchar(16), target_date date, pred float8,
    realised float8
) ON COMMIT DELETE ROWS
"""
_FRESH_SQL = f"""
INSERT INTO realise_fresh
SELECT r2.id, r2.data_timestamp, r2.model_type, r2.target_date, r2.predicted_return_1d,
       b1.close / NULLIF(r2.current_price, 0) - 1
{_DUE_OUTCOMES}  AND b1.close / NULLIF(r2.current_price, 0) - 1 IS NOT NULL
"""

# One statement ranks the staged outcomes with the records of the (model type, target day)
# groups they join and writes both: each record is rewritten once (an UPDATE then a separate
# rank UPDATE wrote every new row twice: ~40 % of the cycle's realise stage). ``peers``: the
# records of the same groups realised earlier, re-ranked only where a rank changed. A record's
# data day is at most the longest horizon before its target day: the constant lower bound
# (``oldest``) lets the planner leave out the chunks before it; the groups' model types and
# target days as constants let it read only their rows by the (model type, target day) index
# (without them: every stored record hashed, ~150 ms at 270,000).
_REALISE_AND_RANK_SQL = """
WITH fresh AS (
    SELECT id, ts, model_type, target_date, pred, realised, true AS is_new FROM realise_fresh
),
peers AS (
    SELECT p.id, p.data_timestamp, p.model_type, p.target_date, p.predicted_return_1d,
           p.realised_return, false
    FROM predictions_predictionrecord p
    WHERE p.realised_return IS NOT NULL AND p.realised_at IS NOT NULL
      AND p.data_timestamp >= %(oldest)s
      AND p.model_type = ANY(%(types)s) AND p.target_date = ANY(%(targets)s)
      AND (p.model_type, p.target_date) IN (SELECT DISTINCT model_type, target_date FROM fresh)
),
ranked AS (
    SELECT g.*,
           rank() OVER (PARTITION BY model_type, target_date ORDER BY pred) AS rp,
           rank() OVER (PARTITION BY model_type, target_date ORDER BY realised) AS rr
    FROM (SELECT * FROM fresh UNION ALL SELECT * FROM peers) AS g
),
u AS (
    UPDATE predictions_predictionrecord AS r
    SET realised_return = k.realised,
        abs_error = CASE WHEN k.is_new THEN abs(r.predicted_return_1d - k.realised)
                         ELSE r.abs_error END,
        inside_interval = CASE WHEN NOT k.is_new THEN r.inside_interval
                               WHEN r.p10 IS NULL OR r.p90 IS NULL THEN NULL
                               ELSE k.realised BETWEEN r.p10 AND r.p90 END,
        realised_at = CASE WHEN k.is_new THEN now() ELSE r.realised_at END,
        rank_predicted = k.rp, rank_realised = k.rr
    FROM ranked AS k
    WHERE r.id = k.id AND r.data_timestamp = k.ts AND r.data_timestamp >= %(oldest)s
      AND r.model_type = ANY(%(types)s) AND r.target_date = ANY(%(targets)s)
      AND (k.is_new OR (r.rank_predicted, r.rank_realised) IS DISTINCT FROM (k.rp, k.rr))
    RETURNING r.data_timestamp, k.is_new
)
SELECT count(*) FILTER (WHERE is_new), min(data_timestamp), max(data_timestamp) FROM u
"""


def _realise_and_rank(upto: dt.date, lookback_days: int) -> tuple[int, Any, Any] | None:
    """(realised, first and last data day changed) or None when no outcome was due."""
    params = _due_params(upto, lookback_days)
    with transaction.atomic(), connection.cursor() as cursor:
        # A chunk created or bulk-loaded since autovacuum's last round has no statistics, and
        # the due outcomes' join is then planned as a nested loop over the wrong index.
        analyse_new(cursor, list(REALISE_TABLES))
        _no_nested_loops(cursor)
        cursor.execute(_FRESH_DDL)
        cursor.execute("DELETE FROM realise_fresh")  # a caller's transaction may hold earlier rows
        cursor.execute(_FRESH_SQL, params)
        if not cursor.rowcount:
            return None
        cursor.execute("ANALYZE realise_fresh")
        cursor.execute(
            "SELECT array_agg(DISTINCT model_type), array_agg(DISTINCT target_date)"
            " FROM realise_fresh"
        )
        types, targets = cursor.fetchone() or ([], [])
        cursor.execute(
            _REALISE_AND_RANK_SQL, {"oldest": params["oldest"], "types": types, "targets": targets}
        )
        row = cursor.fetchone()
    return None if row is None or not row[0] else (int(row[0]), row[1], row[2])


def record_realised(upto: dt.date, *, lookback_days: int = SWEEP_LOOKBACK_DAYS) -> int:
    """Fill realised_return/abs_error/inside_interval/realised_at of every unrealised record
    whose target day is in [upto - lookback_days, upto] and whose target bar exists, rank the
    realised records of the target days that changed (same statement), then refresh the daily
    accuracy aggregate of those days. Returns the number of records realised. Idempotent:
    realised records are never touched again unless a late peer changes their rank."""
    found = _realise_and_rank(upto, lookback_days)
    if found is None:
        return 0
    updated, first, last = found
    refresh_daily_accuracy(first, last + dt.timedelta(days=1))
    return updated


def realise_late_outcomes(lookback_days: int = SWEEP_LOOKBACK_DAYS) -> int:
    """The sweep: every due record of the ``lookback_days`` before the newest stored daily bar's
    day (the records the cycles, which realise their own day only, left behind). Reads every
    record of those target days, so it runs hourly, not in the cycle. The newest day is the
    cycle's: a cycle realising it now never touches the sweep's rows or (model type, target
    day) groups, so the two need no lock between them."""
    newest = latest_stored_bar_day()
    if newest is None:
        return 0
    upto = dt.date.fromisoformat(newest) - dt.timedelta(days=1)
    return record_realised(upto, lookback_days=lookback_days - 1)


# Per (model type, target day) in (start, end]: the summed sums and the day's rank IC.
_GROUPS_SQL = f"""
SELECT model_type, target_date, g.n, g.sae, g.sar, g.ni, g.nin,
       (g.k * g.sxy - g.sx * g.sy)
         / NULLIF(sqrt(greatest(g.k * g.sxx - g.sx * g.sx, 0)
                       * greatest(g.k * g.syy - g.sy * g.sy, 0)), 0) AS ic
FROM (
    SELECT model_type, target_date, sum(n) AS n, sum(sum_abs_error) AS sae,
           sum(sum_abs_realised) AS sar, sum(n_interval) AS ni, sum(n_inside) AS nin,
           sum(n_ranked)::float8 AS k, sum(sum_rp) AS sx, sum(sum_rr) AS sy,
           sum(sum_rp2) AS sxx, sum(sum_rr2) AS syy, sum(sum_rprr) AS sxy
    FROM {DAILY_ACCURACY}
    WHERE target_date > %(start)s AND target_date <= %(end)s
    GROUP BY model_type, target_date
) AS g
"""

_STATS_SQL = f"""
SELECT model_type, sum(n), sum(sae) / sum(n), sum(sar) / sum(n),
       sum(nin)::float8 / NULLIF(sum(ni), 0),
       avg(ic) FILTER (WHERE n >= %(min_ic)s AND ic IS NOT NULL)
FROM ({_GROUPS_SQL}) AS d
GROUP BY model_type
"""

_DAILY_SQL = f"""
SELECT model_type, target_date, n, sae / n, sar / n, nin::float8 / NULLIF(ni, 0),
       CASE WHEN n >= %(min_ic)s THEN ic END
FROM ({_GROUPS_SQL}) AS d
ORDER BY model_type, target_date
"""


def daily_accuracy(start: dt.date, end: dt.date) -> list[tuple[Any, ...]]:
    """Per model type and target day in (start, end]: (model_type, target_date, n, mae,
    mae_naive, coverage, rank_ic), rank_ic None below ``MIN_IC_SYMBOLS`` symbols."""
    with connection.cursor() as cursor:
        cursor.execute(_DAILY_SQL, {"start": start, "end": end, "min_ic": MIN_IC_SYMBOLS})
        return list(cursor.fetchall())


def latest_realised_date() -> dt.date | None:
    with connection.cursor() as cursor:
        # From the aggregate: on TimescaleDB a raw max() would decompress every chunk.
        cursor.execute(f"SELECT max(target_date) FROM {DAILY_ACCURACY}")
        row = cursor.fetchone()
    return row[0] if row else None


def _empty(start: dt.date | None, end: dt.date | None) -> dict[str, Any]:
    return {
        "n": 0,
        "mae": None,
        "mae_naive": None,
        "coverage_p10_p90": None,
        "rank_ic": None,
        "window_start": start.isoformat() if start else None,
        "window_end": end.isoformat() if end else None,
    }


def _round(value: Any, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def rolling_accuracy(as_of: dt.date | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """``{"normal": {"24h": {...}, "30d": {...}}, "earnings": {...}}`` (see module docstring).
    ``window_start`` is exclusive, ``window_end`` inclusive (target days)."""
    end = as_of or latest_realised_date()
    result: dict[str, dict[str, dict[str, Any]]] = {
        kind: {} for kind in KIND_OF_MODEL_TYPE.values()
    }
    for window, days in WINDOWS.items():
        start = end - dt.timedelta(days=days) if end else None
        for kind in result:
            result[kind][window] = _empty(start, end)
        _add_momentum(result, window, start, end)
        if end is None:
            continue
        with connection.cursor() as cursor:
            cursor.execute(_STATS_SQL, {"start": start, "end": end, "min_ic": MIN_IC_SYMBOLS})
            rows = cursor.fetchall()
        for model_type, n, mae, mae_naive, coverage, rank_ic in rows:
            row_kind = KIND_OF_MODEL_TYPE.get(model_type)
            if row_kind is None:
                continue
            result[row_kind][window].update(
                n=int(n),
                mae=_round(mae),
                mae_naive=_round(mae_naive),
                coverage_p10_p90=_round(coverage, 4),
                rank_ic=_round(rank_ic, 4),
            )
    return result


# The momentum baseline of the h-day records (``baseline_return``: the trailing h-day return at
# t) on the same realised rows: MAE and the mean daily rank IC, like the model's figures.
_MOMENTUM_SQL = """
WITH r AS (
    SELECT model_type, target_date, abs(baseline_return - realised_return) AS err,
           rank() OVER (PARTITION BY model_type, target_date ORDER BY baseline_return) AS rb,
           rank() OVER (PARTITION BY model_type, target_date ORDER BY realised_return) AS ry
    FROM predictions_predictionrecord
    WHERE model_type = ANY(%(types)s) AND realised_return IS NOT NULL
      AND baseline_return IS NOT NULL AND target_date > %(start)s AND target_date <= %(end)s
), d AS (
    SELECT model_type, target_date, count(*) AS n, sum(err) AS sae,
           corr(rb::float8, ry::float8) AS ic
    FROM r GROUP BY model_type, target_date
)
SELECT model_type, sum(n), sum(sae) / sum(n),
       avg(ic) FILTER (WHERE n >= %(min_ic)s AND ic IS NOT NULL)
FROM d GROUP BY model_type
"""


def _add_momentum(
    result: dict[str, dict[str, dict[str, Any]]],
    window: str,
    start: dt.date | None,
    end: dt.date | None,
) -> None:
    """``momentum`` ({n, mae, rank_ic}) in each horizon kind's window (issue 19)."""
    for kind in HORIZON_KINDS:
        result[kind][window]["momentum"] = {"n": 0, "mae": None, "rank_ic": None}
    if end is None:
        return
    types = [TYPE_OF_KIND[k] for k in HORIZON_KINDS]
    params = {"types": types, "start": start, "end": end, "min_ic": MIN_IC_SYMBOLS}
    with connection.cursor() as cursor:
        cursor.execute(_MOMENTUM_SQL, params)
        rows = cursor.fetchall()
    for model_type, n, mae, rank_ic in rows:
        result[KIND_OF_MODEL_TYPE[model_type]][window]["momentum"] = {
            "n": int(n),
            "mae": _round(mae),
            "rank_ic": _round(rank_ic, 4),
        }


_OOD_SQL = """
SELECT model_type, coalesce(ood_flagged, false), count(*), avg(abs_error),
       avg(CASE WHEN inside_interval THEN 1.0 WHEN inside_interval IS NULL THEN NULL ELSE 0.0 END)
FROM predictions_predictionrecord
WHERE realised_return IS NOT NULL AND ood_score IS NOT NULL
  AND target_date > %(start)s AND target_date <= %(end)s
GROUP BY 1, 2
"""


def ood_accuracy(as_of: dt.date | None = None, days: int = 30) -> dict[str, dict[str, Any]]:
    """Per kind, realised error and coverage of predictions whose inputs were flagged as unlike
    the training data (``predictions.ood``) and of the others, over the last ``days`` of data
    time: ``{"normal": {"flagged": {n, mae, coverage}, "unflagged": {...}, "mae_ratio"}}``."""
    end = as_of or latest_realised_date()
    empty = {"n": 0, "mae": None, "coverage": None}
    result: dict[str, dict[str, Any]] = {
        KIND_OF_MODEL_TYPE[t]: {"flagged": dict(empty), "unflagged": dict(empty), "mae_ratio": None}
        for t in ONE_DAY_TYPES  # the longer horizons have no OOD statistics
    }
    if end is None:
        return result
    with connection.cursor() as cursor:
        cursor.execute(_OOD_SQL, {"start": end - dt.timedelta(days=days), "end": end})
        rows = cursor.fetchall()
    for model_type, flagged, n, mae, coverage in rows:
        kind = KIND_OF_MODEL_TYPE.get(model_type)
        if kind not in result:
            continue
        part = "flagged" if flagged else "unflagged"
        result[kind][part] = {"n": int(n), "mae": _round(mae), "coverage": _round(coverage, 4)}
    for figures in result.values():
        flagged_mae, plain_mae = figures["flagged"]["mae"], figures["unflagged"]["mae"]
        if flagged_mae is not None and plain_mae:
            figures["mae_ratio"] = round(flagged_mae / plain_mae, 3)
    return result
