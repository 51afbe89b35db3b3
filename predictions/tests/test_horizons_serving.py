"""Multi-horizon serving (issue 19): the live cycle predicts the 5- and 20-day horizons in the
same pass, ``pred:{SYMBOL}``, ``Prediction`` and the records carry them, an h-day record is
realised h trading days later, and the accuracy reports each horizon. Without horizon models
the cycle and its payload are exactly as before."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from ingestion.models import PriceBar, Symbol
from predictions.accuracy import record_realised, rolling_accuracy
from predictions.benchmarks.universe import cycle_input, install_models, make_symbols
from predictions.models import Prediction, PredictionRecord
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle
from predictions.pipeline.days import trading_day_after

pytestmark = pytest.mark.django_db(transaction=True)

DAY = dt.date(2025, 7, 8)
TICKERS = [f"H{i:03d}" for i in range(30)]
KEYS = {
    "symbol", "current_price", "predicted_return_1d", "predicted_price", "uncertainty_sigma",
    "p10", "p50", "p90", "uncertainty_method", "model_type", "model_version", "predicted_at",
    "data_timestamp", "ood",
}  # fmt: skip
HORIZON_KEYS = {
    "target_date", "model_version", "uncertainty_method", "predicted_return", "predicted_price",
    "uncertainty_sigma", "p10", "p50", "p90",
}  # fmt: skip


@pytest.fixture
def universe(redis_client):
    runtime.clear_cache()
    make_symbols(TICKERS)
    yield redis_client
    runtime.clear_cache()


def test_it_predicts_every_horizon_in_the_same_cycle(universe, tmp_path):
    install_models(tmp_path, horizons=True)
    inp = cycle_input(DAY, TICKERS)
    result, _ = run_cycle(inp, redis_client=universe)
    assert result.errors == [] and result.n_predicted == 30
    assert result.model_versions["horizon_5d"] == "v1-5d"
    assert result.horizon_records_inserted == 60
    payload = json.loads(universe.get("pred:H002"))
    assert set(payload) == KEYS | {"horizons"}
    assert set(payload["horizons"]) == {"5", "20"}
    assert trading_day_after(DAY, 5) == dt.date(2025, 7, 15)
    for h in (5, 20):
        entry = payload["horizons"][str(h)]
        assert set(entry) == HORIZON_KEYS
        assert entry["target_date"] == trading_day_after(DAY, h).isoformat()
        assert entry["p10"] <= entry["p50"] <= entry["p90"]
        assert entry["predicted_price"] == pytest.approx(
            inp.close[2] * (1 + entry["predicted_return"]), rel=1e-5
        )
    # PostgreSQL holds the same object, and one record per symbol and horizon.
    assert Prediction.objects.get(symbol__ticker="H002").horizons == payload["horizons"]
    records = PredictionRecord.objects.filter(symbol__ticker="H002")
    assert sorted(records.values_list("model_type", flat=True)) == [
        "horizon_20d", "horizon_5d", "normal_day",
    ]  # fmt: skip
    five = records.get(model_type="horizon_5d")
    assert five.target_date == dt.date(2025, 7, 15) and five.model_version == "v1-5d"
    assert five.predicted_return_1d == payload["horizons"]["5"]["predicted_return"]
    # The momentum baseline stored with it: the trailing 5-day return of day t.
    return_5d = inp.X[2, inp.feature_names.index("return_5d")]
    if np.isfinite(return_5d):
        assert five.baseline_return == pytest.approx(float(return_5d), abs=1e-6)
    else:
        assert five.baseline_return is None
    again, _ = run_cycle(inp, redis_client=universe)
    assert again.horizon_records_inserted == 0 and PredictionRecord.objects.count() == 90


def test_it_serves_one_day_only_without_horizon_models(universe, tmp_path):
    install_models(tmp_path)
    result, batch = run_cycle(cycle_input(DAY, TICKERS), redis_client=universe)
    assert result.errors == [] and result.horizon_records_inserted == 0
    assert batch is not None and batch.horizons == []
    payload = json.loads(universe.get("pred:H003"))
    assert set(payload) == KEYS  # byte layout as before: no horizons key at all
    assert universe.get("pred:H003").decode() == batch.payload_json()[3]
    assert Prediction.objects.get(symbol__ticker="H003").horizons is None
    assert set(PredictionRecord.objects.values_list("model_type", flat=True)) == {"normal_day"}


def test_it_serves_one_day_forecasts_when_a_horizon_model_is_broken(universe, tmp_path):
    models = install_models(tmp_path, horizons=True)
    (tmp_path / "horizon_20d" / models["horizon_20d"].version / "model.onnx").write_bytes(b"x")
    result, _ = run_cycle(cycle_input(DAY, TICKERS), redis_client=universe)
    assert result.n_predicted == 30
    assert len(result.errors) == 1 and "horizon_20d" in result.errors[0]
    assert set(json.loads(universe.get("pred:H001"))["horizons"]) == {"5"}


def _bars(ticker: str, days: list[dt.date], close: float) -> None:
    symbol = Symbol.objects.get(ticker=ticker)
    PriceBar.objects.bulk_create(
        PriceBar(
            symbol=symbol,
            timestamp=dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC),
            open=close,
            high=close,
            low=close,
            close=close,
            volume=1e6,
            source="test",
        )
        for d in days
    )


def test_it_realises_an_h_day_forecast_h_trading_days_later(universe, tmp_path):
    install_models(tmp_path, horizons=True)
    inp = cycle_input(DAY, TICKERS)
    run_cycle(inp, redis_client=universe, realise=False)
    days = [trading_day_after(DAY, k) for k in range(1, 6)]
    for i, ticker in enumerate(TICKERS):
        _bars(ticker, days, float(inp.close[i]) * (1 + 0.001 * i))
    assert record_realised(days[0]) == 30  # the one-day records only
    five = PredictionRecord.objects.filter(model_type="horizon_5d")
    assert not five.filter(realised_return__isnull=False).exists()
    assert record_realised(days[3]) == 0  # 4 trading days later: not yet
    assert record_realised(days[4]) == 30  # the 5th trading day: the 5-day forecasts
    row = five.get(symbol__ticker="H007")
    assert row.realised_return == pytest.approx(0.007, abs=1e-9)
    assert row.abs_error == pytest.approx(abs(row.predicted_return_1d - 0.007), abs=1e-9)
    assert not PredictionRecord.objects.filter(
        model_type="horizon_20d", realised_return__isnull=False
    ).exists()
    figures = rolling_accuracy(as_of=days[4])
    assert figures["horizon_5d"]["30d"]["n"] == 30
    assert figures["horizon_5d"]["30d"]["mae_naive"] == pytest.approx(
        np.mean([0.001 * i for i in range(30)]), abs=1e-9
    )
    assert figures["normal"]["30d"]["n"] == 30 and figures["horizon_20d"]["30d"]["n"] == 0
    # The momentum baseline on the same realised rows (those with a trailing 5-day return).
    with_baseline = five.filter(baseline_return__isnull=False)
    momentum = figures["horizon_5d"]["30d"]["momentum"]
    assert momentum["n"] == with_baseline.count() > 20
    errors = [
        abs(b - r) for b, r in with_baseline.values_list("baseline_return", "realised_return")
    ]
    assert momentum["mae"] == pytest.approx(np.mean(errors), abs=1e-6)
