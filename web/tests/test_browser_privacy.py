"""The deletion flow in a real headless Chromium against a real ASGI server: a signed-in user
with the live dashboard open in one tab downloads their data and deletes their account from the
profile page in another; the dashboard's WebSocket is closed at once, and the account can no
longer sign in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from channels.testing import ChannelsLiveServerTestCase

import testkit as testing
from accounts.models import PrivacyEvent, User
from accounts.tests.privacy_support import (
    SUBJECT,
    SUBJECT_EMAIL,
    SUBJECT_PASSWORD,
    make_subject,
    personal_traces,
)
from web.tests.browser import (
    SCREENSHOTS,
    BrowserSession,
    SpawnedDaphneProcess,
    missing_requirements,
)

pytestmark = pytest.mark.browser

STATUS_IS = "(text) => document.querySelector('[data-live-status]').textContent === text"


class DeletionInBrowserTests(ChannelsLiveServerTestCase):  # type: ignore[misc]  # Channels is untyped
    ProtocolServerProcess = SpawnedDaphneProcess
    serialized_rollback = False

    @classmethod
    def setUpClass(cls) -> None:
        reason = missing_requirements()
        if reason:
            raise AssertionError(f"browser tests cannot run: {reason}")
        super().setUpClass()

    def setUp(self) -> None:
        super().setUp()
        testing.test_redis()
        self.subject = make_subject(staff=False)
        self.user_id = self.subject.user.pk
        self.browser = BrowserSession(self.live_server_url)
        self.addCleanup(self.browser.close)

    def test_it_downloads_the_data_then_deletes_the_account_and_closes_the_live_feed(self):
        def open_dashboard(page):
            page.goto("/accounts/login")
            page.locator("#id_username").fill(SUBJECT)
            page.locator("#id_password").fill(SUBJECT_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/dashboard")
            page.wait_for_function(STATUS_IS, arg="Live")

        self.browser.run(open_dashboard)

        def download(page):
            self.profile = page.context.new_page()
            self.profile.goto("/accounts/profile")
            with self.profile.expect_download() as info:
                self.profile.get_by_role("link", name="Download my data").click()
            return json.loads(Path(info.value.path()).read_text())

        doc = self.browser.run(download)
        self.assertEqual(doc["account"]["email"], SUBJECT_EMAIL)
        self.assertEqual([w["symbol"] for w in doc["watchlist"]], ["NVDA", "AAPL"])

        def delete(page):
            form = self.profile.get_by_test_id("delete-account")
            form.get_by_label("Your password").fill(SUBJECT_PASSWORD)
            form.get_by_role("button", name="Delete my account").click()
            unconfirmed = self.profile.locator(".field-error").inner_text()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.profile.screenshot(path=str(SCREENSHOTS / "profile-delete.png"), full_page=True)
            form = self.profile.get_by_test_id("delete-account")
            form.get_by_label("Your password").fill(SUBJECT_PASSWORD)
            form.get_by_label("I understand").check()
            form.get_by_role("button", name="Delete my account").click()
            self.profile.wait_for_url(lambda url: url.rstrip("/") == self.live_server_url)
            message = self.profile.locator(".messages").inner_text()
            # The dashboard tab: its WebSocket was closed by the server, and it stays closed.
            page.wait_for_function(STATUS_IS, arg="Signed out", timeout=5000)
            return unconfirmed, message

        unconfirmed, message = self.browser.run(delete)
        self.assertIn("Tick the box to confirm", unconfirmed)
        self.assertIn("Your account and its personal data have been deleted", message)
        self.browser.screenshot("account-deleted.png")

        def log_in_again(page):
            page.goto("/accounts/login")
            page.locator("#id_username").fill(SUBJECT)
            page.locator("#id_password").fill(SUBJECT_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state("load")
            return page.url

        self.assertTrue(self.browser.run(log_in_again).endswith("/accounts/login"))
        self.assertFalse(User.objects.filter(pk=self.user_id).exists())
        self.assertEqual(personal_traces(self.user_id, SUBJECT, SUBJECT_EMAIL), [])
        self.assertEqual(PrivacyEvent.objects.get(kind="erasure").via, "website")
        self.assertEqual(self.browser.page_errors, [])
