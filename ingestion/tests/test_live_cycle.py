"""The live replay cycle through a real Celery worker (``celery_worker_thread``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from celery.signals import before_task_publish
from django.conf import settings as django_settings

from ingestion.live import REPLAY_KEY, next_replay_day
from ingestion.models import AssetType, IngestionRun, PriceBar, Symbol
from ingestion.pipeline import ingest_frame
from ingestion.tests.conftest import SP500, real_bars


def test_it_registers_the_beat_entry_on_the_ingest_queue() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["ingestion-live-cycle"]
    assert entry["task"] == "ingestion.tasks.live_cycle"
    assert entry["schedule"] == django_settings.REPLAY_PERIOD_SECONDS
    from config.celery_app import app

    assert app.amqp.router.route({}, entry["task"])["queue"].name == "ingest"


def test_it_advances_one_file_day_and_stays_on_the_last() -> None:
    days = np.array(["2024-07-09", "2024-07-10", "2024-07-11"], dtype="datetime64[D]")
    assert next_replay_day(days, None, "2024-07-10") == days[1]
    assert next_replay_day(days, "2024-07-10", "2024-07-10") == days[2]
    assert next_replay_day(days, "2024-07-11", "2024-07-10") == days[2]  # never back to the start


@pytest.fixture
def replay_file(tmp_path, settings):
    """A small real replay file: AAPL, MSFT, AVB bars 2024-07-01..2024-07-16 (shared format)."""
    bars = real_bars(SP500, ["AAPL", "MSFT", "AVB"], "2024-07-01", "2024-07-16")
    path = tmp_path / "replay.csv.gz"
    out = bars.assign(date=bars["date"].dt.strftime("%Y-%m-%d"))
    out.to_csv(path, index=False, compression="gzip")
    settings.REPLAY_PRICES_FILE = path
    settings.REPLAY_START_DATE = "2024-07-10"
    settings.MARKET_DATA_PROVIDER = "replay"
    return bars


def test_it_runs_live_cycles_in_a_worker_and_hands_over_to_features(
    replay_file, celery_worker_thread, redis_client
) -> None:
    from config.celery_app import app

    history = replay_file[replay_file["date"] < "2024-07-10"]
    ingest_frame(history, provider="replay", mode="backfill")  # what a backfill left
    published: list[tuple[str, list]] = []

    def record(sender=None, body=None, **kwargs) -> None:
        published.append((sender, list(body[0]) if body else []))

    before_task_publish.connect(record, weak=False)
    try:
        first = app.send_task(
            "ingestion.tasks.live_cycle", queue="ingest", ignore_result=False
        ).get(timeout=120)
        second = app.send_task(
            "ingestion.tasks.live_cycle", queue="ingest", ignore_result=False
        ).get(timeout=120)
    finally:
        before_task_publish.disconnect(record)

    assert first["trading_date"] == "2024-07-10" and first["inserted"] == 3
    assert second["trading_date"] == "2024-07-11" and second["inserted"] == 3
    assert redis_client.get(REPLAY_KEY).decode() == "2024-07-11"
    stored = PriceBar.objects.filter(timestamp=dt.datetime(2024, 7, 11, tzinfo=dt.UTC))
    assert sorted(stored.values_list("symbol__ticker", flat=True)) == ["AAPL", "AVB", "MSFT"]
    runs = IngestionRun.objects.filter(mode="live").order_by("pk")
    assert [r.params["date"] for r in runs] == ["2024-07-10", "2024-07-11"]
    sent = [args for name, args in published if name == "features.tasks.update_features"]
    assert sent == [["2024-07-10"], ["2024-07-11"]]


@pytest.mark.django_db
def test_it_goes_on_from_the_stored_day_when_redis_lost_the_clock(replay_file, redis_client):
    from ingestion.live import replay_cycle
    from ingestion.providers.replay import ReplayProvider

    history = replay_file[replay_file["date"] < "2024-07-10"]
    ingest_frame(history, provider="replay", mode="backfill")
    provider = ReplayProvider(django_settings.REPLAY_PRICES_FILE)
    assert replay_cycle(redis_client, provider)["trading_date"] == "2024-07-10"
    assert replay_cycle(redis_client, provider)["trading_date"] == "2024-07-11"
    redis_client.delete(REPLAY_KEY)  # Redis restarted without persistence
    assert replay_cycle(redis_client, provider)["trading_date"] == "2024-07-12"
    assert redis_client.get(REPLAY_KEY).decode() == "2024-07-12"


@pytest.mark.django_db
def test_it_resumes_after_the_latest_stored_day_when_the_key_is_gone(replay_file, redis_client):
    from ingestion.live import replay_cycle
    from ingestion.providers.replay import ReplayProvider

    # The database holds bars through 2024-07-12 (a backfill), no live run, no clock in Redis,
    # and an index series that runs further (as the shared S&P 500 file does).
    backfill = replay_file[replay_file["date"] <= "2024-07-12"]
    ingest_frame(backfill, provider="replay", mode="backfill")
    index = Symbol.objects.create(ticker="^GSPC", asset_type=AssetType.INDEX)
    late = dt.datetime(2024, 9, 3, tzinfo=dt.UTC)
    PriceBar.objects.create(
        symbol=index, timestamp=late, open=1, high=1, low=1, close=1, volume=0, source="replay"
    )
    provider = ReplayProvider(django_settings.REPLAY_PRICES_FILE)

    assert replay_cycle(redis_client, provider)["trading_date"] == "2024-07-15"
    redis_client.delete(REPLAY_KEY)
    assert replay_cycle(redis_client, provider)["trading_date"] == "2024-07-16"
    redis_client.delete(REPLAY_KEY)
    # The file ends on 2024-07-16: the clock stays there instead of going back to the start.
    assert replay_cycle(redis_client, provider)["trading_date"] == "2024-07-16"
