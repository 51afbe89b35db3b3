"""Accuracy tracking: realised outcomes filled in bulk, rolling figures per model kind."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.stats import rankdata, spearmanr

from ingestion.models import EarningsEvent
from predictions.accuracy import record_realised, rolling_accuracy
from predictions.benchmarks.universe import cycle_input, install_models, make_symbols, store_bars
from predictions.models import PredictionRecord
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 7, 8)
NEXT = dt.date(2025, 7, 9)
TICKERS = [f"S{i:02d}" for i in range(30)]


def _bars(ids: dict[str, int], day: dt.date, closes: np.ndarray) -> None:
    store_bars(ids, TICKERS, day, closes)


@pytest.fixture
def predicted(tmp_path, redis_client):
    runtime.clear_cache()
    ids = make_symbols(TICKERS)
    install_models(tmp_path)
    EarningsEvent.objects.create(symbol_id=ids["S00"], date=NEXT, reaction_date=NEXT, source="test")
    inp = cycle_input(DAY, TICKERS)
    _bars(ids, DAY, inp.close)
    run_cycle(inp, redis_client=redis_client, publish=False)
    yield ids, inp
    runtime.clear_cache()


def test_it_fills_realised_outcomes_when_the_target_close_arrives(predicted):
    ids, inp = predicted
    assert record_realised(NEXT) == 0  # no bar of the target day yet
    realised = np.random.default_rng(5).normal(0, 0.02, len(TICKERS))
    _bars(ids, NEXT, inp.close * (1 + realised))
    assert record_realised(NEXT) == 30
    assert record_realised(NEXT) == 0  # already realised: untouched
    for ticker, expected in zip(TICKERS, realised.tolist(), strict=True):
        r = PredictionRecord.objects.get(symbol__ticker=ticker)
        assert r.realised_return == pytest.approx(expected, abs=1e-9)
        assert r.abs_error == pytest.approx(abs(r.predicted_return_1d - expected), abs=1e-9)
        assert r.inside_interval == (r.p10 <= expected <= r.p90)
        assert r.realised_at is not None


def test_it_computes_rolling_accuracy_per_model_kind(predicted):
    ids, inp = predicted
    realised = np.random.default_rng(6).normal(0, 0.01, len(TICKERS))
    _bars(ids, NEXT, inp.close * (1 + realised))
    record_realised(NEXT)
    stats = rolling_accuracy()
    normal = PredictionRecord.objects.filter(model_type="normal_day").order_by("symbol__ticker")
    pred = np.array([r.predicted_return_1d for r in normal])
    real = np.array([r.realised_return for r in normal])
    inside = [r.p10 <= r.realised_return <= r.p90 for r in normal]
    for window in ("24h", "30d"):
        got = stats["normal"][window]
        assert got["n"] == 29
        assert got["mae"] == pytest.approx(np.abs(pred - real).mean(), abs=1e-6)
        assert got["mae_naive"] == pytest.approx(np.abs(real).mean(), abs=1e-6)
        assert got["coverage_p10_p90"] == pytest.approx(np.mean(inside), abs=1e-4)
        assert got["rank_ic"] == pytest.approx(spearmanr(pred, real).statistic, abs=1e-4)
        assert got["window_end"] == "2025-07-09"
    earnings = stats["earnings"]["30d"]
    assert earnings["n"] == 1 and earnings["rank_ic"] is None  # one symbol: no cross-section


def test_it_reports_empty_windows_before_any_outcome(predicted):
    stats = rolling_accuracy()
    assert stats["normal"]["24h"]["n"] == 0 and stats["normal"]["24h"]["mae"] is None
    assert set(stats) == {"normal", "earnings", "horizon_5d", "horizon_20d"}  # issue 19
    assert stats["horizon_5d"]["30d"]["momentum"] == {"n": 0, "mae": None, "rank_ic": None}
    assert stats["earnings"]["30d"]["window_end"] is None


def test_it_reranks_earlier_outcomes_when_late_bars_join_their_day(predicted):
    ids, inp = predicted
    realised = np.random.default_rng(7).normal(0, 0.02, len(TICKERS))
    closes = inp.close * (1 + realised)
    store_bars(ids, TICKERS[:12], NEXT, closes[:12])
    assert record_realised(NEXT) == 12
    store_bars(ids, TICKERS[12:], NEXT, closes[12:])
    assert record_realised(NEXT) == 18  # only the late ones count as realised now
    rows = list(PredictionRecord.objects.filter(model_type="normal_day", target_date=NEXT))
    assert len(rows) == 29
    pred = np.array([r.predicted_return_1d for r in rows])
    real = np.array([r.realised_return for r in rows])
    # The ranks of the whole day, early rows included, as rank() (min method) gives them.
    assert [r.rank_predicted for r in rows] == rankdata(pred, method="min").astype(int).tolist()
    assert [r.rank_realised for r in rows] == rankdata(real, method="min").astype(int).tolist()


def _chunks_before(cursor, table: str, end: dt.datetime) -> list[str]:
    cursor.execute(
        "SELECT chunk_name FROM timescaledb_information.chunks WHERE hypertable_name = %s"
        " AND range_end <= %s",
        [table, end],
    )
    return [row[0] for row in cursor.fetchall()]


def test_it_reads_only_the_chunks_of_the_lookback(predicted):
    # A live database holds 20 years of bars and months of records: the due outcomes' join and
    # the update must not scan every chunk of them.
    from django.db import connection

    from core.timescale import is_hypertable
    from predictions.accuracy import _FRESH_DDL, _FRESH_SQL, _REALISE_AND_RANK_SQL, _due_params

    ids, _ = predicted
    old = dt.date(2021, 3, 1)
    store_bars(ids, TICKERS, old, np.full(len(TICKERS), 50.0))
    record = PredictionRecord.objects.first()
    assert record is not None
    record.pk, record.data_timestamp = None, dt.datetime(2021, 3, 1, tzinfo=dt.UTC)
    record.target_date = dt.date(2021, 3, 2)
    record.save()
    end = dt.datetime(2021, 12, 31, tzinfo=dt.UTC)
    with connection.cursor() as cursor:
        if not is_hypertable(cursor, "ingestion_pricebar"):
            pytest.skip("plain PostgreSQL: no chunks")
        old_bars = _chunks_before(cursor, "ingestion_pricebar", end)
        old_records = _chunks_before(cursor, "predictions_predictionrecord", end)
        cursor.execute(_FRESH_DDL)
        cursor.execute("EXPLAIN " + _FRESH_SQL, _due_params(NEXT, 40))
        due = "\n".join(row[0] for row in cursor.fetchall())
        oldest = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
        params = {"oldest": oldest, "types": ["normal_day"], "targets": [NEXT]}
        cursor.execute("EXPLAIN " + _REALISE_AND_RANK_SQL, params)
        update = "\n".join(row[0] for row in cursor.fetchall())
    assert old_bars and old_records  # the old bar and record made chunks of their own
    assert not [name for name in old_bars if name in due]
    assert not [name for name in old_records if name in due]
    assert not [name for name in old_records if name in update]
