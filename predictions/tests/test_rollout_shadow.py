"""Shadow runs (issue 22): the candidate predicts every symbol in the same cycle, its forecasts
are stored and realised, and they never reach a user-facing surface (Redis ``pred:``, the
``Prediction`` rows, the history API, the WebSocket groups, the accuracy figures)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers
from rest_framework.test import APIClient

from core.groups import prediction_group
from ingestion.models import EarningsEvent, Symbol
from predictions.accuracy import record_realised, rolling_accuracy
from predictions.benchmarks.universe import cycle_input, install_models, make_symbols
from predictions.models import Prediction, PredictionRecord, ShadowRecord
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle
from predictions.rollout import stages
from predictions.tests.api_support import access_token
from predictions.tests.rollout_support import candidate, realise_day
from testkit import make_users

pytestmark = pytest.mark.django_db(transaction=True)

DAY, NEXT = dt.date(2025, 7, 8), dt.date(2025, 7, 9)
TICKERS = [f"S{i:03d}" for i in range(60)]


@pytest.fixture
def shadowed(tmp_path, redis_client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "capacity": 5000, "expiry": 30},
        }
    }
    runtime.clear_cache()
    make_symbols(TICKERS)
    install_models(tmp_path, horizons=True)
    EarningsEvent.objects.create(
        symbol=Symbol.objects.get(ticker="S001"), date=NEXT, reaction_date=NEXT, source="test"
    )
    for kind, version in (("normal", "c1"), ("earnings", "c1"), ("horizon_5d", "c1-5d")):
        candidate(tmp_path, kind, version)
        stages.start(kind, version)
    yield redis_client
    runtime.clear_cache()


def _watch(ticker: str):
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    loop = asyncio.new_event_loop()
    channel = loop.run_until_complete(layer.new_channel())
    loop.run_until_complete(layer.group_add(prediction_group(ticker), channel))
    return layer, loop, channel


def test_it_stores_the_shadow_forecasts_of_every_symbol(shadowed):
    result, _ = run_cycle(cycle_input(DAY, TICKERS), redis_client=shadowed)
    assert result.errors == []
    rows = ShadowRecord.objects.filter(model_version__startswith="c1")
    assert rows.filter(model_type="normal_day").count() == 59
    assert rows.filter(model_type="earnings_day").count() == 1
    assert rows.filter(model_type="horizon_5d", target_date=dt.date(2025, 7, 15)).count() == 60
    assert result.shadow_records_inserted == 120
    assert result.rollouts["normal"]["stage"] == "shadow"
    # Idempotent like the served records: a redelivered cycle adds nothing.
    again, _ = run_cycle(cycle_input(DAY, TICKERS), redis_client=shadowed)
    assert again.shadow_records_inserted == 0


def test_it_never_serves_a_shadow_forecast(shadowed):
    layer, loop, channel = _watch("S007")
    run_cycle(cycle_input(DAY, TICKERS), redis_client=shadowed)
    message = loop.run_until_complete(asyncio.wait_for(layer.receive(channel), 5))
    loop.run_until_complete(layer.flush())
    loop.close()
    assert message["payload"]["model_version"] == "v1"
    assert message["payload"]["horizons"]["5"]["model_version"] == "v1-5d"
    for ticker in TICKERS:
        cached = json.loads(shadowed.get(f"pred:{ticker}"))
        assert cached["model_version"] == "v1"
        assert cached["horizons"]["5"]["model_version"] == "v1-5d"
    assert set(Prediction.objects.values_list("model_version", flat=True)) == {"v1"}
    served = set(PredictionRecord.objects.values_list("model_version", flat=True))
    assert served == {"v1", "v1-5d", "v1-20d"}


def test_it_keeps_shadow_forecasts_out_of_the_history_api_and_accuracy(shadowed):
    # Days no other test uses: the continuous aggregate keeps buckets across flushed tests.
    day, target = dt.date(2024, 3, 5), dt.date(2024, 3, 6)
    run_cycle(cycle_input(day, TICKERS), redis_client=shadowed)
    realise_day(target, TICKERS)
    assert record_realised(target) == 60  # the served records
    assert ShadowRecord.objects.filter(realised_return__isnull=False).count() == 0
    assert stages.realise_pending() == 60  # the shadow ones, by the rollout gate
    assert ShadowRecord.objects.filter(realised_return__isnull=False).count() == 60
    _, _, charlie = make_users()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(charlie)}")
    body = client.get("/api/prediction/S007/history").json()
    items = body["results"] if isinstance(body, dict) else body
    assert items and {r["model_version"] for r in items} == {"v1"}
    assert rolling_accuracy(as_of=target)["normal"]["24h"]["n"] == 60  # served records only


def test_it_keeps_serving_when_the_shadow_version_cannot_load(shadowed, tmp_path):
    (tmp_path / "normal" / "c1" / "model.onnx").unlink()
    runtime.clear_cache()
    result, _ = run_cycle(cycle_input(DAY, TICKERS), redis_client=shadowed)
    assert any("not shadowed" in e for e in result.errors)
    assert result.n_predicted == 60
    assert set(Prediction.objects.values_list("model_version", flat=True)) == {"v1"}
    assert not ShadowRecord.objects.filter(model_type="normal_day").exists()
    assert ShadowRecord.objects.filter(model_type="earnings_day").count() == 1
