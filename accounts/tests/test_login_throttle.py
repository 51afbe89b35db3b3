"""Sign-in brute force: the API token endpoint, the website's login and the admin's login refuse
further attempts (429 + Retry-After, before the password is checked) once a username or an IP
has spent its failure budget."""

from __future__ import annotations

from typing import Any

from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import User
from testkit import PASSWORD, BaseTestCase

# One window for the whole test (a fixed window boundary would reset the counts mid-test).
LIMITS = {
    "LOGIN_FAILURES_PER_USER": 3,
    "LOGIN_FAILURES_PER_IP": 6,
    "LOGIN_THROTTLE_WINDOW_SECONDS": 10**9,
}


@override_settings(**LIMITS)
class LoginThrottleTestCase(BaseTestCase):
    def api_login(self, username: str, password: str, ip: str = "10.0.0.1") -> tuple[int, Any]:
        r = APIClient(REMOTE_ADDR=ip).post(
            "/api/auth/token", {"username": username, "password": password}, format="json"
        )
        return r.status_code, r

    def test_it_locks_a_username_out_after_its_failures_even_for_the_right_password(self) -> None:
        codes = [self.api_login("alice", "wrong")[0] for _ in range(3)]
        self.assertEqual(codes, [401, 401, 401])
        status, r = self.api_login("alice", PASSWORD)
        self.assertEqual(status, 429)
        self.assertEqual(r.json()["error"]["code"], "throttled")
        self.assertGreaterEqual(int(r["Retry-After"]), 1)
        # From another address too: the username's budget is spent.
        self.assertEqual(self.api_login("alice", PASSWORD, ip="10.9.9.9")[0], 429)
        # Other accounts are unaffected.
        self.assertEqual(self.api_login("bob", PASSWORD, ip="10.9.9.9")[0], 200)

    def test_it_locks_an_address_out_that_tries_many_accounts(self) -> None:
        for i in range(6):
            self.assertEqual(self.api_login(f"nobody{i}", "guess")[0], 401)
        self.assertEqual(self.api_login("bob", PASSWORD)[0], 429)
        self.assertEqual(self.api_login("bob", PASSWORD, ip="10.0.0.2")[0], 200)

    def test_it_clears_a_usernames_count_on_success(self) -> None:
        for _ in range(2):
            self.assertEqual(self.api_login("alice", "wrong")[0], 401)
        self.assertEqual(self.api_login("alice", PASSWORD)[0], 200)
        for _ in range(2):
            self.assertEqual(self.api_login("alice", "wrong")[0], 401)
        self.assertEqual(self.api_login("alice", PASSWORD)[0], 200)

    def test_it_counts_in_redis_so_every_server_process_shares_the_budget(self) -> None:
        for _ in range(3):
            self.api_login("alice", "wrong")
        self.assertTrue(any(self.redis.scan_iter("loginfail:user:*")))
        self.assertNotIn(b"alice", b"".join(self.redis.scan_iter("loginfail:*")))
        for key in self.redis.scan_iter("loginfail:*"):
            self.redis.delete(key)  # what a fresh window (or another server's view) sees
        self.assertEqual(self.api_login("alice", PASSWORD)[0], 200)

    def test_it_locks_the_website_login(self) -> None:
        for _ in range(3):
            r = self.client.post("/accounts/login", {"username": "alice", "password": "wrong"})
            self.assertEqual(r.status_code, 200)  # the form again, with its error
        r = self.client.post("/accounts/login", {"username": "alice", "password": PASSWORD})
        self.assertEqual(r.status_code, 429)
        self.assertIn("Too many sign-in attempts", r.content.decode())
        self.assertGreaterEqual(int(r["Retry-After"]), 1)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_it_locks_the_admin_login(self) -> None:
        User.objects.create_superuser("root", "root@example.org", PASSWORD)
        for _ in range(3):
            r = self.client.post("/admin/login/", {"username": "root", "password": "wrong"})
            self.assertEqual(r.status_code, 200)
        r = self.client.post("/admin/login/", {"username": "root", "password": PASSWORD})
        self.assertEqual(r.status_code, 429)
        self.assertNotIn("_auth_user_id", self.client.session)
        self.assertEqual(self.client.get("/admin/").status_code, 302)  # still signed out
