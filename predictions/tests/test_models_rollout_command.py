"""``manage.py models status --json | shadow | canary | promote | rollback | check`` and the
admin's rollout actions (issue 22)."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from predictions.accuracy import record_realised
from predictions.benchmarks.universe import cycle_input, install_models, make_symbols
from predictions.ml import registry
from predictions.models import ModelDecision, ModelRollout
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle
from predictions.rollout import stages
from predictions.tests.rollout_support import candidate, realise_day

pytestmark = pytest.mark.django_db(transaction=True)

TICKERS = [f"S{i:03d}" for i in range(120)]
DAY, NEXT = dt.date(2025, 7, 8), dt.date(2025, 7, 9)
ENTRY_KEYS = {"version", "stage", "share", "days", "mae", "mae_active_same_days", "n"}


def models(*args: str):
    out = StringIO()
    call_command("models", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def platform(tmp_path, redis_client):
    runtime.clear_cache()
    make_symbols(TICKERS)
    install_models(tmp_path)
    candidate(tmp_path, "normal", "c1", bias=0.002)
    yield redis_client
    runtime.clear_cache()


def test_it_prints_each_kind_with_live_figures_on_the_same_days(platform):
    assert json.loads(models("shadow", "normal", "c1"))["stage"] == "shadow"
    run_cycle(cycle_input(DAY, TICKERS), redis_client=platform, realise=False)
    realise_day(NEXT, TICKERS)
    record_realised(NEXT)
    found = json.loads(models("status", "--json"))
    assert set(found) == {"normal", "earnings", "horizon_5d", "horizon_20d"}
    normal = found["normal"]
    assert set(normal["shadow"]) >= ENTRY_KEYS and set(normal["active"]) >= ENTRY_KEYS
    assert normal["canary"] is None
    shadow, active = normal["shadow"], normal["active"]
    assert (shadow["version"], shadow["stage"], shadow["share"]) == ("c1", "shadow", 0.0)
    assert shadow["n"] == 120 and shadow["days"] == 1
    assert shadow["mae_active_same_days"] == active["mae"] != shadow["mae"]
    assert active["version"] == "v1"
    assert normal["last_decision"]["to_stage"] == "shadow"
    assert found["earnings"]["active"]["version"] == "v1"
    assert found["earnings"]["shadow"] is None


def test_it_forces_canary_promote_and_rollback(platform):
    models("shadow", "normal", "c1")
    out = json.loads(models("canary", "normal", "--share", "0.3"))
    assert (out["stage"], out["share"]) == ("canary", 0.3)
    status = json.loads(models("status", "--json"))["normal"]
    assert status["canary"]["share"] == 0.3 and status["active"]["share"] == 0.7
    assert json.loads(models("promote", "normal"))["stage"] == "full"
    assert registry.active_version("normal").version == "c1"
    out = json.loads(models("rollback", "normal", "--reason", "operator test"))
    assert out["stage"] == "rolled_back"
    assert registry.active_version("normal").version == "v1"
    last = ModelDecision.objects.filter(kind="normal").first()
    assert last.reason == "operator test" and not last.automatic
    assert last.actor.startswith("manage.py models")


def test_it_refuses_a_second_rollout_of_a_kind(platform, tmp_path):
    models("shadow", "normal", "c1")
    candidate(tmp_path, "normal", "c2")
    with pytest.raises(Exception, match="already in progress"):
        models("shadow", "normal", "c2")


def test_it_promotes_and_rolls_back_from_the_admin(platform, client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw-123456")
    client.force_login(admin)
    c1 = registry.get_version("normal", "c1")
    url = "/admin/predictions/modelversion/"
    client.post(url, {"action": "start_shadow", "_selected_action": [c1.pk]})
    assert stages.current("normal").stage == "shadow"
    client.post(url, {"action": "promote_kind", "_selected_action": [c1.pk]})
    assert stages.current("normal").stage == "canary"
    rollout = stages.current("normal")
    page = client.get(f"/admin/predictions/modelrollout/{rollout.pk}/change/")
    assert page.status_code == 200 and b"MAE previous (same days)" in page.content
    client.post(
        "/admin/predictions/modelrollout/",
        {"action": "roll_back_selected", "_selected_action": [rollout.pk]},
    )
    assert ModelRollout.objects.get(pk=rollout.pk).stage == "rolled_back"
    assert ModelDecision.objects.filter(kind="normal").first().actor == "admin: root"
