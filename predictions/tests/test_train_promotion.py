"""Weekly retrain: the promotion rule (not worse than the active MAE by more than 20%), the
recorded decision, and the task run by a real Celery worker on a small real price slice."""

from __future__ import annotations

import pytest
from django.conf import settings

from predictions.ml import registry
from predictions.ml.promotion import decide, record_decision
from predictions.models import ModelVersion
from predictions.tests.price_slices import write_slice

WINDOW = {"from": "2023-01-01", "to": "2025-07-09"}


def make(version: str, **kw) -> ModelVersion:
    path = f"/nowhere/{version}"
    return registry.register("normal", version, path, metrics={}, metadata={}, **kw)


def test_it_applies_the_twenty_percent_rule():
    assert decide(0.0119, 0.0100, 0.2)[0] is True
    assert decide(0.0120, 0.0100, 0.2)[0] is True  # exactly +20% is "not worse by more than"
    assert decide(0.0121, 0.0100, 0.2)[0] is False
    assert decide(0.0500, None, 0.2)[0] is True  # nothing to compare with


@pytest.mark.django_db
def test_it_keeps_the_active_model_when_the_candidate_is_much_worse():
    make("v1", activate=True)
    candidate = make("v2")
    decision = record_decision(
        candidate, registry.active_version("normal"), {"mae": 0.0130, "n": 10},
        {"mae": 0.0100, "n": 10}, WINDOW,
    )  # fmt: skip
    assert decision["promoted"] is False
    assert registry.active_version("normal").version == "v1"
    candidate.refresh_from_db()
    assert candidate.status == "candidate"
    assert candidate.metadata["promotion"]["active"]["version"] == "v1"
    assert "not promoted" in candidate.notes


@pytest.mark.django_db
def test_it_promotes_a_candidate_within_the_limit(settings):
    settings.MODEL_LIVE_ROLLOUT = False  # the direct path: activated at once
    make("v1", activate=True)
    candidate = make("v2")
    decision = record_decision(
        candidate, registry.active_version("normal"), {"mae": 0.0110}, {"mae": 0.0100}, WINDOW
    )
    assert decision["promoted"] is True
    assert registry.active_version("normal").version == "v2"
    assert ModelVersion.objects.get(version="v1").status == "retired"


@pytest.mark.django_db
def test_it_starts_a_live_rollout_in_shadow_for_a_candidate_past_the_offline_gate():
    from predictions.rollout.stages import current

    make("v1", activate=True)
    candidate = make("v2")
    decision = record_decision(
        candidate, registry.active_version("normal"), {"mae": 0.0110}, {"mae": 0.0100}, WINDOW
    )
    assert decision["offline_passed"] is True and decision["promoted"] is False
    assert decision["rollout"] == "shadow"
    assert registry.active_version("normal").version == "v1"  # still serving everyone
    rollout = current("normal")
    assert (rollout.candidate.version, rollout.previous.version) == ("v2", "v1")
    # A second candidate the same week waits: one rollout per kind at a time.
    third = make("v3")
    again = record_decision(
        third, registry.active_version("normal"), {"mae": 0.0100}, {"mae": 0.0100}, WINDOW
    )
    assert again["rollout"].startswith("busy")


def test_it_schedules_the_weekly_retrain_on_the_training_queue():
    from config.celery_app import app

    name = "predictions.tasks.training.weekly_retrain"
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-model-retrain"]
    assert entry["task"] == name
    assert name in app.tasks
    assert app.amqp.router.route({}, name)["queue"].name == "training"


def test_it_retrains_through_a_worker_and_records_the_decision(
    celery_worker_thread, settings, tmp_path
):
    from config.celery_app import app

    settings.MODELS_DIR = tmp_path / "models"
    prices = write_slice(tmp_path)
    kwargs = {
        "kinds": ["normal"],
        "prices": str(prices),
        "overrides": {"epochs": 1, "max_train_rows": 5000},
    }
    name = "predictions.tasks.training.weekly_retrain"
    first = app.send_task(name, kwargs=kwargs).get(timeout=400)["normal"]
    assert first["promoted"] is True and first["active"] is None
    assert registry.active_version("normal").version == first["candidate"]["version"]

    second = app.send_task(name, kwargs=kwargs).get(timeout=400)["normal"]
    assert second["active"]["version"] == first["candidate"]["version"]
    # Both scored on the same held-out rows.
    assert second["candidate"]["n"] == second["active"]["n"] > 1000
    expected = second["candidate"]["mae"] <= second["active"]["mae"] * 1.2
    # Past the offline gate, the candidate starts in shadow; the first version keeps serving.
    assert second["offline_passed"] is expected and second["promoted"] is False
    assert second["rollout"] == ("shadow" if expected else None)
    assert registry.active_version("normal").version == first["candidate"]["version"]
    stored = ModelVersion.objects.get(version=second["candidate"]["version"])
    assert stored.metadata["promotion"]["window"] == {"from": "2023-01-01", "to": "2025-07-09"}
