"""Every model of the platform can be seen by operators in the Django admin."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.test import Client

from testkit import BaseTestCase

PLATFORM_APPS = {"accounts", "ingestion", "features", "predictions", "explanations", "web"}


def platform_models() -> list:
    return [m for m in apps.get_models() if m._meta.app_label in PLATFORM_APPS]


def test_it_registers_every_platform_model_in_the_admin() -> None:
    missing = [m._meta.label for m in platform_models() if not admin.site.is_registered(m)]
    assert missing == []


class AdminPagesTestCase(BaseTestCase):
    def test_it_opens_every_changelist_for_an_operator(self) -> None:
        self.alice.is_staff = self.alice.is_superuser = True
        self.alice.save()
        client = Client()
        client.force_login(self.alice)
        for model in platform_models():
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            self.assertEqual(client.get(url).status_code, 200, url)

    def test_it_keeps_outsiders_out(self) -> None:
        client = Client()
        client.force_login(self.charlie)  # not staff
        response = client.get("/admin/predictions/pipelinerun/")
        self.assertEqual(response.status_code, 302)
