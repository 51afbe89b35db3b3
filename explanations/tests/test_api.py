"""The explanation API end to end: POST queues a job on the ``explain`` queue, a real Celery
worker runs it (the embedded llama.cpp model, the ONNX drivers, pgvector retrieval), GET shows
progress and then the checked explanation, which is also cached in Redis and stored."""

from __future__ import annotations

import json
import time

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from explanations.indexing import index_source
from explanations.models import Explanation
from explanations.tests.conftest import build_onnx, make_prediction


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def wait_for_completion(client: APIClient, symbol: str, timeout: float = 240.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        response = client.get(f"/api/explanation/{symbol}")
        seen.append(response.status_code)
        if response.status_code != 202:
            return response, seen
        assert response.json()["status"] == "processing"
        assert 0 <= response.json()["progress"] <= 1
        time.sleep(0.3)
    raise AssertionError(f"no result within {timeout}s: {seen[-5:]}")


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_job_on_a_worker_and_serves_the_result(
    celery_worker_thread, users, tmp_path, redis_client
):
    from predictions.models import ModelVersion

    alice = users[0]
    directory = build_onnx(tmp_path / "normal" / "test-linear-1")
    ModelVersion.objects.create(
        kind="normal", version="test-linear-1", artifact_path=str(directory), status="active"
    )
    make_prediction("NVDA")
    index_source("playbooks")
    client = client_for(alice)

    assert client.get("/api/explanation/NVDA").json() == {
        "status": "not_found",
        "message": "No explanation job found for NVDA",
    }
    with override_settings(LLM_BACKEND="llamacpp", LLM_MAX_TOKENS=24, LLM_THREADS=1):
        response = client.post("/api/explanation/nvda", {"depth": "medium"}, format="json")
        assert response.status_code == 202, response.content
        body = response.json()
        assert body["status"] == "processing" and body["job_id"].startswith("exp_")
        assert body["estimated_time_sec"] == 3
        # A second request while the job runs joins it instead of starting another.
        again = client.post("/api/explanation/NVDA", {}, format="json")
        assert again.status_code in (200, 202)
        result, _ = wait_for_completion(client, "NVDA")

    assert result.status_code == 200, result.content
    data = result.json()
    assert data["status"] == "completed" and data["job_id"] == body["job_id"]
    explanation = data["explanation"]
    assert set(explanation) >= {
        "text", "confidence", "key_drivers", "uncertainties", "sources", "generator",
        "grounding", "generated_at",
    }  # fmt: skip
    assert explanation["generator"] in ("llm", "template")
    assert explanation["grounding"]["passed"] is True  # what is shown was checked
    if explanation["generator"] == "template":
        assert explanation["text"].startswith("NVDA is predicted to")
    assert explanation["key_driver_details"][0]["feature"] == "rsi_14"
    assert explanation["key_drivers"][0].startswith("RSI (14 days) 62.50 (moves the forecast up")
    assert explanation["sources"] and all(
        set(s) >= {"title", "excerpt", "relevance"} for s in explanation["sources"]
    )
    assert 0.5 <= explanation["confidence"] <= 1

    job = Explanation.objects.get(job_id=body["job_id"])
    assert job.status == "completed" and job.result["text"] == explanation["text"]
    assert Explanation.objects.count() == 1
    cached = json.loads(redis_client.get("explanation:NVDA"))
    assert cached["explanation_text"] == explanation["text"]
    assert 0 < redis_client.ttl("explanation:NVDA") <= 300

    # A fresh cached explanation answers the next POST at once.
    hit = client.post("/api/explanation/NVDA", {"depth": "fast"}, format="json")
    assert hit.status_code == 200 and hit.json()["status"] == "completed"
    assert hit.json()["explanation"]["text"] == explanation["text"]

    # After the cache expires PostgreSQL still serves it.
    redis_client.delete("explanation:NVDA")
    stored = client.get("/api/explanation/NVDA")
    assert stored.status_code == 200 and stored.json()["explanation"]["text"] == explanation["text"]


@pytest.mark.django_db
def test_it_validates_the_request(users, redis_client, prediction):
    client = client_for(users[0])
    bad = client.post("/api/explanation/NVDA", {"depth": "extreme"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid"
    assert "depth" in bad.json()["error"]["details"]["fields"]
    unknown = client.post("/api/explanation/ZZZZ", {}, format="json")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert Explanation.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_symbol_without_prediction(users, redis_client):
    from ingestion.models import Symbol

    Symbol.objects.create(ticker="AAPL")
    response = client_for(users[0]).post("/api/explanation/AAPL", {}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_prediction"


@pytest.mark.django_db
def test_it_requires_authentication(redis_client):
    response = APIClient().get("/api/explanation/NVDA")
    assert response.status_code == 401
    assert "error" in response.json()


@pytest.mark.django_db
def test_it_reports_a_failed_job(users, redis_client):
    Explanation.objects.create(job_id="exp_failed", symbol="NVDA", status="failed", error="x")
    response = client_for(users[0]).get("/api/explanation/NVDA")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "explanation_failed"
