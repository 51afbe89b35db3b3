"""The cycle's accuracy step on a second connection (predictions/pipeline/realise.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db import connection, transaction

from predictions.benchmarks.universe import cycle_input, install_models, make_symbols, store_bars
from predictions.models import PredictionRecord
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle

DAY = dt.date(2025, 7, 8)
NEXT = dt.date(2025, 7, 9)
TICKERS = [f"R{i:02d}" for i in range(20)]


@pytest.fixture
def two_days(tmp_path, redis_client):
    runtime.clear_cache()
    ids = make_symbols(TICKERS)
    install_models(tmp_path)
    first = cycle_input(DAY, TICKERS)
    store_bars(ids, TICKERS, DAY, first.close)
    run_cycle(first, redis_client=redis_client, publish=False)
    realised = np.random.default_rng(3).normal(0, 0.02, len(TICKERS))
    second = cycle_input(NEXT, TICKERS)
    second.close = first.close * (1 + realised)
    store_bars(ids, TICKERS, NEXT, second.close)
    yield second, realised, redis_client
    runtime.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_it_realises_the_days_outcomes_beside_the_cycle(two_days):
    second, realised, client = two_days
    result, _ = run_cycle(second, redis_client=client, publish=False)
    assert result.realised == len(TICKERS)
    assert result.stages_ms["realise_background"] > 0  # it ran on the helper thread
    for ticker, expected in zip(TICKERS, realised.tolist(), strict=True):
        record = PredictionRecord.objects.get(symbol__ticker=ticker, target_date=NEXT)
        assert record.realised_return == pytest.approx(expected, abs=1e-9)
        assert record.rank_realised is not None
    # the day's own forecasts were written too, and none of them was touched by the step
    assert not PredictionRecord.objects.filter(target_date__gt=NEXT, realised_at__isnull=False)
    assert PredictionRecord.objects.filter(target_date__gt=NEXT).count() == len(TICKERS)


@pytest.mark.django_db(transaction=True)
def test_it_realises_inline_inside_a_transaction(two_days):
    second, _, client = two_days
    with transaction.atomic():
        result, _ = run_cycle(second, redis_client=client, publish=False)
        assert connection.in_atomic_block
    assert result.realised == len(TICKERS)  # a second connection would not have seen the rows
    assert "realise_background" not in result.stages_ms


@pytest.mark.django_db(transaction=True)
def test_it_raises_the_steps_database_error_from_the_cycle(two_days, monkeypatch):
    from django.db import OperationalError

    from predictions.pipeline import realise

    def broken(day: dt.date, *, lookback_days: int) -> int:
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(realise, "record_realised", broken)
    second, _, client = two_days
    with pytest.raises(OperationalError):  # the pipeline task retries the idempotent cycle
        run_cycle(second, redis_client=client, publish=False)
