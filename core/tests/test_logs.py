"""Structured logs: the JSON/text line formats, and one correlation id through a live cycle
(ingest -> features -> inference -> writes/publish) and from an API request to its job."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.test import Client

from core import logs
from core.tests.live_cycle import prepare, run_live_cycle


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.addFilter(logs.CorrelationFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def of(self, logger: str, text: str = "") -> list[logging.LogRecord]:
        return [r for r in self.records if r.name == logger and text in r.getMessage()]


@pytest.fixture
def captured() -> Iterator[_Capture]:
    handler = _Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # a test Celery worker's start-up lowers the root to ERROR
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def _record(msg: str, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord(
        "predictions.pipeline.cycle", logging.INFO, __file__, 1, msg, (), None
    )
    record.__dict__.update(extra)
    return record


def test_it_writes_one_json_object_per_line_with_the_correlation_id() -> None:
    token = logs.set_id("01JHQM7Z3F2WK9V8N6A2XYZ")
    try:
        record = _record("Prediction completed", symbol="NVDA", inference_time_ms=18)
        logs.CorrelationFilter().filter(record)
    finally:
        logs.reset(token)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["correlation_id"] == "01JHQM7Z3F2WK9V8N6A2XYZ"
    assert line["level"] == "INFO" and line["msg"] == "Prediction completed"
    assert line["symbol"] == "NVDA" and line["inference_time_ms"] == 18
    assert line["timestamp"].endswith("Z") and line["logger"] == "predictions.pipeline.cycle"


def test_it_chooses_the_format_from_log_format() -> None:
    assert logs.logging_config("json", "INFO")["formatters"]["main"] == {
        "()": "core.logs.JsonFormatter"
    }
    text = logs.logging_config("text", "INFO")["formatters"]["main"]["format"]
    assert "%(correlation_id)s" in text


def test_it_makes_time_ordered_ulids() -> None:
    first = logs.new_id()
    time.sleep(0.002)
    second = logs.new_id()
    assert len(first) == len(second) == 26 and first[:10] <= second[:10] and first != second


@pytest.mark.django_db(transaction=True)
def test_it_carries_one_id_through_a_live_cycle(
    tmp_path, settings, redis_client, celery_worker_thread, captured
) -> None:
    prepare(tmp_path, settings)
    run_live_cycle()
    time.sleep(0.5)  # the last log line follows the commit the test waited for
    stages = [
        captured.of("ingestion.tasks", "live cycle"),
        captured.of("features.tasks", "symbols written"),
        captured.of("predictions.pipeline.cycle", "written and published"),
        captured.of("predictions.tasks.pipeline", "run_predictions"),
    ]
    assert all(stages), [len(s) for s in stages]
    ids = {r.correlation_id for stage in stages for r in stage}
    assert len(ids) == 1 and None not in ids, ids
    written = stages[2][0]
    assert written.n_predicted == 2 and "write_postgres" in written.stages_ms


@pytest.mark.django_db(transaction=True)
def test_it_carries_an_api_requests_id_into_its_explanation_job(
    tmp_path, users, redis_client, celery_worker_thread, captured
) -> None:
    from explanations.models import Explanation
    from explanations.tests.conftest import build_onnx, make_prediction
    from predictions.models import ModelVersion

    directory = build_onnx(tmp_path / "normal" / "test-linear-1")
    ModelVersion.objects.create(
        kind="normal", version="test-linear-1", artifact_path=str(directory), status="active"
    )
    make_prediction("NVDA")
    sent: list[dict[str, Any]] = []

    def record(sender: str | None = None, headers: dict[str, Any] | None = None, **kw: Any) -> None:
        if sender == "explanations.tasks.generate_explanation":
            sent.append(dict(headers or {}))

    client = Client()
    client.force_login(users[0])
    before_task_publish.connect(record, weak=False)
    try:
        response = client.post(
            "/api/explanation/NVDA",
            {"depth": "fast"},
            content_type="application/json",
            HTTP_X_CORRELATION_ID="req-7f3a9c",
        )
    finally:
        before_task_publish.disconnect(record)
    assert response.status_code == 202, response.content
    assert response["X-Correlation-ID"] == "req-7f3a9c"
    assert [h[logs.HEADER] for h in sent] == ["req-7f3a9c"]
    job = Explanation.objects.get(symbol="NVDA")
    deadline = time.monotonic() + 400  # a cold embedding model on a loaded machine
    while time.monotonic() < deadline and job.status not in ("completed", "failed"):
        time.sleep(0.5)
        job.refresh_from_db()
    assert job.status == "completed", (job.status, job.error)
    time.sleep(0.5)  # the log line follows the status update
    done = captured.of("explanations.tasks", "completed")
    assert done and done[0].correlation_id == "req-7f3a9c"


def test_it_answers_a_new_id_when_the_request_has_none_or_a_bad_one(db) -> None:
    first = Client().get("/healthz")["X-Correlation-ID"]
    bad = Client().get("/healthz", HTTP_X_CORRELATION_ID="x" * 200 + "\n")["X-Correlation-ID"]
    assert len(first) == 26 and len(bad) == 26 and first != bad
