"""Run in a subprocess by test_storage_paths against a freshly migrated database (TimescaleDB or
plain PostgreSQL): loads a fixed synthetic history, realises it day by day as the pipeline does
(autocommit, so the continuous aggregate is refreshed for real), then applies retention, and
prints what both paths must agree on as JSON: accuracy figures before and after retention,
retention counts and the surviving rows. Deterministic: same input on both paths."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any

import django

N_SYMBOLS = 12
N_DAYS = 60
FIRST_DAY = dt.date(2025, 1, 6)


def _business_days() -> list[dt.date]:
    days: list[dt.date] = []
    day = FIRST_DAY
    while len(days) < N_DAYS + 1:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _stamp(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def load_history() -> list[dt.date]:
    import numpy as np

    from ingestion.models import PriceBar, Symbol
    from predictions.models import PredictionRecord

    rng = np.random.default_rng(20)
    days = _business_days()
    symbols = [Symbol.objects.create(ticker=f"P{i:02d}") for i in range(N_SYMBOLS)]
    closes = 100 * np.cumprod(1 + rng.normal(0, 0.02, (len(days), N_SYMBOLS)), axis=0)
    PriceBar.objects.bulk_create(
        PriceBar(symbol=s, timestamp=_stamp(d), open=c, high=c, low=c, close=c, volume=1e6,
                 source="probe")
        for i, d in enumerate(days) for s, c in zip(symbols, closes[i].tolist(), strict=True)
    )  # fmt: skip
    records = []
    for i, day in enumerate(days[:-1]):
        predicted = rng.normal(0, 0.01, N_SYMBOLS)
        for j, symbol in enumerate(symbols):
            # Every 5th day half the symbols are on the earnings-day model.
            kind = "earnings_day" if i % 5 == 0 and j % 2 == 0 else "normal_day"
            p = float(predicted[j])
            records.append(
                PredictionRecord(
                    symbol=symbol, data_timestamp=_stamp(day), target_date=days[i + 1],
                    model_type=kind, model_version="v1", current_price=float(closes[i, j]),
                    predicted_return_1d=p, predicted_price=float(closes[i, j]) * (1 + p),
                    p10=p - 0.015, p50=p, p90=p + 0.015, predicted_at=_stamp(day),
                )
            )  # fmt: skip
    PredictionRecord.objects.bulk_create(records)
    return days


def compress_all() -> dict[str, int]:
    """TimescaleDB only: compress every chunk now (the policies would within hours), so the
    realising UPDATEs and the retention DELETE run against compressed chunks."""
    from django.db import connection

    compressed: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table in ("ingestion_pricebar", "predictions_predictionrecord"):
            cursor.execute("SELECT count(compress_chunk(c)) FROM show_chunks(%s) c", [table])
            cursor.execute(
                "SELECT count(*) FROM timescaledb_information.chunks"
                " WHERE hypertable_name = %s AND is_compressed",
                [table],
            )
            compressed[table] = int(cursor.fetchone()[0])
    return compressed


def _materialised_rows() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT materialization_hypertable_schema, materialization_hypertable_name"
            " FROM timescaledb_information.continuous_aggregates"
            " WHERE view_name = 'predictions_daily_accuracy'"
        )
        schema, name = cursor.fetchone()
        cursor.execute(f'SELECT count(*) FROM "{schema}"."{name}"')
        return int(cursor.fetchone()[0])


def storage_state() -> dict[str, Any]:
    from django.db import connection

    from core.timescale import extension_installed
    from predictions.time_series import is_continuous_aggregate

    with connection.cursor() as cursor:
        tsdb = extension_installed(cursor, "timescaledb")
        hypertables: list[str] = []
        jobs: list[list[str]] = []
        if tsdb:
            cursor.execute(
                "SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1"
            )
            hypertables = [r[0] for r in cursor.fetchall()]
            cursor.execute(
                "SELECT proc_name, hypertable_name FROM timescaledb_information.jobs"
                " WHERE hypertable_name IS NOT NULL ORDER BY 2, 1"
            )
            jobs = [list(r) for r in cursor.fetchall()]
    return {
        "timescaledb": tsdb,
        "hypertables": hypertables,
        "jobs": jobs,
        "continuous_aggregate": is_continuous_aggregate(),
    }


def _rows(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    # Sums may be added in another order on the two paths: compare to 10 digits.
    return [[round(float(c), 10) if isinstance(c, float) else str(c) for c in row] for row in rows]


def main() -> dict[str, Any]:
    from predictions.accuracy import daily_accuracy, record_realised, rolling_accuracy
    from predictions.models import PredictionRecord
    from predictions.retention import enforce_retention

    state = storage_state()
    days = load_history()
    compressed = compress_all() if state["timescaledb"] else {}
    realised = sum(record_realised(day) for day in days[1:])
    out: dict[str, Any] = {
        "state": state,
        "compressed_chunks": compressed,
        "realised": realised,
        "rolling": rolling_accuracy(),
        "daily": _rows(daily_accuracy(days[0], days[-1])),
    }
    if state["timescaledb"]:
        out["materialised_rows"] = _materialised_rows()
    # Retention window of PREDICTION_RETENTION_DAYS (the test sets 40) from 20 days after the
    # last data day: drops roughly the first two thirds.
    retention = enforce_retention(now=_stamp(days[-1] + dt.timedelta(days=20)))
    out["retention"] = {k: v for k, v in retention.items() if k != "path"}
    out["retention_path"] = retention["path"]
    out["kept"] = sorted(
        f"{r.symbol.ticker} {r.data_timestamp:%Y-%m-%d}"
        for r in PredictionRecord.objects.select_related("symbol")
    )
    out["rolling_after"] = rolling_accuracy(as_of=days[-1])
    out["daily_after"] = _rows(daily_accuracy(days[0], days[-1]))
    return out


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    django.setup()
    json.dump(main(), sys.stdout, default=str)
