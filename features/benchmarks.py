"""``python manage.py bench features --symbols 5000``: full recompute and one-day update.

Universe: the first N symbols (alphabetical) of ``us_stocks_daily_last500_asof_2025-07-09``
(7,391 real symbols, 500 trading days). ``full_ms`` = ``FeatureEngine.full`` over the first
499 days (all 49 features of the last day, state for every symbol, and the sorted indexes of
the earnings facts built from scratch); ``incremental_ms`` =
``FeatureEngine.update`` with day 500 (median of ``--repeat`` runs, each on a fresh copy of the
state). Earnings facts come from the shared CSVs (the same rules as the database path) so the
earnings half of the work is real; the earnings-day lookup queries the database as live does.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from typing import Any

import numpy as np
from django.conf import settings

from core.benchmarks import Benchmark
from features.earnings import EarningsData
from features.live import DayBars, FeatureEngine
from features.panel import Panel

PRICES = "prices/us_stocks_daily_last500_asof_2025-07-09.csv.gz"


class FeaturesBenchmark(Benchmark):
    name = "features"
    help = "Feature engine: full recompute and incremental one-day update for N symbols"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--symbols", type=int, default=5000)
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument(
            "--redis-url",
            default="",
            help="Also time the Redis write of the update into this Redis database "
            "(its features:* keys are deleted afterwards); never the platform's db 0 in use",
        )

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        panel = Panel.from_csv(settings.SHARED_DATA_DIR / PRICES)
        load_s = time.perf_counter() - t0
        n = min(options["symbols"], len(panel.tickers))
        panel = panel.select(panel.tickers[:n])
        earnings = EarningsData.from_csv(panel.tickers)
        history = panel.until(panel.dates[-2])
        last = len(panel.dates) - 1
        bars = DayBars(
            date=panel.dates[last].item(),
            tickers=panel.tickers,
            **{f: getattr(panel, f)[:, last] for f in ("open", "high", "low", "close", "volume")},
        )
        engine = FeatureEngine(earnings)
        engine.full(history)  # warm caches (transcript dates, calendar) before timing
        full_times = []
        for _ in range(max(1, options["repeat"] // 2)):
            # Fresh facts object: its per-universe indexes are rebuilt inside the timing.
            facts = EarningsData(earnings.events, earnings.fundamentals, earnings.transcripts)
            engine = FeatureEngine(facts)
            t = time.perf_counter()
            engine.full(history)
            full_times.append(time.perf_counter() - t)
        inc_times = []
        for _ in range(options["repeat"]):
            fresh = copy.deepcopy(engine)
            t = time.perf_counter()
            live = fresh.update(bars)
            inc_times.append(time.perf_counter() - t)
        extra: dict[str, Any] = {}
        if options["redis_url"]:
            import redis

            from features import store

            conn = redis.Redis.from_url(options["redis_url"])
            write_times = []
            for _ in range(options["repeat"]):
                t = time.perf_counter()
                written = store.write_live(live, conn)
                write_times.append(time.perf_counter() - t)
            extra = {
                "redis_write_ms": round(statistics.median(write_times) * 1000, 1),
                "redis_symbols_written": written,
            }
            for key in conn.scan_iter(store.features_key("*"), count=5000):
                conn.delete(key)
            for key in conn.scan_iter("earnings_*", count=5000):
                conn.delete(key)
        return {
            **extra,
            "symbols": n,
            "days": len(history.dates),
            "full_ms": round(statistics.median(full_times) * 1000, 1),
            "incremental_ms": round(statistics.median(inc_times) * 1000, 1),
            "full_runs_ms": [round(x * 1000, 1) for x in full_times],
            "incremental_runs_ms": [round(x * 1000, 1) for x in inc_times],
            "valid_symbols_last_day": int(live.valid.sum()),
            "earnings_values_last_day": int(np.isfinite(live.X[:, 20:]).sum()),
            "csv_load_s": round(load_s, 2),
        }


BENCHMARKS = [FeaturesBenchmark]
