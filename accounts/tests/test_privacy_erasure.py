"""DELETE /api/me: confirmed by the password, it removes the account and every trace of it in
any table, refuses its logins and tokens afterwards, keeps what is not personal and records the
erasure without personal data."""

from __future__ import annotations

from django.test import override_settings
from rest_framework.test import APIClient

from accounts import login_throttle, privacy
from accounts.auth_state import state_key
from accounts.models import PrivacyEvent, PrivacyEventVia, User
from accounts.tests.privacy_support import (
    SUBJECT,
    SUBJECT_EMAIL,
    SUBJECT_PASSWORD,
    make_subject,
    non_personal_counts,
    personal_traces,
)
from explanations.models import Explanation
from predictions.models import ModelVersion
from testkit import BaseTestCase
from web.models import WatchlistItem

PERSONAL_TABLES = {
    "accounts_user",
    "accounts_consent",
    "web_watchlistitem",
    "explanations_explanation",
    "token_blacklist_outstandingtoken",
    "django_session",
    "django_admin_log",
    "predictions_modelversion",
}


class ErasureApiTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.subject = make_subject()
        self.user_id = self.subject.user.pk
        self.api = APIClient()
        self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {self.subject.pair.access}")

    def delete(self, password: str | None = SUBJECT_PASSWORD):
        headers = {} if password is None else {"HTTP_X_CONFIRM_PASSWORD": password}
        return self.api.delete("/api/me", **headers)

    def test_it_refuses_without_the_password(self) -> None:
        r = self.delete(password=None)
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["error"]["code"], "confirmation_required")
        self.assertTrue(User.objects.filter(pk=self.user_id).exists())

    def test_it_refuses_a_wrong_password_and_counts_it_as_a_failed_sign_in(self) -> None:
        r = self.delete(password="not-my-password")
        self.assertEqual(r.status_code, 403)
        self.assertEqual(r.json()["error"]["code"], "wrong_password")
        self.assertTrue(User.objects.filter(pk=self.user_id).exists())
        self.assertEqual(login_throttle.failures(SUBJECT)["used"], 1)

    @override_settings(LOGIN_FAILURES_PER_USER=2)
    def test_it_stops_password_guessing_with_a_stolen_token(self) -> None:
        self.assertEqual(self.delete(password="guess-1").status_code, 403)
        self.assertEqual(self.delete(password="guess-2").status_code, 403)
        r = self.delete()  # even the right password, once locked out
        self.assertEqual(r.status_code, 429)
        self.assertEqual(r.json()["error"]["code"], "throttled")
        self.assertGreater(int(r["Retry-After"]), 0)
        self.assertTrue(User.objects.filter(pk=self.user_id).exists())

    def test_it_leaves_no_personal_data_in_any_table(self) -> None:
        before = personal_traces(self.user_id, SUBJECT, SUBJECT_EMAIL)
        # The scan sees every place the set-up put the user (it can fail).
        tables = {trace.split(".")[0].split(" ")[0] for trace in before}
        self.assertEqual(tables, PERSONAL_TABLES, before)
        kept = non_personal_counts()
        r = self.delete()
        self.assertEqual(r.status_code, 200, r.content)
        self.assertEqual(personal_traces(self.user_id, SUBJECT, SUBJECT_EMAIL), [])
        self.assertEqual(non_personal_counts(), kept)
        self.assertIsNone(Explanation.objects.get(job_id="exp_zoe1").requested_by_id)
        notes = ModelVersion.objects.get(version="v-new").notes
        self.assertIn("activated in the admin by an erased account", notes)

    def test_it_refuses_the_login_and_every_token_afterwards(self) -> None:
        # The fast path and the WebSocket feed: test_privacy_sessions.py.
        pair = self.subject.pair
        self.assertEqual(self.api.get("/api/symbols").status_code, 200)
        self.assertEqual(self.delete().status_code, 200)
        login = APIClient().post(
            "/api/auth/token", {"username": SUBJECT, "password": SUBJECT_PASSWORD}, format="json"
        )
        self.assertEqual(login.status_code, 401)
        self.assertFalse(self.client_login())
        r = self.api.get("/api/symbols")
        self.assertEqual((r.status_code, r.json()["error"]["code"]), (401, "user_not_found"))
        refresh = APIClient().post("/api/auth/token/refresh", {"refresh": pair.refresh})
        self.assertEqual(refresh.status_code, 401)

    def client_login(self) -> bool:
        from django.test import Client

        return Client().login(username=SUBJECT, password=SUBJECT_PASSWORD)

    def test_it_answers_a_receipt_and_records_the_erasure_without_personal_data(self) -> None:
        r = self.delete()
        receipt = r.json()
        event = PrivacyEvent.objects.get(kind="erasure")
        self.assertEqual((event.via, event.reference), ("api", receipt["reference"]))
        self.assertEqual(receipt["removed"]["watchlist"], 2)
        self.assertEqual(receipt["removed"]["api_tokens"], 1)
        self.assertEqual(receipt["removed"]["explanation_requests"], 1)
        self.assertEqual(event.details, receipt["removed"])

    def test_it_drops_the_users_counters_from_redis_once_committed(self) -> None:
        self.api.get("/api/symbols")  # a rate-limit counter and a cached auth state
        self.assertTrue(self.redis.keys(f"ratelimit:user:{self.user_id}:*"))
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(self.delete().status_code, 200)
        self.assertEqual(self.redis.keys(f"ratelimit:*:{self.user_id}:*"), [])
        self.assertEqual(self.redis.keys("loginfail:user:*"), [])
        self.assertFalse(self.redis.exists(state_key(self.user_id)))

    def test_it_erases_once(self) -> None:
        user = self.subject.user
        privacy.erase(user, PrivacyEventVia.API)
        with self.assertRaises(privacy.AccountGone):
            privacy.erase(user, PrivacyEventVia.API)  # e.g. a concurrent second request
        self.assertEqual(PrivacyEvent.objects.filter(kind="erasure").count(), 1)

    def test_it_leaves_other_users_alone(self) -> None:
        from predictions.tests.api_support import make_symbol
        from web import watchlist

        watchlist.add(self.alice, make_symbol("MSFT"))
        self.assertEqual(self.delete().status_code, 200)
        self.assertEqual(WatchlistItem.objects.filter(user=self.alice).count(), 1)
        self.assertTrue(User.objects.filter(username="alice").exists())
