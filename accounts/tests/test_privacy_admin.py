"""Operators export and erase a user's data from the admin, through the same service as the
user's own requests; the admin's own log keeps the deletion without the user's name."""

from __future__ import annotations

import json

from django.contrib.admin.models import DELETION, LogEntry
from rest_framework.test import APIClient

from accounts.models import PrivacyEvent, User
from accounts.tests.privacy_support import (
    SUBJECT,
    SUBJECT_EMAIL,
    make_subject,
    non_personal_counts,
    personal_traces,
)
from testkit import BaseTestCase

CHANGELIST = "/admin/accounts/user/"


class PrivacyAdminTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.subject = make_subject(staff=False)
        self.user_id = self.subject.user.pk
        self.client.force_login(self.subject.operator)

    def action(self, name: str, *users: User, **extra: str):
        data = {"action": name, "_selected_action": [u.pk for u in users], **extra}
        return self.client.post(CHANGELIST, data)

    def test_it_exports_a_users_data_for_an_operator(self) -> None:
        r = self.action("export_personal_data", self.subject.user)
        self.assertEqual(r.status_code, 200)
        self.assertIn("attachment;", r["Content-Disposition"])
        doc = json.loads(r.content)
        self.assertEqual(doc["account"]["username"], SUBJECT)
        self.assertNotIn(self.subject.pair.refresh, r.content.decode())
        event = PrivacyEvent.objects.get()
        self.assertEqual((event.kind, event.via), ("export", "admin"))

    def test_it_exports_one_user_at_a_time(self) -> None:
        r = self.action("export_personal_data", self.subject.user, self.bob)
        self.assertEqual(r.status_code, 302)
        self.assertFalse(PrivacyEvent.objects.exists())

    def test_it_erases_a_user_from_the_delete_page(self) -> None:
        kept = non_personal_counts()
        url = f"{CHANGELIST}{self.user_id}/delete/"
        self.assertContains(self.client.get(url), "Are you sure")
        r = self.client.post(url, {"post": "yes"})
        self.assertEqual(r.status_code, 302)
        self.assertFalse(User.objects.filter(pk=self.user_id).exists())
        self.assertEqual(personal_traces(self.user_id, SUBJECT, SUBJECT_EMAIL), [])
        self.assertEqual(non_personal_counts(), kept)
        event = PrivacyEvent.objects.get()
        self.assertEqual((event.kind, event.via), ("erasure", "admin"))
        # The operator's deletion stays in the admin log, naming the operator, not the user.
        entry = LogEntry.objects.get(action_flag=DELETION)
        self.assertEqual((entry.user, entry.object_repr), (self.subject.operator, "erased account"))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.subject.pair.access}")
        self.assertEqual(client.get("/api/symbols").status_code, 401)
        refresh = client.post("/api/auth/token/refresh", {"refresh": self.subject.pair.refresh})
        self.assertEqual(refresh.status_code, 401)

    def test_it_erases_every_selected_user_with_the_delete_action(self) -> None:
        r = self.action("delete_selected", self.subject.user, self.bob, post="yes")
        self.assertEqual(r.status_code, 302)
        self.assertFalse(User.objects.filter(pk__in=[self.user_id, self.bob.pk]).exists())
        self.assertEqual(PrivacyEvent.objects.filter(kind="erasure", via="admin").count(), 2)
        self.assertEqual(personal_traces(self.user_id, SUBJECT, SUBJECT_EMAIL), [])
        self.assertEqual(personal_traces(self.bob.pk, "bob", "bob@example.org"), [])
        self.assertTrue(User.objects.filter(username="alice").exists())

    def test_it_shows_the_consents_on_the_users_page(self) -> None:
        consent = self.subject.user.consents.get()
        page = self.client.get(f"{CHANGELIST}{self.user_id}/change/")
        self.assertContains(page, f"consent {consent.notice_version} at")

    def test_it_lists_the_events_read_only(self) -> None:
        self.action("export_personal_data", self.subject.user)
        page = self.client.get("/admin/accounts/privacyevent/")
        self.assertContains(page, PrivacyEvent.objects.get().reference)
        self.assertEqual(self.client.get("/admin/accounts/privacyevent/add/").status_code, 403)
