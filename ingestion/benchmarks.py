"""``python manage.py bench ingest --symbols 5000``: backfill throughput and live-cycle latency.

Runs in its own database (``--database``, default ``stockpred_bench``, created and migrated on
first use) so the fresh-insert path is measured on an empty table without touching the shared
``stockpred`` data:

1. backfill: read + validate + store the whole S&P members file (2.86 M rows) into an empty
   ``PriceBar`` table -> ``backfill_rows_per_s``, ``backfill_s``; then the same file again
   (everything ``unchanged``) -> ``rebackfill_s``;
2. live: N symbols of the us_stocks file (7,391 real symbols): their bars of one day are stored
   first (the previous closes a live cycle reads), then each of the next ``--cycles`` days is one
   live cycle (previous closes, validation, COPY + upsert, quarantine, run record) ->
   ``cycle_ms`` (median), ``cycle_ms_max``, ``cycle_ms_first``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from core.benchmarks import Benchmark
from core.databases import ensure_database

SP500_FILE = "prices/sp500_members_daily_2005_2025.csv.gz"
US_FILE = "prices/us_stocks_daily_last500_asof_2025-07-09.csv.gz"


def _use_database(name: str) -> None:
    """Point the default connection at ``name`` (created if missing) and migrate it."""
    conn = connections["default"]
    conn.close()
    ensure_database(name)
    conn.settings_dict["NAME"] = name
    call_command("migrate", interactive=False, verbosity=0)


class IngestBenchmark(Benchmark):
    name = "ingest"
    help = "Backfill of the S&P members file and live cycles of N symbols (own database)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--symbols", type=int, default=5000)
        parser.add_argument("--cycles", type=int, default=5)
        parser.add_argument("--database", default="stockpred_bench")
        parser.add_argument("--skip-backfill", action="store_true")

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        from ingestion.frames import read_price_csv
        from ingestion.models import IngestionRun
        from ingestion.pipeline import ingest_frame
        from ingestion.storage import forget_symbol_cache

        _use_database(options["database"])
        forget_symbol_cache()
        with connection.cursor() as cur:
            cur.execute(
                "TRUNCATE ingestion_pricebar, ingestion_quarantinedbar, ingestion_ingestionrun"
            )
        from core.timescale import storage_report

        with connection.cursor() as cur:
            storage = storage_report(cur)
        # Which path ran: TimescaleDB hypertables or plain PostgreSQL (docs/timescaledb.md).
        out: dict[str, Any] = {"database": options["database"], "storage": storage}
        data = settings.SHARED_DATA_DIR
        if not options["skip_backfill"]:
            t0 = time.perf_counter()
            frame = read_price_csv(data / SP500_FILE)
            summary = ingest_frame(frame, provider="replay", mode=IngestionRun.Mode.BACKFILL)
            backfill_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            again = ingest_frame(frame, provider="replay", mode=IngestionRun.Mode.BACKFILL)
            out.update(
                backfill_rows=summary["received"],
                backfill_s=round(backfill_s, 2),
                backfill_rows_per_s=round(summary["received"] / backfill_s),
                backfill_inserted=summary["inserted"],
                backfill_quarantined=summary["quarantined"],
                rebackfill_s=round(time.perf_counter() - t1, 2),
                rebackfill_unchanged=again["unchanged"],
            )
            del frame

        us = read_price_csv(data / US_FILE)
        days = np.unique(us["date"].to_numpy(dtype="datetime64[D]"))[-(options["cycles"] + 1) :]
        recent = us[us["date"].isin(days.astype("datetime64[s]"))]
        per_symbol = recent.groupby("symbol")["date"].nunique()
        symbols = sorted(per_symbol[per_symbol == len(days)].index)[: options["symbols"]]
        recent = recent[recent["symbol"].isin(symbols)]
        day_of = recent["date"].to_numpy(dtype="datetime64[D]")
        ingest_frame(recent[day_of == days[0]], provider="replay", mode=IngestionRun.Mode.BACKFILL)
        timings, results = [], []
        for day in days[1:]:
            bars = recent[day_of == day].reset_index(drop=True)
            t = time.perf_counter()
            results.append(ingest_frame(bars, provider="replay", mode=IngestionRun.Mode.LIVE))
            timings.append((time.perf_counter() - t) * 1000)
        out.update(
            cycle_symbols=len(symbols),
            cycle_days=[str(d) for d in days[1:]],
            cycle_ms=round(statistics.median(timings), 1),
            cycle_ms_first=round(timings[0], 1),
            cycle_ms_max=round(max(timings), 1),
            cycle_ms_all=[round(x, 1) for x in timings],
            cycle_inserted=[r["inserted"] for r in results],
            cycle_quarantined=[r["quarantined"] for r in results],
        )
        return out


BENCHMARKS = [IngestBenchmark]
