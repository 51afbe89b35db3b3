"""Faults with the real services: a worker killed mid-batch, Redis down, a broken model file."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings

from config.celery_app import app
from features.definitions import TECHNICAL_FEATURES
from ingestion.models import EarningsEvent, Symbol
from predictions.benchmarks.universe import (
    cycle_input,
    install_models,
    make_symbols,
    write_features,
)
from predictions.latest import is_stale
from predictions.models import PipelineRun, Prediction, PredictionRecord
from predictions.pipeline import runtime, status, toy_model
from predictions.pipeline.cycle import run_cycle

pytestmark = pytest.mark.django_db(transaction=True)

D1, D2, D3 = dt.date(2025, 7, 7), dt.date(2025, 7, 8), dt.date(2025, 7, 9)
TICKERS = [f"F{i:03d}" for i in range(40)]
ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def platform(tmp_path, redis_client):
    runtime.clear_cache()
    make_symbols(TICKERS)
    models = install_models(tmp_path)
    EarningsEvent.objects.create(
        symbol=Symbol.objects.get(ticker="F001"), date=D3, reaction_date=D3, source="test"
    )
    yield models
    runtime.clear_cache()


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


# --- (a) a worker killed mid-batch ----------------------------------------------------------

_WORKER = """
from config.celery_app import app
# Short visibility timeout so the unacknowledged message of a killed worker comes back within
# seconds (production: broker_transport_options in config/celery_app.py).
app.conf.broker_transport_options = {"visibility_timeout": 2}
app.worker_main(["worker", "-Q", "inference", "-P", "solo", "-n", "%s@test", "-l", "warning",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"])
"""


def _start_worker(name: str, failpoints: str = "") -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_NAME": connection.settings_dict["NAME"],  # the test database
        "TEST_REDIS_URL": settings.REDIS_URL,
        "PIPELINE_FAILPOINTS": failpoints,
        "INFERENCE_BATCH_SIZE": "256",
    }
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER % name], cwd=ROOT, env=env, start_new_session=True
    )


def test_it_redelivers_a_batch_whose_worker_was_killed_without_duplicates(platform, redis_client):
    write_features(redis_client, cycle_input(D2, TICKERS))
    first = _start_worker("doomed", failpoints="after_write_postgres=120")
    second = None
    try:
        app.send_task(
            "predictions.tasks.pipeline.run_predictions", args=[D2.isoformat()], queue="inference"
        )
        # The doomed worker commits its rows, then hangs before acknowledging the message.
        _wait(lambda: PredictionRecord.objects.count() == 40, 90, "the first worker's rows")
        assert not PipelineRun.objects.exists()  # still mid-cycle
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        # kombu restores unacknowledged messages on the 1st, 11th, 21st... pass of its periodic
        # check: start the rescuer only once the 2-s visibility timeout has passed, so its first
        # pass already finds the message instead of the 11th, minutes later.
        time.sleep(2.5)
        second = _start_worker("rescuer")
        _wait(lambda: PipelineRun.objects.exists(), 90, "the redelivered cycle")
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
    assert PredictionRecord.objects.count() == 40
    keys = PredictionRecord.objects.values_list("symbol_id", "data_timestamp", "model_version")
    assert len(set(keys)) == 40
    assert Prediction.objects.count() == 40
    run = PipelineRun.objects.get()
    assert run.ok and run.n_predicted == 40
    assert json.loads(redis_client.get(status.STATUS_KEY))["records_inserted"] == 0
    assert redis_client.exists("pred:F000")


# --- (b) Redis down ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _redis_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    _wait(lambda: _pings(client), 10, "redis-server")
    return proc


def _pings(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def test_it_writes_postgres_while_redis_is_down_and_recovers(platform):
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    layers = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                          "CONFIG": {"hosts": [url]}}}  # fmt: skip
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    server = _redis_server(port)
    try:
        with override_settings(CHANNEL_LAYERS=layers):
            ok, _ = run_cycle(cycle_input(D1, TICKERS), redis_client=client)
            assert ok.errors == [] and client.exists("pred:F000")
            server.terminate()
            server.wait(10)
            down, _ = run_cycle(cycle_input(D2, TICKERS, seed=1), redis_client=client)
            assert down.n_predicted == 40 and down.records_inserted == 40
            assert any(e.startswith("redis write") for e in down.errors)
            assert {p.data_timestamp.date() for p in Prediction.objects.all()} == {D2}
            failed = PipelineRun.objects.get(data_date=D2)
            assert not failed.ok and "redis write" in failed.errors[0]
            server = _redis_server(port)  # Redis is back (empty, like after a restart)
            back, _ = run_cycle(cycle_input(D3, TICKERS, seed=2), redis_client=client)
    finally:
        server.terminate()
        server.wait(10)
    assert back.errors == [] and back.redis_written == 40
    assert PipelineRun.objects.get(data_date=D3).ok
    assert PredictionRecord.objects.count() == 120


# --- (c) a missing or corrupt model file -------------------------------------------------


def test_it_keeps_the_last_good_predictions_when_the_model_is_corrupt(platform, redis_client):
    good, _ = run_cycle(cycle_input(D1, TICKERS), redis_client=redis_client)
    assert good.ok
    last_good = json.loads(redis_client.get("pred:F000"))
    model_file = Path(platform["normal"].artifact_path) / "model.onnx"
    model_file.write_bytes(model_file.read_bytes()[:100])  # truncated upload
    redis_client.delete("pred:F000")  # as if its TTL ran out during the outage
    bad, _ = run_cycle(cycle_input(D2, TICKERS, seed=1), redis_client=redis_client)
    assert any("normal model" in e and "cannot be served" in e for e in bad.errors)
    # Only F001 (earnings reaction on D3 = the day after D2) is predicted: its model is fine.
    assert bad.n_predicted == 1 and bad.n_earnings == 1
    run = PipelineRun.objects.get(data_date=D2)
    assert not run.ok and "cannot be served" in run.errors[0]
    assert json.loads(redis_client.get(status.STATUS_KEY))["ok"] is False
    row = Prediction.objects.get(symbol__ticker="F000")
    assert row.data_timestamp.date() == D1  # last good prediction kept
    served = json.loads(redis_client.get("pred:F000"))  # and still served from Redis
    assert served["predicted_at"] == last_good["predicted_at"]
    assert served["predicted_return_1d"] == pytest.approx(last_good["predicted_return_1d"])
    stale_after = dt.timedelta(seconds=settings.PREDICTION_STALE_SECONDS + 1)
    assert not is_stale(served["predicted_at"], now=row.predicted_at)
    assert is_stale(served["predicted_at"], now=row.predicted_at + stale_after)
    model_file.unlink()
    missing, _ = run_cycle(cycle_input(D2, TICKERS, seed=1), redis_client=redis_client)
    assert any("missing" in e for e in missing.errors)
    toy_model.install(model_file.parent.parent, "normal", "v2", list(TECHNICAL_FEATURES))
    fixed, _ = run_cycle(cycle_input(D2, TICKERS, seed=1), redis_client=redis_client)
    assert fixed.ok and Prediction.objects.get(symbol__ticker="F000").model_version == "v2"


def test_it_serves_earnings_day_symbols_with_the_normal_model_when_earnings_is_broken(
    platform, redis_client
):
    (Path(platform["earnings"].artifact_path) / "model.onnx").unlink()
    result, _ = run_cycle(cycle_input(D2, TICKERS), redis_client=redis_client)
    assert result.n_earnings == 1 and result.n_predicted == 40
    assert any(e.startswith("earnings model") for e in result.errors)
    assert Prediction.objects.get(symbol__ticker="F001").model_type == "normal_day"
