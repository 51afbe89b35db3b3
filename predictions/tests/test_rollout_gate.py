"""The live gate (issue 22): a deliberately worse candidate is rolled back automatically on
realised data by the beat task, a sound one moves shadow -> canary -> full -> done, and each
change is recorded with its figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings

from predictions.accuracy import record_realised
from predictions.benchmarks.universe import cycle_input, install_models, make_symbols
from predictions.ml import registry
from predictions.models import ModelDecision, ModelRollout, ModelVersion
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle
from predictions.pipeline.days import next_trading_day
from predictions.rollout import stages
from predictions.tests.rollout_support import candidate, realise_day

pytestmark = pytest.mark.django_db(transaction=True)

TICKERS = [f"S{i:03d}" for i in range(120)]
DAYS = [dt.date(2025, 6, 30), dt.date(2025, 7, 1), dt.date(2025, 7, 2)]


@pytest.fixture
def platform(tmp_path, redis_client, settings):
    settings.MODEL_ROLLOUT_MIN_N = 100
    settings.MODEL_SHADOW_DAYS = settings.MODEL_CANARY_DAYS = 2
    settings.MODEL_FULL_WATCH_DAYS = 2
    runtime.clear_cache()
    make_symbols(TICKERS)
    install_models(tmp_path)
    yield tmp_path, redis_client
    runtime.clear_cache()


def _live_days(client, days=DAYS) -> None:
    """Cycles of ``days``, each followed by the outcome of its target day."""
    for i, day in enumerate(days):
        run_cycle(cycle_input(day, TICKERS, seed=i), redis_client=client, realise=False)
        target = next_trading_day(day)
        realise_day(target, TICKERS, seed=i)
        record_realised(target)


def test_it_rolls_a_worse_candidate_back_through_the_beat_task(platform):
    root, client = platform
    candidate(root, "normal", "bad", bias=0.05)  # +5% every day: far worse MAE
    stages.start("normal", "bad")
    _live_days(client, DAYS[:1])
    from predictions.tasks.rollout import check_rollouts

    out = check_rollouts.apply().get()
    assert [o["action"] for o in out] == ["rollback"]
    rollout = ModelRollout.objects.get(candidate__version="bad")
    assert rollout.stage == "rolled_back" and rollout.ended_at is not None
    decision = ModelDecision.objects.filter(version="bad").first()
    assert decision.to_stage == "rolled_back" and decision.automatic
    assert decision.figures["mae"] > 1.2 * decision.figures["mae_other"]
    assert decision.figures["n"] >= 100 and "live MAE" in decision.reason
    assert ModelVersion.objects.get(kind="normal", version="bad").status == "retired"
    assert registry.active_version("normal").version == "v1"
    assert stages.current("normal") is None


def test_it_rolls_back_a_promoted_version_to_the_previous_one(platform):
    root, client = platform
    candidate(root, "normal", "bad", bias=0.05)
    rollout = stages.start("normal", "bad")
    rollout = stages.advance(stages.advance(rollout, reason="forced"), reason="forced")
    assert rollout.stage == "full" and registry.active_version("normal").version == "bad"
    _live_days(client, DAYS[:1])
    assert stages.check_all()[0]["action"] == "rollback"
    assert registry.active_version("normal").version == "v1"


def test_it_waits_for_enough_paired_outcomes(platform, settings):
    root, client = platform
    settings.MODEL_ROLLOUT_MIN_N = 1000
    candidate(root, "normal", "bad", bias=0.05)
    stages.start("normal", "bad")
    _live_days(client, DAYS[:1])
    assert stages.check_all()[0]["action"] == "wait"
    assert stages.current("normal").figures["n"] == 120


def test_it_moves_a_sound_candidate_through_every_stage(platform):
    root, client = platform
    candidate(root, "normal", "good", seed=0)  # the active model's own weights
    stages.start("normal", "good")
    seen = []
    for k in range(3):
        _live_days(client, [d + dt.timedelta(days=7 * k) for d in DAYS[:2]])
        seen.append(stages.check_all()[0]["action"])
    assert seen == ["advance", "advance", "advance"]
    assert registry.active_version("normal").version == "good"
    stages_seen = list(
        ModelDecision.objects.filter(version="good")
        .order_by("at")
        .values_list("to_stage", flat=True)
    )
    assert stages_seen == ["shadow", "canary", "full", "done"]
    assert ModelRollout.objects.get(candidate__version="good").stage == "done"


def test_it_schedules_the_gate_with_a_time_limit():
    from config.celery_app import app

    name = "predictions.tasks.rollout.check_rollouts"
    assert django_settings.CELERY_BEAT_SCHEDULE["model-rollout-check"]["task"] == name
    assert app.tasks[name].time_limit == 300
    assert app.amqp.router.route({}, name)["queue"].name == "ingest"


def test_it_ends_a_rollout_superseded_by_a_manual_activation(platform):
    root, _ = platform
    candidate(root, "normal", "c1")
    candidate(root, "normal", "c2")
    stages.start("normal", "c1")
    registry.activate_version("normal", "c2", reason="by hand")
    out = stages.check_all()
    assert out[0]["action"] == "ended" and "outside the rollout" in out[0]["reason"]
    assert stages.current("normal") is None
    assert registry.active_version("normal").version == "c2"
