"""The Celery task ``run_predictions`` on a real worker: features from Redis to predictions."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from config.celery_app import app
from predictions.benchmarks.universe import (
    cycle_input,
    install_models,
    make_symbols,
    write_features,
)
from predictions.models import PipelineRun, Prediction
from predictions.pipeline import runtime, status

DAY = dt.date(2025, 7, 8)
TICKERS = [f"T{i:03d}" for i in range(50)]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def platform(tmp_path, redis_client):
    runtime.clear_cache()
    make_symbols(TICKERS)
    install_models(tmp_path)
    yield redis_client
    runtime.clear_cache()


def test_it_predicts_every_symbol_with_features_of_the_day(platform, celery_worker_thread):
    inp = cycle_input(DAY, TICKERS[:45])
    write_features(platform, inp)
    write_features(platform, cycle_input(dt.date(2025, 7, 7), TICKERS[45:]))  # a stale day
    result = app.send_task(
        "predictions.tasks.pipeline.run_predictions",
        args=[DAY.isoformat()],
        queue="inference",
        ignore_result=False,
    ).get(timeout=60)
    assert result["ok"] and result["n_predicted"] == 45 and result["records_inserted"] == 45
    assert Prediction.objects.count() == 45
    row = Prediction.objects.get(symbol__ticker="T003")
    assert row.current_price == pytest.approx(inp.close[3])
    cached = json.loads(platform.get("pred:T003"))
    assert cached["predicted_return_1d"] == pytest.approx(row.predicted_return_1d)
    assert not platform.exists("pred:T046")
    assert json.loads(platform.get(status.STATUS_KEY))["n_predicted"] == 45


def test_it_records_a_failed_cycle_when_no_features_arrived(platform, celery_worker_thread):
    result = app.send_task(
        "predictions.tasks.pipeline.run_predictions",
        args=[DAY.isoformat()],
        queue="inference",
        ignore_result=False,
    ).get(timeout=60)
    assert not result["ok"]
    run = PipelineRun.objects.get()
    assert not run.ok and "no features" in run.errors[0]


def test_it_drops_the_feature_matrix_once_the_forecasts_are_stored(platform, celery_worker_thread):
    from features import handoff

    inp = cycle_input(DAY, TICKERS, nan_share=0.0)
    handoff.write_matrix(platform, inp, inp.feature_names)
    key = handoff.MATRIX_KEY.format(DAY.isoformat())
    assert platform.exists(key)

    result = app.send_task(
        "predictions.tasks.pipeline.run_predictions",
        args=[DAY.isoformat()],
        queue="inference",
        ignore_result=False,
    ).get(timeout=60)

    assert result["ok"] and result["n_predicted"] == len(TICKERS)
    assert not platform.exists(key)  # at one cycle a second, 300 of them would pile up


def test_it_keeps_no_result_key_for_a_cycle_sent_as_beat_and_the_chain_send_it(
    platform, celery_worker_thread
):
    write_features(platform, cycle_input(DAY, TICKERS[:5]))
    sent = app.send_task(
        "predictions.tasks.pipeline.run_predictions", args=[DAY.isoformat()], queue="inference"
    )
    deadline = time.monotonic() + 60
    while not PipelineRun.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert PipelineRun.objects.get().ok
    time.sleep(0.5)  # the result, if any, is stored right after the run's row commits
    assert app.backend.get(app.backend.get_key_for_task(sent.id)) is None
    waited = app.send_task(
        "predictions.tasks.pipeline.run_predictions",
        args=[DAY.isoformat()],
        queue="inference",
        ignore_result=False,
    )
    assert waited.get(timeout=60)["ok"]  # a caller that asks still gets it
    assert app.backend.get(app.backend.get_key_for_task(waited.id)) is not None
