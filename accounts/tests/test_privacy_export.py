"""GET /api/me/export: everything the platform keeps about the caller, no secret among it, and
the export recorded without personal data."""

from __future__ import annotations

import json

from django.contrib.sessions.models import Session
from rest_framework.test import APIClient

from accounts.models import PrivacyEvent
from accounts.tests.privacy_support import (
    SUBJECT,
    SUBJECT_EMAIL,
    SUBJECT_PASSWORD,
    make_subject,
    personal_traces,
)
from testkit import BaseTestCase


class ExportApiTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.subject = make_subject()
        self.api = APIClient()
        self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {self.subject.pair.access}")

    def export(self) -> dict:
        r = self.api.get("/api/me/export")
        self.assertEqual(r.status_code, 200, r.content[:500])
        return r.json()

    def test_it_exports_every_section_of_the_callers_data(self) -> None:
        doc = self.export()
        self.assertEqual(doc["format"], "stockpred-personal-data/1")
        account = doc["account"]
        self.assertEqual(
            (account["username"], account["email"], account["tier"], account["first_name"]),
            (SUBJECT, SUBJECT_EMAIL, "pro", "Zoe"),
        )
        self.assertEqual([w["symbol"] for w in doc["watchlist"]], ["NVDA", "AAPL"])
        self.assertEqual([t["id"] for t in doc["api_tokens"]], [self.subject.pair.jti])
        self.assertIsNone(doc["api_tokens"][0]["revoked_at"])
        self.assertEqual(
            [(e["job_id"], e["symbol"]) for e in doc["explanation_requests"]],
            [("exp_zoe1", "NVDA")],
        )
        self.assertEqual(len(doc["consents"]), 1)
        self.assertEqual(doc["consents"][0]["notice_version"], doc["notice"]["version"])
        self.assertEqual(doc["consents"][0]["statement"], doc["notice"]["items"])
        self.assertEqual(len(doc["website_sessions"]), 1)
        self.assertEqual([c["action"] for c in doc["admin_changes"]], ["changed"])
        self.assertEqual([n["version"] for n in doc["model_version_notes"]], ["v-old", "v-new"])

    def test_it_reports_the_current_rate_limit_usage(self) -> None:
        self.api.get("/api/symbols")
        self.api.get("/api/symbols")
        self.api.post("/api/auth/token", {"username": SUBJECT, "password": "wrong"}, format="json")
        limits = self.export()["rate_limits"]
        # The two calls and the export itself, counted in the pro tier's budget.
        self.assertEqual((limits["api"]["used"], limits["api"]["limit"]), (3, 1000))
        self.assertEqual(limits["website"]["used"], 0)
        self.assertEqual(limits["failed_sign_ins"]["used"], 1)

    def test_it_never_exports_a_secret(self) -> None:
        text = json.dumps(self.export())
        self.assertNotIn(self.subject.pair.refresh, text)
        self.assertNotIn(self.subject.pair.access, text)
        self.assertNotIn(self.subject.user.password, text)  # the hash
        self.assertNotIn(SUBJECT_PASSWORD, text)
        self.assertNotIn("pbkdf2", text)
        for session_key in Session.objects.values_list("session_key", flat=True):
            self.assertNotIn(session_key, text)

    def test_it_exports_only_the_callers_data(self) -> None:
        self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {self.bob_token()}")
        text = json.dumps(self.export())
        self.assertNotIn(SUBJECT, text)
        self.assertNotIn("NVDA", text)

    def test_it_records_the_export_without_personal_data(self) -> None:
        doc = self.export()
        event = PrivacyEvent.objects.get()
        self.assertEqual(
            (event.kind, event.via, event.reference), ("export", "api", doc["reference"])
        )
        self.assertEqual(event.details["watchlist"], 2)
        self.assertEqual(event.details["account"], 1)
        user = self.subject.user
        traces = [
            t for t in personal_traces(user.pk, SUBJECT, SUBJECT_EMAIL) if "privacyevent" in t
        ]
        self.assertEqual(traces, [])

    def test_it_refuses_anonymous_callers_in_the_error_shape(self) -> None:
        r = APIClient().get("/api/me/export")
        self.assertEqual(r.status_code, 401)
        self.assertEqual(set(r.json()["error"]), {"code", "message", "details"})
        self.assertFalse(PrivacyEvent.objects.exists())

    def bob_token(self) -> str:
        from predictions.tests.api_support import access_token

        return access_token(self.bob)
