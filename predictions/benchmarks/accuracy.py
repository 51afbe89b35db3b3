"""``python manage.py bench accuracy [--symbols 2000] [--days 250] --json``: the accuracy read
path and the size of the prediction history, on whichever storage path the database runs.

In a scratch database (``bench_accuracy``, created from the migrations and dropped afterwards):
``--symbols`` x ``--days`` realised prediction records (synthetic returns; both model kinds,
ranked as ``record_realised`` ranks them) are loaded, the daily accuracy aggregate is refreshed
(TimescaleDB), and then timed, median of ``--repeat`` runs:

    rolling_ms   ``rolling_accuracy()``: the 24h and 30d figures of /api/accuracy
    daily_ms     ``daily_accuracy`` over 250 days: the accuracy page's chart series

On TimescaleDB every chunk is then compressed (what the 7-day policy does) and both are timed
again; ``history_bytes`` gives the table size before and after. On plain PostgreSQL there is
no compression: ``after`` is the same table.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.db import connection

from core.benchmarks import Benchmark
from core.timescale import storage_report

TABLE = "predictions_predictionrecord"

_LOAD_SQL = """
INSERT INTO predictions_predictionrecord
    (symbol_id, data_timestamp, target_date, model_type, model_version, current_price,
     predicted_return_1d, predicted_price, p10, p50, p90, predicted_at, realised_return,
     abs_error, inside_interval, realised_at)
SELECT s.id, d.ts, (d.ts + interval '1 day')::date,
       CASE WHEN (s.id + d.n) %% 20 = 0 THEN 'earnings_day' ELSE 'normal_day' END, 'bench',
       100, x.p, 100 * (1 + x.p), x.p - 0.02, x.p, x.p + 0.02, d.ts, x.r, abs(x.p - x.r),
       x.r BETWEEN x.p - 0.02 AND x.p + 0.02, d.ts
FROM ingestion_symbol s
CROSS JOIN (SELECT n, timestamptz '2024-01-01 00:00+00' + n * interval '1 day' AS ts
            FROM generate_series(0, %(days)s - 1) AS n) AS d
CROSS JOIN LATERAL (SELECT (random() - 0.5) * 0.02 AS p, (random() - 0.5) * 0.04 AS r) AS x
"""


def _median_ms(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 1)


def _size(cursor: Any, hypertable: bool) -> int:
    sql = "SELECT hypertable_size(%s)" if hypertable else "SELECT pg_total_relation_size(%s)"
    cursor.execute(sql, [TABLE])
    return int(cursor.fetchone()[0])


class AccuracyBenchmark(Benchmark):
    name = "accuracy"
    help = "Accuracy queries (continuous aggregate or plain view) and history size (own db)"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--symbols", type=int, default=2000)
        parser.add_argument("--days", type=int, default=250)
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--database", default="bench_accuracy")

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        creation = connection.creation
        connection.settings_dict.setdefault("TEST", {})["NAME"] = options["database"]
        old_name = connection.settings_dict["NAME"]
        creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        try:
            return self._measure(options)
        finally:
            creation.destroy_test_db(old_name, verbosity=0)

    def _measure(self, options: dict[str, Any]) -> dict[str, Any]:
        from predictions.accuracy import RANK_SQL, daily_accuracy, rolling_accuracy
        from predictions.time_series import refresh_daily_accuracy

        with connection.cursor() as cursor:
            storage = storage_report(cursor)
            hypertable = TABLE in storage["hypertables"]
            cursor.execute(
                "INSERT INTO ingestion_symbol (ticker, name, exchange, sector, industry, cik,"
                " asset_type, active) SELECT 'B' || n, '', '', '', '', '', 'equity', true"
                " FROM generate_series(1, %s) AS n",
                [options["symbols"]],
            )
            t = time.perf_counter()
            cursor.execute(_LOAD_SQL, {"days": options["days"]})
            rows = cursor.rowcount
            cursor.execute(RANK_SQL.format(groups="TRUE"), {})
            load_s = time.perf_counter() - t
            cursor.execute(f"ANALYZE {TABLE}")
        refresh_daily_accuracy(None, None)
        end = rolling_accuracy()["normal"]["30d"]["window_end"]

        def reads() -> dict[str, float]:
            import datetime as dt

            last = dt.date.fromisoformat(end)
            return {
                "rolling_ms": _median_ms(rolling_accuracy, options["repeat"]),
                "daily_ms": _median_ms(
                    lambda: daily_accuracy(last - dt.timedelta(days=250), last), options["repeat"]
                ),
            }

        out: dict[str, Any] = {"storage": storage, "records": rows, "load_s": round(load_s, 1)}
        with connection.cursor() as cursor:
            before = _size(cursor, hypertable)
        out["uncompressed"] = reads()
        if hypertable:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(compress_chunk(c)) FROM show_chunks('{TABLE}') c")
                after = _size(cursor, hypertable)
            out["compressed"] = reads()
        else:
            after = before
        out["history_bytes"] = {"before": before, "after": after}
        out["bytes_per_record"] = {"before": round(before / rows), "after": round(after / rows)}
        return out


BENCHMARKS = [AccuracyBenchmark]
