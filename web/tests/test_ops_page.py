"""``/ops``: the System health board from live data, for staff only."""

from __future__ import annotations

import datetime as dt
import re

from django.test import Client
from django.utils import timezone

from core import metrics
from ingestion.models import IngestionRun, Symbol
from predictions.models import ModelVersion, PipelineRun
from predictions.tests.api_support import store_prediction
from testkit import BaseTestCase


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


class OpsPageTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alice.is_staff = True
        self.alice.save()
        now = timezone.now()
        for i, ticker in enumerate(["AAA", "BBB", "CCC"]):
            age = dt.timedelta(seconds=5 if i < 2 else 86_400)  # CCC: a day old, not updated
            store_prediction(Symbol.objects.create(ticker=ticker), predicted_at=now - age)
        ModelVersion.objects.create(
            kind="normal", version="v7", artifact_path="/nowhere", status="active"
        )
        PipelineRun.objects.create(
            data_date=dt.date(2024, 7, 10),
            started_at=now - dt.timedelta(seconds=6),
            finished_at=now - dt.timedelta(seconds=5),
            ok=True,
            n_symbols=3,
            n_predicted=2,
            model_versions={"normal": "v7"},
        )
        run = IngestionRun.objects.create(
            provider="replay", mode=IngestionRun.Mode.LIVE, status=IngestionRun.Status.OK
        )
        IngestionRun.objects.filter(pk=run.pk).update(received=3, finished_at=now)
        self.redis.rpush("inference", *[b"message"] * 3)  # three waiting tasks in the broker
        # The API's request counters are per process: earlier tests in this process provoked
        # 5xx answers on purpose (Redis down, no prediction yet), which this board would report.
        metrics.API_REQUEST_SECONDS.clear()

    def test_it_shows_the_system_health_board_to_staff(self) -> None:
        client = Client()
        client.force_login(self.alice)
        response = client.get("/ops")
        self.assertEqual(response.status_code, 200)
        text = _text(response.content.decode())
        self.assertIn("Predictions updated: 2 / 3 (66.7%)", text)
        self.assertRegex(text, r"Last update: [0-9] s ago")
        self.assertIn("Ingestion healthy last cycle", text)
        self.assertIn("Normal-day model healthy v7; served v7 last cycle", text)
        self.assertIn("Earnings-day model idle no active model", text)
        self.assertIn("Redis healthy", text)
        self.assertRegex(text, r"PostgreSQL healthy [0-9]+ of [0-9]+ connections")
        self.assertIn("inference 3", text)
        self.assertIn("Model performance", text)
        self.assertIn("Overall status: HEALTHY", text)

    def test_it_reports_a_late_pipeline_as_degraded(self) -> None:
        old = timezone.now() - dt.timedelta(hours=2)
        PipelineRun.objects.update(started_at=old, finished_at=old)
        client = Client()
        client.force_login(self.alice)
        text = _text(client.get("/ops").content.decode())
        self.assertIn("Features degraded", text)
        self.assertIn("Overall status: DEGRADED", text)

    def test_it_refuses_signed_in_users_who_are_not_staff(self) -> None:
        client = Client()
        client.force_login(self.bob)
        self.assertEqual(client.get("/ops").status_code, 403)

    def test_it_sends_anonymous_visitors_to_the_login_page(self) -> None:
        response = Client().get("/ops")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login", response["Location"])
