"""The profile page's data download and account deletion (password again, explicit
confirmation), both through ``accounts.privacy``."""

from __future__ import annotations

import json

from django.test import override_settings
from django.urls import reverse

from accounts.models import PrivacyEvent, User
from accounts.tests.privacy_support import (
    SUBJECT,
    SUBJECT_EMAIL,
    SUBJECT_PASSWORD,
    make_subject,
    personal_traces,
)
from testkit import BaseTestCase


class ProfilePrivacyTests(BaseTestCase):
    def setUp(self):
        super().setUp()
        self.subject = make_subject()
        self.user_id = self.subject.user.pk
        self.assertTrue(self.client.login(username=SUBJECT, password=SUBJECT_PASSWORD))

    def delete(self, **form):
        return self.client.post(reverse("account_delete"), form)

    def test_it_offers_the_download_and_the_deletion(self):
        page = self.client.get(reverse("profile"))
        self.assertContains(page, reverse("profile_export"))
        self.assertContains(page, 'name="delete-password"')
        self.assertContains(page, 'name="delete-confirm"')

    def test_it_downloads_the_export_as_a_file(self):
        response = self.client.get(reverse("profile_export"))
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment;", response["Content-Disposition"])
        self.assertEqual(response["Cache-Control"].split(",")[0].strip(), "no-store")
        doc = json.loads(response.content)
        self.assertEqual(doc["account"]["email"], SUBJECT_EMAIL)
        self.assertEqual([w["symbol"] for w in doc["watchlist"]], ["NVDA", "AAPL"])
        self.assertNotIn(self.subject.pair.refresh, response.content.decode())
        self.assertEqual(PrivacyEvent.objects.get().via, "website")

    def test_it_deletes_nothing_without_the_confirmation(self):
        response = self.delete(**{"delete-password": SUBJECT_PASSWORD})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Tick the box to confirm", status_code=400)
        self.assertTrue(User.objects.filter(pk=self.user_id).exists())

    def test_it_deletes_nothing_with_a_wrong_password(self):
        response = self.delete(**{"delete-password": "wrong", "delete-confirm": "on"})
        self.assertContains(response, "The password is not correct.", status_code=400)
        self.assertTrue(User.objects.filter(pk=self.user_id).exists())
        self.assertFalse(PrivacyEvent.objects.exists())

    @override_settings(LOGIN_FAILURES_PER_USER=1)
    def test_it_stops_password_guessing(self):
        self.delete(**{"delete-password": "wrong", "delete-confirm": "on"})
        response = self.delete(**{"delete-password": SUBJECT_PASSWORD, "delete-confirm": "on"})
        self.assertContains(response, "Too many failed attempts", status_code=429)
        self.assertGreater(int(response["Retry-After"]), 0)
        self.assertTrue(User.objects.filter(pk=self.user_id).exists())

    def test_it_deletes_the_account_and_signs_the_user_out(self):
        response = self.delete(**{"delete-password": SUBJECT_PASSWORD, "delete-confirm": "on"})
        # Not fetched here: that visit would consume the message checked below.
        self.assertRedirects(response, reverse("home"), fetch_redirect_response=False)
        self.assertFalse(User.objects.filter(pk=self.user_id).exists())
        self.assertEqual(personal_traces(self.user_id, SUBJECT, SUBJECT_EMAIL), [])
        event = PrivacyEvent.objects.get()
        self.assertEqual((event.kind, event.via), ("erasure", "website"))
        home = self.client.get(reverse("home"))
        self.assertContains(home, event.reference)  # the receipt, shown once
        self.assertFalse(home.context["user"].is_authenticated)
        self.assertRedirects(
            self.client.get(reverse("profile")), f"{reverse('login')}?next={reverse('profile')}"
        )
