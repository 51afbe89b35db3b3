"""``features.tasks.update_features`` on a real worker: cold build, then incremental."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from celery.signals import before_task_publish
from django.conf import settings

from features import handoff, tasks
from features.panel import Panel
from ingestion.models import PriceBar, Symbol

SYMS = ["KO", "XOM"]


def _load(panel: Panel) -> None:
    for i, ticker in enumerate(panel.tickers):
        sym = Symbol.objects.create(ticker=ticker)
        bars = [
            PriceBar(
                symbol=sym,
                timestamp=dt.datetime.combine(d.item(), dt.time(), dt.UTC),
                open=panel.open[i, j],
                high=panel.high[i, j],
                low=panel.low[i, j],
                close=panel.close[i, j],
                volume=panel.volume[i, j],
                source="test",
            )
            for j, d in enumerate(panel.dates)
            if np.isfinite(panel.close[i, j])
        ]
        PriceBar.objects.bulk_create(bars)


def _stored_panel(start: str) -> Panel:
    """Real bars of ``SYMS`` from ``start`` to 2018-06-29 in the database, no engine cached."""
    panel = Panel.from_csv(
        settings.SHARED_DATA_DIR / "prices/sp500_members_daily_2005_2025.csv.gz",
        symbols=SYMS,
        start=start,
        end="2018-06-29",
    )
    _load(panel)
    tasks._ENGINES.clear()
    return panel


@pytest.mark.django_db(transaction=True)
def test_it_updates_features_in_redis_on_a_worker(celery_worker_thread, redis_client):
    panel = _stored_panel("2017-01-01")
    from config.celery_app import app

    day1, day2 = panel.dates[-2].item().isoformat(), panel.dates[-1].item().isoformat()
    r1 = app.send_task(
        "features.tasks.update_features", args=[day1], queue="features", ignore_result=False
    )
    assert r1.get(timeout=120)["symbols"] == 2
    engine = next(iter(tasks._ENGINES.values()))
    assert engine.data_date is not None
    assert engine.data_date.isoformat() == day1
    r2 = app.send_task(
        "features.tasks.update_features", args=[day2], queue="features", ignore_result=False
    )
    assert r2.get(timeout=120)["symbols"] == 2
    assert next(iter(tasks._ENGINES.values())) is engine  # incremental: same state object
    stored = redis_client.hgetall("features:KO")
    assert stored[b"data_timestamp"].decode() == f"{day2}T00:00:00Z"
    assert float(stored[b"close"]) == panel.close[panel.row("KO"), -1]
    # The incremental result equals a cold rebuild for the same day.
    tasks._ENGINES.clear()
    cold = tasks.compute(dt.date.fromisoformat(day2))
    np.testing.assert_array_equal(cold.X[:, :20], engine.snapshot().X[:, :20])


@pytest.mark.django_db
def test_it_reads_the_same_panel_from_the_database_as_from_the_csv(real_panel):
    _load(real_panel)
    db = Panel.from_db(tickers=["XOM", "KO", "NOPE"], start="2015-03-02", end="2016-12-30")
    csv = real_panel.select(["KO", "NOPE", "XOM"])
    lo = int(np.searchsorted(csv.dates, np.datetime64("2015-03-02")))
    hi = int(np.searchsorted(csv.dates, np.datetime64("2016-12-30"), side="right"))
    assert list(db.tickers) == ["KO", "NOPE", "XOM"]
    np.testing.assert_array_equal(db.dates, csv.dates[lo:hi])
    for field in ("open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(db, field), getattr(csv, field)[:, lo:hi])


@pytest.mark.django_db(transaction=True)
def test_it_sends_the_prediction_task_once_the_matrix_is_stored(celery_worker_thread, redis_client):
    panel = _stored_panel("2017-06-01")
    from config.celery_app import app

    day = panel.dates[-1].item().isoformat()
    seen: list[tuple[int, int]] = []  # (matrix stored, feature hashes stored) at the send

    def record(sender: str | None = None, **_: object) -> None:
        if sender == "predictions.tasks.pipeline.run_predictions":
            keys = (handoff.MATRIX_KEY.format(day), "features:KO")
            seen.append((redis_client.exists(keys[0]), redis_client.exists(keys[1])))

    before_task_publish.connect(record, weak=False)
    try:
        result = app.send_task(
            "features.tasks.update_features", args=[day], queue="features", ignore_result=False
        ).get(timeout=120)
    finally:
        before_task_publish.disconnect(record)
    # The inference task can start on the matrix; the hashes (API, explanations) come after.
    assert seen == [(1, 0)]
    assert result["symbols"] == 2
    assert redis_client.hget("features:KO", "data_timestamp").decode() == f"{day}T00:00:00Z"
