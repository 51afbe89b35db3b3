"""Sign-up states what is stored and why, and records the user's agreement to exactly that."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape

from accounts import privacy
from accounts.models import Consent, User
from testkit import BaseTestCase

FORM = {
    "username": "dana",
    "email": "dana@example.org",
    "password1": "a-long-unusual-passphrase-42",
    "password2": "a-long-unusual-passphrase-42",
}


class SignupConsentTests(BaseTestCase):
    def test_it_states_every_kind_of_data_stored_and_why(self):
        response = self.client.get(reverse("signup"))
        self.assertContains(response, 'data-testid="privacy-notice"')
        sections = {h.section for h in privacy.holders()}
        self.assertLessEqual(
            {"account", "watchlist", "api_tokens", "explanation_requests", "rate_limits"},
            sections,
        )
        for holder in privacy.holders():
            self.assertContains(response, escape(holder.data))
        self.assertContains(response, "Nothing else is stored")
        self.assertContains(response, 'name="consent"')

    def test_it_records_the_consent_with_the_notice_shown(self):
        response = self.client.post(reverse("signup"), {**FORM, "consent": "on"})
        self.assertRedirects(response, reverse("dashboard"))
        consent = Consent.objects.get(user__username="dana")
        self.assertEqual(consent.notice_version, privacy.notice_version())
        self.assertEqual(consent.statement, privacy.notice_items())

    def test_it_creates_no_account_without_consent(self):
        response = self.client.post(reverse("signup"), FORM)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "agree to create one")
        self.assertFalse(User.objects.filter(username="dana").exists())
        self.assertFalse(Consent.objects.exists())

    def test_it_versions_the_notice_by_its_text(self):
        version = privacy.notice_version()
        holder = privacy.holders()[0]
        changed = privacy.Holder(**{**holder.__dict__, "purpose": holder.purpose + " (changed)"})
        privacy.register(changed)
        try:
            self.assertNotEqual(privacy.notice_version(), version)
        finally:
            privacy.register(holder)
        self.assertEqual(privacy.notice_version(), version)
