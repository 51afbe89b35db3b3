"""``python manage.py bench write [--symbols 5000] [--cycles 20] --json``: the dual write alone.

The PostgreSQL half (``writer.write_postgres``: the ``Prediction`` upsert of every symbol, its
one-day ``PredictionRecord`` and, with the 5- and 20-day models of issue 19, two more records
per symbol) and the Redis half (``writer.write_redis``) of one cycle's predictions, measured
in-process, one cycle after another on consecutive trading days (so every record is new and
every prediction row is updated, as in the live cycle), in a scratch database ``bench_write``
(from the migrations, dropped afterwards) and its own Redis database (``--redis-url``).

The batch is synthetic but shaped like the live one: 5,000 symbols, the 20 technical features'
snapshot per row, an earnings context on ~1 % of rows, out-of-distribution scores, and the two
longer horizons for every symbol. Figures: wall time per cycle (p50, p95) of each half and the
CPU time of this process and of its PostgreSQL backend per cycle (the machine is shared: CPU
time says what the write costs whatever else runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from typing import Any

import numpy as np
import redis
from django.db import connection

from core.benchmarks import Benchmark
from predictions.benchmarks.pipeline import _backend_pid, _percentile, _process_cpu_s


def synthetic_batch(tickers: list[str], day: dt.date, seed: int) -> Any:
    from features.definitions import TECHNICAL_FEATURES
    from predictions.pipeline.days import day_timestamp, trading_day_after
    from predictions.pipeline.records import HorizonPart, PredictionBatch, snapshot_json

    rng = np.random.default_rng(seed)
    n = len(tickers)
    q = np.sort(rng.normal(0, 0.02, size=(n, 3)), axis=1)
    X = rng.normal(size=(n, len(TECHNICAL_FEATURES)))
    X[rng.random(X.shape) < 0.05] = np.nan
    earnings = rng.random(n) < 0.01
    parts = [
        HorizonPart(
            horizon=h,
            model_type=f"horizon_{h}d",
            model_version=f"bench-{h}d",
            uncertainty_method="conformal",
            target_date=trading_day_after(day, h),
            rows=np.arange(n),
            point=rng.normal(0, 0.03, n),
            quantiles=np.sort(rng.normal(0, 0.05, size=(n, 3)), axis=1),
            baseline=np.where(rng.random(n) < 0.02, np.nan, rng.normal(0, 0.03, n)),
        )
        for h in (5, 20)
    ]
    return PredictionBatch(
        tickers=np.array(tickers, dtype=object),
        current_price=rng.uniform(5, 500, n),
        predicted_return=q[:, 1],
        p10=q[:, 0],
        p50=q[:, 1],
        p90=q[:, 2],
        sigma=(q[:, 2] - q[:, 0]) / 2.563,
        model_type=np.where(earnings, "earnings_day", "normal_day").astype(object),
        model_version=np.where(earnings, "bench-e", "bench-n").astype(object),
        uncertainty_method=np.full(n, "conformal", dtype=object),
        data_timestamp=day_timestamp(day),
        target_date=trading_day_after(day, 1),
        predicted_at=dt.datetime.now(dt.UTC),
        features_snapshot=snapshot_json(list(TECHNICAL_FEATURES), X),
        earnings_context=[
            '{"days_to_earnings": 1, "eps_estimate": 1.25}' if e else None for e in earnings
        ],
        ood_score=rng.uniform(0, 5, n),
        ood_flagged=rng.random(n) < 0.02,
        horizons=parts,
    )


class WriteBenchmark(Benchmark):
    name = "write"
    help = "The dual write of one cycle (PostgreSQL upsert + history records, Redis) alone"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--symbols", type=int, default=5000)
        parser.add_argument("--cycles", type=int, default=20)
        parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
        parser.add_argument("--database", default="bench_write")

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        from predictions.replay import scratch_database

        url = options["redis_url"]
        if redis.Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0) == 0:
            raise SystemExit("--redis-url must not be database 0 (the running platform's)")
        client = redis.Redis.from_url(url)
        with scratch_database(options["database"]):
            try:
                return self._cycles(options, client)
            finally:
                client.flushdb()

    def _cycles(self, options: dict[str, Any], client: redis.Redis) -> dict[str, Any]:
        from predictions.benchmarks.universe import make_symbols
        from predictions.pipeline import writer

        tickers = [f"W{i:04d}" for i in range(options["symbols"])]
        make_symbols(tickers)
        day = dt.date(2025, 1, 2)
        batches = []
        for i in range(options["cycles"] + 1):  # the first is a warm-up, not counted
            batches.append(synthetic_batch(tickers, day, i))
            day += dt.timedelta(days=3 if day.weekday() == 4 else 1)
        load_before = os.getloadavg()
        backend = _backend_pid()
        figures: dict[str, list[float]] = {"postgres": [], "redis": [], "py_cpu": [], "pg_cpu": []}
        records = []
        for i, batch in enumerate(batches):
            batch.payload_json()  # built once per cycle before the write (shared with publish)
            cpu_py, cpu_pg, t = time.process_time(), _process_cpu_s(backend), time.perf_counter()
            result = writer.write_postgres(batch)
            pg_ms = (time.perf_counter() - t) * 1000
            py_cpu = (time.process_time() - cpu_py) * 1000
            pg_cpu = (_process_cpu_s(backend) - cpu_pg) * 1000
            t = time.perf_counter()
            writer.write_redis(client, batch)
            redis_ms = (time.perf_counter() - t) * 1000
            if i == 0:
                continue
            records.append(result.records_inserted + result.horizon_records_inserted)
            for key, value in zip(figures, (pg_ms, redis_ms, py_cpu, pg_cpu), strict=True):
                figures[key].append(value)
        return _summary(options, figures, records, load_before)


def _summary(
    options: dict[str, Any],
    figures: dict[str, list[float]],
    records: list[int],
    load_before: tuple[float, float, float],
) -> dict[str, Any]:
    def p(values: list[float], q: float) -> float:
        return round(_percentile(values, q), 1)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM predictions_prediction")
        rows = int(cursor.fetchone()[0])
    return {
        "symbols": options["symbols"],
        "cycles": len(records),
        "write_postgres_p50_ms": p(figures["postgres"], 50),
        "write_postgres_p95_ms": p(figures["postgres"], 95),
        "write_redis_p50_ms": p(figures["redis"], 50),
        "write_redis_p95_ms": p(figures["redis"], 95),
        "cpu_ms_per_cycle": {
            "python_write_postgres": round(statistics.median(figures["py_cpu"]), 1),
            "postgres_backend": round(statistics.median(figures["pg_cpu"]), 1),
        },
        "records_per_cycle": records,
        "prediction_rows": rows,
        "write_postgres_ms": [round(v, 1) for v in figures["postgres"]],
        "loadavg_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }


BENCHMARKS = [WriteBenchmark]
