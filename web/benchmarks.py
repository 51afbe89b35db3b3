"""``python manage.py bench web_pages``: server-side render time of the website's pages.

The data set is built inside one transaction that is rolled back at the end, so the shared
database is left as it was: ``--symbols`` predicted symbols (the market overview ranks them all),
a user whose watchlist holds ``--watchlist`` of them, ``--bars`` daily bars and as many scored
predictions for the symbol page. Redis is not written (the prediction cache belongs to the
pipeline), so the cards take the database fallback path: the slower of the two.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.test import Client
from django.utils import timezone

from core.benchmarks import Benchmark

if TYPE_CHECKING:
    from accounts.models import User

DAY = dt.date(2024, 5, 1)


class _Rollback(Exception):
    pass


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(round(q * (len(ordered) - 1)), len(ordered) - 1)
    return ordered[index]


def _build(symbols: int, watchlist: int, bars: int) -> tuple[User, str]:
    from accounts.models import Tier, User
    from ingestion.models import PriceBar, Symbol
    from predictions.models import Prediction, PredictionRecord
    from web.models import WatchlistItem
    from web.tests.factories import trading_days

    now = timezone.now()
    rows = Symbol.objects.bulk_create(
        [Symbol(ticker=f"WB{i:04d}", name=f"Bench {i}") for i in range(symbols)]
    )
    stamp = dt.datetime.combine(DAY, dt.time(), tzinfo=dt.UTC)
    Prediction.objects.bulk_create(
        [
            Prediction(
                symbol=s,
                current_price=100.0 + i,
                predicted_return_1d=((i * 37) % 200 - 100) / 10000,
                predicted_price=(100.0 + i) * (1 + ((i * 37) % 200 - 100) / 10000),
                p10=-0.02,
                p50=0.0,
                p90=0.02,
                uncertainty_sigma=0.0156,
                uncertainty_method="bench",
                model_type="earnings_day" if i % 50 == 0 else "normal_day",
                model_version="bench",
                predicted_at=now,
                data_timestamp=stamp,
                features_snapshot={"return_1d": 0.01, "rsi_14": 55.0},
            )
            for i, s in enumerate(rows)
        ]
    )
    user = User.objects.create_user("bench-web", "bench@example.org", "x" * 20, tier=Tier.PRO)
    WatchlistItem.objects.bulk_create(
        [WatchlistItem(user=user, symbol=s) for s in rows[:watchlist]]
    )
    days = trading_days(DAY, bars)
    target = rows[0]
    PriceBar.objects.bulk_create(
        [
            PriceBar(
                symbol=target,
                timestamp=dt.datetime.combine(d, dt.time(), tzinfo=dt.UTC),
                interval="1d",
                open=100,
                high=101,
                low=99,
                close=100.5,
                volume=1e6,
                source="bench",
            )
            for d in days
        ]
    )
    PredictionRecord.objects.bulk_create(
        [
            PredictionRecord(
                symbol=s,
                data_timestamp=dt.datetime.combine(d, dt.time(), tzinfo=dt.UTC),
                target_date=days[j + 1],
                model_type="normal_day",
                model_version="bench",
                current_price=100,
                predicted_return_1d=0.001 * (k % 7 - 3),
                predicted_price=100,
                p10=-0.02,
                p50=0.0,
                p90=0.02,
                predicted_at=now,
                realised_return=0.002 * (k % 5 - 2),
                abs_error=0.01,
                inside_interval=True,
                realised_at=now,
            )
            for j, d in enumerate(days[:-1])
            for k, s in enumerate(rows[:20])
        ]
    )
    return user, target.ticker


class WebPagesBenchmark(Benchmark):
    name = "web_pages"
    help = "Render time of /dashboard, /dashboard/overview, /symbol/X and /accuracy (rolled back)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--symbols", type=int, default=500)
        parser.add_argument("--watchlist", type=int, default=50)
        parser.add_argument("--bars", type=int, default=250)
        parser.add_argument("--requests", type=int, default=30)

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        figures: dict[str, Any] = {
            "symbols": options["symbols"],
            "watchlist": options["watchlist"],
            "bars": options["bars"],
            "requests_per_page": options["requests"],
            "prediction_source": "database (the Redis prediction cache is not written)",
        }
        try:
            with transaction.atomic():
                user, ticker = _build(options["symbols"], options["watchlist"], options["bars"])
                client = Client()
                client.force_login(user)
                pages = {
                    "dashboard": "/dashboard",
                    "overview": "/dashboard/overview",
                    "symbol": f"/symbol/{ticker}",
                    "accuracy": "/accuracy",
                }
                for label, url in pages.items():
                    assert client.get(url).status_code == 200, url  # warm-up and sanity
                    times = []
                    for _ in range(options["requests"]):
                        started = time.perf_counter()
                        response = client.get(url)
                        times.append((time.perf_counter() - started) * 1000)
                        assert response.status_code == 200
                    figures[f"{label}_ms_p50"] = round(statistics.median(times), 2)
                    figures[f"{label}_ms_p95"] = round(_percentile(times, 0.95), 2)
                    figures[f"{label}_bytes"] = len(response.content)
                raise _Rollback
        except _Rollback:
            pass
        return figures


BENCHMARKS = [WebPagesBenchmark]
