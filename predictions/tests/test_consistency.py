"""The hourly Redis-vs-PostgreSQL consistency job on a real worker: counts, repairs, record,
exported mismatch share."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.conf import settings
from prometheus_client import REGISTRY

from predictions import cache, consistency
from predictions.benchmarks.universe import make_symbols
from predictions.latest import ROW_FIELDS, LatestPrediction
from predictions.models import ConsistencyRun, Prediction
from predictions.pipeline.writer import repopulate_redis
from predictions.tests.api_support import store_prediction

pytestmark = pytest.mark.django_db(transaction=True)
TICKERS = [f"C{i:03d}" for i in range(100)]


@pytest.fixture
def in_sync(redis_client):
    """100 PostgreSQL predictions, each copied into Redis as the pipeline would."""
    from ingestion.models import Symbol

    make_symbols(TICKERS)
    for symbol in Symbol.objects.filter(ticker__in=TICKERS):
        store_prediction(symbol)
    assert repopulate_redis(redis_client) == len(TICKERS)
    return redis_client


def _payload(ticker: str) -> dict[str, Any]:
    row = Prediction.objects.filter(symbol__ticker=ticker).values(*ROW_FIELDS).get()
    return LatestPrediction.from_row(row).to_json()


def _run() -> dict[str, Any]:
    from config.celery_app import app

    name = "predictions.tasks.consistency.check_cache_consistency"
    return dict(app.send_task(name).get(timeout=60))


def test_it_finds_and_repairs_mismatches_and_records_the_run(in_sync, celery_worker_thread):
    client = in_sync
    for ticker in ("C001", "C002"):  # an older prediction left behind by a failed write
        older = dict(_payload(ticker), model_version="v-old", predicted_return_1d=0.05)
        client.set(cache.pred_key(ticker), json.dumps(older), ex=120)
    client.set(cache.pred_key("C003"), b"{not json", ex=120)  # unreadable
    client.delete(*[cache.pred_key(t) for t in ("C010", "C011", "C012")])  # expired
    newer_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    ahead = dict(_payload("C020"), predicted_at=newer_at.isoformat().replace("+00:00", "Z"))
    client.set(cache.pred_key("C020"), json.dumps(ahead), ex=120)  # a cycle in flight

    result = _run()

    run = ConsistencyRun.objects.get(pk=result["run_id"])
    assert (run.checked, run.matched, run.mismatched, run.missing, run.ahead) == (100, 93, 3, 3, 1)
    assert run.repaired == 6 and run.mismatch_ratio == pytest.approx(0.03) and not run.error
    assert {e["symbol"] for e in run.examples} == {"C001", "C002", "C003"}
    assert "model_version" in next(e for e in run.examples if e["symbol"] == "C001")["fields"]
    for ticker in ("C001", "C003", "C011"):
        assert json.loads(client.get(cache.pred_key(ticker))) == _payload(ticker)
        assert 0 < client.ttl(cache.pred_key(ticker)) <= cache.TTL_SECONDS
    assert json.loads(client.get(cache.pred_key("C020"))) == ahead  # newer value kept
    assert REGISTRY.get_sample_value("stockpred_consistency_mismatch_ratio") == pytest.approx(0.03)

    again = _run()
    assert again["mismatched"] == 0 and again["missing"] == 0 and again["repaired"] == 0
    assert REGISTRY.get_sample_value("stockpred_consistency_mismatch_ratio") == 0.0


def test_it_never_overwrites_a_value_written_after_it_was_read(in_sync):
    """The repair is a compare-and-set: a cycle's write between read and repair wins."""
    client = in_sync
    key = cache.pred_key("C005")
    read = client.get(key)
    client.set(key, b'{"predicted_at": "newer"}')
    cas = client.register_script(consistency._CAS_LUA)
    assert cas(keys=[key], args=[read, json.dumps(_payload("C005")), 120]) == 0
    assert client.get(key) == b'{"predicted_at": "newer"}'
    assert cas(keys=[key], args=[b'{"predicted_at": "newer"}', b"{}", 120]) == 1


def test_it_records_a_redis_outage_as_the_runs_error(in_sync):
    import redis

    run = consistency.run(redis.Redis.from_url("redis://127.0.0.1:1/0", socket_timeout=0.5))
    assert run.error.startswith("Redis unavailable") and run.checked == 0


def test_it_is_scheduled_hourly_on_the_ingest_queue() -> None:
    from config.celery_app import app

    entry = settings.CELERY_BEAT_SCHEDULE["prediction-cache-consistency"]
    assert entry["task"] == "predictions.tasks.consistency.check_cache_consistency"
    assert str(entry["schedule"].hour) == str(set(range(24)))
    assert app.amqp.router.route({}, entry["task"])["queue"].name == "ingest"
