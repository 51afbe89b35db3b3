"""Dual write: Redis ``pred:{SYMBOL}`` + PostgreSQL, idempotent; publish to Channels groups."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import numpy as np
import pytest
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers

from core.groups import prediction_group
from ingestion.models import EarningsEvent, Symbol
from predictions.benchmarks.universe import cycle_input, install_models, make_symbols
from predictions.models import PipelineRun, Prediction, PredictionRecord
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle
from predictions.pipeline.records import PredictionBatch

pytestmark = pytest.mark.django_db(transaction=True)

DAY = dt.date(2025, 7, 8)
NEXT = dt.date(2025, 7, 9)
TICKERS = [f"S{i:03d}" for i in range(60)]
KEYS = {
    "symbol", "current_price", "predicted_return_1d", "predicted_price", "uncertainty_sigma",
    "p10", "p50", "p90", "uncertainty_method", "model_type", "model_version", "predicted_at",
    "data_timestamp", "ood",
}  # fmt: skip


@pytest.fixture
def platform(tmp_path, redis_client):
    runtime.clear_cache()
    make_symbols(TICKERS)
    install_models(tmp_path)
    EarningsEvent.objects.create(
        symbol=Symbol.objects.get(ticker="S001"), date=NEXT, reaction_date=NEXT, source="test"
    )
    yield redis_client
    runtime.clear_cache()


def test_it_writes_redis_and_postgres_with_the_contract_keys(platform):
    inp = cycle_input(DAY, TICKERS)
    inp.X[1, inp.feature_names.index("roic")] = np.nan  # S001 lacks one earnings value
    result, _ = run_cycle(inp, redis_client=platform)
    assert result.errors == []
    assert result.n_predicted == 60 and result.n_earnings == 1
    raw = platform.get("pred:S001")
    payload = json.loads(raw)
    assert set(payload) == KEYS
    assert payload["model_type"] == "earnings_day"
    assert payload["data_timestamp"] == "2025-07-08T00:00:00Z"
    assert payload["predicted_at"].endswith("Z")
    assert 0 < platform.ttl("pred:S001") <= 120
    assert json.loads(platform.get("pred:S002"))["model_type"] == "normal_day"
    sigma = (payload["p90"] - payload["p10"]) / (2 * 1.2815516)
    assert payload["uncertainty_sigma"] == pytest.approx(sigma, abs=2e-6)
    close = inp.close[1]
    assert payload["predicted_price"] == pytest.approx(
        close * (1 + payload["predicted_return_1d"]), rel=1e-4
    )
    row = Prediction.objects.get(symbol__ticker="S001")
    assert row.earnings_context is not None
    assert (
        row.model_type == "earnings_day" and row.earnings_context["reaction_date"] == "2025-07-09"
    )
    # The snapshot holds the symbol's stored features, whatever model served it (the per-day
    # ranks follow from the cycle's rows); missing ones are left out, like features:{SYMBOL}.
    for i in (1, 2):
        stored = dict(zip(inp.feature_names, inp.X[i].tolist(), strict=True))
        expected = {f: v for f, v in stored.items() if v == v}
        snapshot = Prediction.objects.get(symbol__ticker=TICKERS[i]).features_snapshot
        assert snapshot == pytest.approx(expected, abs=1e-6)
    assert "roic" not in Prediction.objects.get(symbol__ticker="S001").features_snapshot
    assert Prediction.objects.get(symbol__ticker="S002").earnings_context is None
    assert Prediction.objects.count() == 60
    record = PredictionRecord.objects.get(symbol__ticker="S001")
    assert record.target_date == NEXT and record.model_version == "v1"
    assert record.predicted_return_1d == pytest.approx(row.predicted_return_1d)
    assert PipelineRun.objects.get().ok


def test_it_is_idempotent_by_symbol_day_and_model_version(platform):
    inp = cycle_input(DAY, TICKERS)
    first, _ = run_cycle(inp, redis_client=platform)
    again, _ = run_cycle(inp, redis_client=platform)
    assert first.records_inserted == 60 and again.records_inserted == 0
    assert PredictionRecord.objects.count() == 60
    assert Prediction.objects.count() == 60
    later, _ = run_cycle(cycle_input(NEXT, TICKERS, seed=1), redis_client=platform)
    assert later.records_inserted == 60
    assert PredictionRecord.objects.count() == 120
    assert set(Prediction.objects.values_list("data_timestamp", flat=True)) == {
        dt.datetime(2025, 7, 9, tzinfo=dt.UTC)
    }


def test_it_never_rolls_a_symbol_back_to_an_older_day(platform):
    run_cycle(cycle_input(NEXT, TICKERS, seed=1), redis_client=platform)
    newest = Prediction.objects.get(symbol__ticker="S005").predicted_return_1d
    run_cycle(cycle_input(DAY, TICKERS, seed=2), redis_client=platform)  # a late redelivery
    row = Prediction.objects.get(symbol__ticker="S005")
    assert row.data_timestamp.date() == NEXT and row.predicted_return_1d == newest
    assert PredictionRecord.objects.count() == 120  # the history still gets the older day


def test_it_skips_unknown_tickers_and_non_finite_closes(platform):
    inp = cycle_input(DAY, [*TICKERS, "NOPE"])
    inp.close[3] = np.nan
    result, _ = run_cycle(inp, redis_client=platform)
    assert Prediction.objects.count() == 59
    assert not Prediction.objects.filter(symbol__ticker="S003").exists()
    assert any("without a finite" in e for e in result.errors)


@pytest.fixture
def core_layer(settings):
    """channels_redis' default layer (CHANNEL_LAYER=core), whose groups the publisher can
    inspect in bulk to send only to watched symbols."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "capacity": 5000, "expiry": 30},
        }
    }


def test_it_publishes_one_update_to_each_watched_symbol_group(platform, core_layer):
    # A layer instance of its own, like a Daphne process subscribing a WebSocket client.
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    loop = asyncio.new_event_loop()
    channel = loop.run_until_complete(layer.new_channel())
    loop.run_until_complete(layer.group_add(prediction_group("S007"), channel))
    result, _ = run_cycle(cycle_input(DAY, TICKERS), redis_client=platform)
    assert result.published == 1  # only the watched group is sent to
    message = loop.run_until_complete(asyncio.wait_for(layer.receive(channel), 5))
    loop.run_until_complete(layer.flush())
    loop.close()
    assert message["type"] == "prediction.update"
    assert message["payload"]["symbol"] == "S007"
    assert set(message["payload"]) == KEYS


def test_it_delivers_to_a_channel_watching_several_symbols(platform, core_layer):
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    loop = asyncio.new_event_loop()
    channel = loop.run_until_complete(layer.new_channel())
    for ticker in ("S010", "S011"):
        loop.run_until_complete(layer.group_add(prediction_group(ticker), channel))
    result, _ = run_cycle(cycle_input(DAY, TICKERS), redis_client=platform)
    received = {
        loop.run_until_complete(asyncio.wait_for(layer.receive(channel), 5))["payload"]["symbol"]
        for _ in range(2)
    }
    loop.run_until_complete(layer.flush())
    loop.close()
    assert result.published == 2 and received == {"S010", "S011"}


def _batch(**override) -> PredictionBatch:
    n = 3
    q = np.array([[-0.01, 0.001, 0.012], [-0.02, 0.0, 0.02], [-0.005, 0.002, 0.009]])
    columns = {
        "tickers": np.array(["A\"B", "BRK.B", "C"]),
        "current_price": np.array([10.0, 411.5, 3.25]),
        "predicted_return": q[:, 1],
        "p10": q[:, 0], "p50": q[:, 1], "p90": q[:, 2],
        "sigma": (q[:, 2] - q[:, 0]) / 2.5631032,
        "model_type": np.full(n, "normal_day", dtype=object),
        "model_version": np.full(n, "v\\1", dtype=object),
        "uncertainty_method": np.full(n, "quantile_conformal", dtype=object),
        "data_timestamp": dt.datetime(2025, 7, 8, tzinfo=dt.UTC),
        "target_date": NEXT,
        "predicted_at": dt.datetime(2025, 7, 9, 1, 2, 3, tzinfo=dt.UTC),
    }  # fmt: skip
    columns.update(override)
    return PredictionBatch(**columns)


def test_it_serialises_payloads_exactly_like_json_dumps():
    batch = _batch()
    for text in batch.payload_json():
        assert json.dumps(json.loads(text), separators=(",", ":")) == text
    assert batch.payload(0)["symbol"] == 'A"B' and batch.payload(1)["model_version"] == "v\\1"
    assert batch.payload(2)["predicted_price"] == round(3.25 * 1.002, 4)


def test_it_encodes_each_feed_frame_once_as_the_consumer_would():
    from predictions.benchmarks.write import synthetic_batch
    from predictions.consumers import update_message

    with_horizons = synthetic_batch(["AAA", 'Q"X', "ZZZ"], dt.date(2025, 7, 7), 1)
    for batch in (_batch(), with_horizons):
        for i in range(len(batch)):
            frame = json.loads(batch.update_frame(i))
            assert frame == update_message(batch.payload(i), None)
            assert frame["type"] == "prediction_update" and "horizons" not in frame
    assert "horizons" in with_horizons.payload(0)  # left out of the frame only


def test_it_refuses_a_batch_with_a_non_finite_number():
    with pytest.raises(ValueError, match="non-finite"):
        _batch(current_price=np.array([10.0, np.nan, 3.0]))


def test_it_publishes_through_a_layer_without_the_bulk_path(platform, settings):
    # The WebSocket feed's Pub/Sub layer (CHANNEL_LAYER=pubsub, the default): plain group_send.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "predictions.ws_layer.PubSubChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL]},
        }
    }
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    loop = asyncio.new_event_loop()
    channel = loop.run_until_complete(layer.new_channel())
    loop.run_until_complete(layer.group_add(prediction_group("S012"), channel))
    result, _ = run_cycle(cycle_input(DAY, TICKERS), redis_client=platform)
    message = loop.run_until_complete(asyncio.wait_for(layer.receive(channel), 5))
    loop.run_until_complete(layer.flush())
    loop.close()
    assert result.published == 60  # every group is sent to: the layer cannot tell who listens
    assert message["payload"]["symbol"] == "S012" and set(message["payload"]) == KEYS


def test_it_writes_exactly_the_record_fields_the_readers_use():
    from predictions import cache

    assert {"symbol", *cache.RECORD_FIELDS} == KEYS
