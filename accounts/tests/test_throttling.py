from __future__ import annotations

import time

from django.test import override_settings
from rest_framework.test import APIClient

from accounts.throttling import hit, limit_for
from testkit import PASSWORD, BaseTestCase

SMALL = {"free": 2, "pro": 3, "enterprise": None, "anon": 2}


@override_settings(API_RATE_LIMITS=SMALL)
class ThrottleTestCase(BaseTestCase):
    client: APIClient

    def setUp(self) -> None:
        super().setUp()
        self.client = APIClient()

    def login(self, username: str) -> None:
        r = self.client.post(
            "/api/auth/token", {"username": username, "password": PASSWORD}, format="json"
        )
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access']}")
        self.redis.flushdb()  # the token request counted against the anonymous IP budget

    def test_it_maps_tiers_to_limits(self) -> None:
        self.assertEqual(limit_for("free"), 2)
        self.assertEqual(limit_for("pro"), 3)
        self.assertIsNone(limit_for("enterprise"))
        self.assertEqual(limit_for("no-such-tier"), 2)

    def test_it_refuses_the_request_over_the_free_limit_with_retry_after(self) -> None:
        self.login("bob")
        codes = [self.client.get("/api/symbols").status_code for _ in range(3)]
        self.assertEqual(codes, [200, 200, 429])
        r = self.client.get("/api/symbols")
        self.assertEqual(r.status_code, 429)
        self.assertEqual(r.json()["error"]["code"], "throttled")
        retry_after = int(r["Retry-After"])
        self.assertGreaterEqual(retry_after, 1)
        self.assertLessEqual(retry_after, 3600)
        self.assertEqual(r["X-RateLimit-Limit"], "2")
        self.assertEqual(r["X-RateLimit-Remaining"], "0")
        self.assertAlmostEqual(int(r["X-RateLimit-Reset"]), time.time() + retry_after, delta=2)

    def test_it_counts_down_remaining_requests_in_headers(self) -> None:
        self.login("alice")
        remaining = [self.client.get("/api/symbols")["X-RateLimit-Remaining"] for _ in range(3)]
        self.assertEqual(remaining, ["2", "1", "0"])
        self.assertEqual(self.client.get("/api/symbols").status_code, 429)

    def test_it_does_not_limit_enterprise(self) -> None:
        self.login("charlie")
        codes = {self.client.get("/api/symbols").status_code for _ in range(6)}
        self.assertEqual(codes, {200})

    def test_it_keeps_separate_budgets_per_user(self) -> None:
        self.login("bob")
        for _ in range(3):
            self.client.get("/api/symbols")
        self.assertEqual(self.client.get("/api/symbols").status_code, 429)
        self.login("alice")
        self.assertEqual(self.client.get("/api/symbols").status_code, 200)

    def test_it_limits_anonymous_token_requests_per_ip(self) -> None:
        body = {"username": "alice", "password": "wrong"}
        codes = [
            self.client.post("/api/auth/token", body, format="json").status_code for _ in range(3)
        ]
        self.assertEqual(codes, [401, 401, 429])

    def test_it_shares_the_count_through_redis(self) -> None:
        # Another server process counting for the same user moves the same counter.
        self.login("bob")
        first = hit(f"user:{self.bob.pk}", 2)
        assert first is not None  # None only when Redis is down
        self.assertTrue(first.allowed)
        self.assertEqual(self.client.get("/api/symbols")["X-RateLimit-Remaining"], "0")
        self.assertEqual(self.client.get("/api/symbols").status_code, 429)


@override_settings(API_RATE_LIMITS={**SMALL, "web": 4})
class WebsiteSessionThrottleTestCase(BaseTestCase):
    def test_it_counts_website_session_calls_apart_from_the_tier_quota(self) -> None:
        client = APIClient()
        client.login(username="bob", password=PASSWORD)  # free tier: 2 per window
        codes = [client.get("/api/symbols").status_code for _ in range(5)]
        self.assertEqual(codes, [200, 200, 200, 200, 429])
        self.assertEqual(client.get("/api/symbols")["X-RateLimit-Limit"], "4")

        api = APIClient()
        r = api.post("/api/auth/token", {"username": "bob", "password": PASSWORD}, format="json")
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access']}")
        self.assertEqual(api.get("/api/symbols").status_code, 200)  # the JWT quota is untouched
