"""After one live cycle on a real worker, the pipeline's metrics are at the worker's endpoint
and the web server's ``/metrics``, and a real Prometheus scrapes and answers them."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from celery.signals import worker_process_init
from django.test import Client

from core import metrics
from core.apps import _serve_worker_metrics
from core.tests.live_cycle import TICKERS, fetch, prepare, run_live_cycle, samples, value
from core.tests.test_dashboards import expressions as dashboard_expressions
from worker import prometheus

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def worker_metrics(monkeypatch) -> Iterator[int]:
    """The worker's metrics server, started the way a pool process starts it."""
    monkeypatch.setenv("CELERY_METRICS_PORT", str(_free_port()))
    _serve_worker_metrics()
    port = int(metrics._servers[-1].server_address[1])
    yield port
    metrics.stop_worker_metrics()


def test_it_starts_the_worker_metrics_server_in_every_pool_process() -> None:
    connected = worker_process_init.receivers
    receivers = [ref() if isinstance(ref, weakref.ref) else ref for _key, ref in connected]
    assert _serve_worker_metrics in receivers


PIPELINE = [  # (name, labels) every live cycle moves
    ("stockpred_ingest_rows_total", {"outcome": "received"}),
    ("stockpred_ingest_rows_total", {"outcome": "accepted"}),
    ("stockpred_ingest_cycle_seconds_count", {"provider": "replay"}),
    ("stockpred_features_update_seconds_count", {}),
    ("stockpred_inference_rows_total", {"kind": "normal"}),
    ("stockpred_inference_batch_seconds_count", {"kind": "normal"}),
    ("stockpred_dual_write_seconds_count", {"sink": "postgres"}),
    ("stockpred_dual_write_seconds_count", {"sink": "redis"}),
    ("stockpred_publish_seconds_count", {}),
    ("stockpred_prediction_cycle_seconds_count", {}),
]


def test_it_exports_one_live_cycle_at_the_worker_and_web_endpoints(
    tmp_path, settings, redis_client, celery_worker_thread, worker_metrics
) -> None:
    prepare(tmp_path, settings)
    url = f"http://127.0.0.1:{worker_metrics}/metrics"
    before = samples(fetch(url))
    run_live_cycle()
    after = samples(fetch(url))
    for name, labels in PIPELINE:
        assert value(after, name, **labels) > value(before, name, **labels), (name, labels)
    grown = value(after, "stockpred_ingest_rows_total", outcome="accepted") - value(
        before, "stockpred_ingest_rows_total", outcome="accepted"
    )
    assert grown == len(TICKERS)
    assert value(after, "stockpred_features_symbols") == len(TICKERS)
    assert value(after, "stockpred_publish_messages_total") > value(
        before, "stockpred_publish_messages_total"
    )
    assert time.time() - value(after, "stockpred_features_last_update_timestamp_seconds") < 300

    web = Client().get("/metrics")
    assert web.status_code == 200
    found = samples(web.content.decode())
    assert value(found, "stockpred_predictions_symbols", state="total") == len(TICKERS)
    assert value(found, "stockpred_predictions_symbols", state="fresh") == len(TICKERS)
    assert 0 <= value(found, "stockpred_newest_prediction_age_seconds") < 300
    assert value(found, "stockpred_model_active_info", kind="normal", version="v1") == 1
    assert value(found, "stockpred_redis_up") == 1 and value(found, "stockpred_db_up") == 1
    assert value(found, "stockpred_db_connections") >= 1
    assert value(found, "stockpred_db_max_connections") >= value(found, "stockpred_db_connections")
    assert ("stockpred_celery_queue_length", (("queue", "inference"),)) in found
    assert value(found, "stockpred_redis_memory_limit_bytes") > value(
        found, "stockpred_redis_memory_used_bytes"
    )


def _query(base: str, promql: str) -> list[dict[str, Any]]:
    body = json.loads(fetch(f"{base}/api/v1/query?query={urllib.parse.quote(promql)}"))
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def _wait_for(base: str, promql: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = _query(base, promql)
        except OSError:
            result = []
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"Prometheus never answered {promql}")


@pytest.mark.skipif(prometheus.binary() is None, reason="prometheus absent: `make prometheus`")
def test_it_is_scraped_by_a_real_prometheus(
    tmp_path, settings, redis_client, celery_worker_thread, worker_metrics, live_server
) -> None:
    prepare(tmp_path, settings)
    run_live_cycle()
    web = live_server.url.removeprefix("http://")
    config = prometheus.render_config(
        tmp_path / "prometheus",
        web_target=web,
        worker_targets={"test": f"127.0.0.1:{worker_metrics}"},
        scrape_interval="1s",
    )
    listen = f"127.0.0.1:{_free_port()}"
    process = subprocess.Popen(
        prometheus.command(config, listen=listen),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://{listen}"
    try:
        rows = _wait_for(base, 'stockpred_inference_rows_total{job="workers",kind="normal"}')
        assert float(rows[0]["value"][1]) >= 1 and rows[0]["metric"]["worker"] == "test"
        symbols = _wait_for(base, 'stockpred_predictions_symbols{job="web",state="total"}')
        assert float(symbols[0]["value"][1]) == len(TICKERS)
        staleness = _wait_for(
            base, "time() - max(stockpred_features_last_update_timestamp_seconds)"
        )
        assert float(staleness[0]["value"][1]) < 300
        for expr in dashboard_expressions():  # every Grafana query evaluates without error
            _query(base, expr)
        rules = json.loads(fetch(f"{base}/api/v1/rules"))["data"]["groups"]
        alerts = [r for g in rules for r in g["rules"] if r["type"] == "alerting"]
        assert len(alerts) == 13 and all(r["health"] != "err" for r in alerts)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(tmp_path / "prometheus", ignore_errors=True)
