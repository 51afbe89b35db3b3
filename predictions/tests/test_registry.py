"""Registry: one active version per kind, activate / roll back from code, command and admin."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from predictions.ml import registry
from predictions.models import ModelVersion

pytestmark = pytest.mark.django_db


def make(kind: str, version: str, **kw) -> ModelVersion:
    return registry.register(kind, version, f"/nowhere/{kind}/{version}", metrics={},
                             metadata={}, **kw)  # fmt: skip


def statuses(kind: str) -> dict[str, str]:
    return dict(ModelVersion.objects.filter(kind=kind).values_list("version", "status"))


def test_it_registers_candidates_and_activates_exactly_one():
    make("normal", "v1", activate=True)
    make("normal", "v2")
    make("earnings", "e1", activate=True)
    assert statuses("normal") == {"v1": "active", "v2": "candidate"}
    registry.activate_version("normal", "v2")
    assert statuses("normal") == {"v1": "retired", "v2": "active"}
    assert registry.active_version("normal").version == "v2"
    assert registry.active_version("earnings").version == "e1"  # other kind untouched


def test_it_refuses_a_second_active_row_at_the_database():
    make("normal", "v1", activate=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(kind="normal", version="v9", artifact_path="x", status="active")


def test_it_rolls_back_to_the_previously_active_version():
    make("normal", "v1", activate=True)
    make("normal", "v2", activate=True)
    make("normal", "v3")  # never active: not a rollback target
    back = registry.rollback("normal")
    assert back.version == "v1"
    assert statuses("normal") == {"v1": "active", "v2": "retired", "v3": "candidate"}
    assert "rolled back to v1" in ModelVersion.objects.get(version="v2").notes


def test_it_refuses_rollback_without_an_earlier_version():
    make("normal", "v1", activate=True)
    with pytest.raises(registry.RegistryError):
        registry.rollback("normal")
    assert statuses("normal") == {"v1": "active"}


def test_it_activates_and_rolls_back_from_the_command():
    make("earnings", "e1", activate=True)
    make("earnings", "e2")
    out = StringIO()
    call_command("models", "activate", "earnings", "e2", stdout=out)
    assert json.loads(out.getvalue())["version"] == "e2"
    call_command("models", "rollback", "earnings", stdout=StringIO())
    assert statuses("earnings") == {"e1": "active", "e2": "retired"}
    out = StringIO()
    call_command("models", "list", "--kind", "earnings", stdout=out)
    assert {row["version"]: row["status"] for row in json.loads(out.getvalue())} == {
        "e1": "active",
        "e2": "retired",
    }


def test_it_activates_and_rolls_back_from_the_admin(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw-123456")
    client.force_login(admin)
    make("normal", "v1", activate=True)
    v2 = make("normal", "v2")
    url = "/admin/predictions/modelversion/"
    resp = client.post(url, {"action": "activate_selected", "_selected_action": [v2.pk]})
    assert resp.status_code == 302
    assert statuses("normal") == {"v1": "retired", "v2": "active"}
    resp = client.post(url, {"action": "roll_back_kind", "_selected_action": [v2.pk]})
    assert resp.status_code == 302
    assert statuses("normal") == {"v1": "active", "v2": "retired"}
