"""Lost and duplicated predictions as ``bench faults`` counts them, on real rows: live runs that
stored days, bars that owe predictions, and records (one missing, one doubled)."""

from __future__ import annotations

import datetime as dt

import pytest

from ingestion.models import IngestionRun, PriceBar, Symbol
from ops.faultbench import accounting
from predictions.models import PredictionRecord

pytestmark = pytest.mark.django_db

DAYS = ["2025-07-07", "2025-07-08"]


def _stamp(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def _record(symbol: Symbol, day: str, version: str = "v1") -> PredictionRecord:
    return PredictionRecord(
        symbol=symbol, data_timestamp=_stamp(day), model_type="normal", model_version=version,
        current_price=10.0, predicted_return_1d=0.01, predicted_price=10.1,
        predicted_at=dt.datetime.now(dt.UTC),
    )  # fmt: skip


@pytest.fixture
def world():
    symbols = [Symbol.objects.create(ticker=t) for t in ("AAA", "BBB", "CCC")]
    Symbol.objects.create(ticker="^GSPC", asset_type="index")  # owes no prediction
    before = IngestionRun.objects.create(provider="replay", mode="live", status="ok",
                                         params={"date": "2025-07-03"})  # fmt: skip
    for day in DAYS:
        IngestionRun.objects.create(provider="replay", mode="live", status="ok",
                                    params={"date": day})  # fmt: skip
        for s in symbols:
            PriceBar.objects.create(symbol=s, timestamp=_stamp(day), open=1, high=1, low=1,
                                    close=1, volume=1)  # fmt: skip
    IngestionRun.objects.create(provider="replay", mode="live", status="failed",
                                params={"date": "2025-07-09"})  # fmt: skip
    return symbols, before.pk


def test_it_owes_one_prediction_per_stored_bar_of_each_live_day(world) -> None:
    symbols, before = world
    assert accounting.live_days(before) == DAYS  # the failed run's day stored nothing
    PredictionRecord.objects.bulk_create([_record(s, d) for s in symbols for d in DAYS])
    assert accounting.account(DAYS) == {
        "predictions_expected": 6, "lost": 0, "duplicates": 0, "lost_by_day": {}
    }  # fmt: skip


def test_it_counts_a_missing_record_as_lost_and_a_second_one_as_a_duplicate(world) -> None:
    symbols, _ = world
    rows = [_record(s, d) for s in symbols for d in DAYS if (s.ticker, d) != ("BBB", DAYS[1])]
    rows.append(_record(symbols[0], DAYS[0], version="v2"))  # the same day predicted twice
    PredictionRecord.objects.bulk_create(rows)
    assert accounting.account(DAYS) == {
        "predictions_expected": 6, "lost": 1, "duplicates": 1, "lost_by_day": {DAYS[1]: 1}
    }  # fmt: skip
