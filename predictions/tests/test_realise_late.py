"""The cycle realises the records of its own day; the hourly sweep (``predictions.tasks.accuracy``)
realises the ones whose target bar was stored after their day's cycle."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.conf import settings

from predictions.benchmarks.universe import make_symbols, store_bars, store_records
from predictions.models import PredictionRecord
from predictions.pipeline.realise import Realisation

DAY, NEXT, LATER = dt.date(2025, 7, 7), dt.date(2025, 7, 8), dt.date(2025, 7, 9)
TICKERS = [f"L{i:02d}" for i in range(12)]
MOVES = np.linspace(-0.03, 0.03, len(TICKERS))


@pytest.fixture
def left_behind() -> None:
    """NEXT's bars came after NEXT's cycle had realised nothing; LATER's cycle then ran."""
    ids = make_symbols(TICKERS)
    store_bars(ids, TICKERS, DAY, np.full(len(TICKERS), 100.0))
    store_records(ids, DAY, NEXT)
    assert Realisation.start(NEXT).finish() == 0  # NEXT's cycle: no bar of NEXT yet
    store_bars(ids, TICKERS, NEXT, 100.0 * (1 + MOVES))  # late
    store_records(ids, NEXT, LATER)
    store_bars(ids, TICKERS, LATER, np.full(len(TICKERS), 101.0))
    assert Realisation.start(LATER).finish() == len(TICKERS)  # LATER's own records only


def _unrealised(target: dt.date) -> int:
    return PredictionRecord.objects.filter(target_date=target, realised_at__isnull=True).count()


@pytest.mark.django_db
def test_it_realises_only_the_cycles_own_day_in_the_cycle(left_behind):
    assert _unrealised(LATER) == 0
    assert _unrealised(NEXT) == len(TICKERS)


@pytest.mark.django_db(transaction=True)
def test_it_realises_what_the_cycles_left_in_the_hourly_sweep(left_behind, celery_worker_thread):
    from config.celery_app import app

    assert app.send_task("predictions.tasks.accuracy.realise_late").get(timeout=60) == len(TICKERS)
    assert _unrealised(NEXT) == 0
    records = PredictionRecord.objects.filter(target_date=NEXT).order_by("symbol__ticker")
    realised = [r.realised_return for r in records]
    assert realised == pytest.approx(MOVES.tolist(), abs=1e-9)
    assert [r.rank_realised for r in records] == list(range(1, len(TICKERS) + 1))
    assert app.send_task("predictions.tasks.accuracy.realise_late").get(timeout=60) == 0


@pytest.mark.django_db
def test_it_leaves_the_newest_day_to_its_cycle_in_the_sweep(left_behind):
    from predictions.accuracy import realise_late_outcomes

    ids = make_symbols(TICKERS)
    newest = LATER + dt.timedelta(days=1)
    store_records(ids, LATER, newest)
    store_bars(ids, TICKERS, newest, np.full(len(TICKERS), 102.0))  # its cycle runs now
    assert realise_late_outcomes() == len(TICKERS)  # NEXT's, left behind
    assert _unrealised(newest) == len(TICKERS)  # the running cycle's own records


def test_it_is_scheduled_hourly_on_the_ingest_queue() -> None:
    from config.celery_app import app

    entry = settings.CELERY_BEAT_SCHEDULE["realise-late-outcomes"]
    assert entry["task"] == "predictions.tasks.accuracy.realise_late"
    assert str(entry["schedule"].hour) == str(set(range(24)))
    assert app.amqp.router.route({}, entry["task"])["queue"].name == "training"
