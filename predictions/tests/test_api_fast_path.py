"""The ASGI fast path of GET /api/prediction/{symbol} must answer exactly like the DRF view."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from predictions.tests.api_support import (
    access_token,
    asgi_get,
    make_symbol,
    put_cached,
    store_prediction,
)
from testkit import BaseTransactionTestCase

SMALL = {"free": 2, "pro": 3, "enterprise": None, "anon": 50}


class FastPathTestCase(BaseTransactionTestCase):
    # Transactional: the fast path reads PostgreSQL from a thread pool, which only sees
    # committed rows.

    def setUp(self) -> None:
        super().setUp()
        self.nvda = make_symbol("NVDA", "NVIDIA Corp")
        self.token = access_token(self.charlie)
        self.drf = APIClient()
        self.drf.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def assert_same_answer(self, path: str, query: dict | None = None) -> dict:
        fast = asgi_get(path, token=self.token, query=query)
        slow = self.drf.get(path, query or {})
        self.assertEqual(fast.status_code, slow.status_code)
        fast_body, slow_body = fast.json(), slow.json()
        if "data_freshness_sec" in fast_body:  # a second may tick between the two calls
            self.assertLessEqual(
                abs(fast_body.pop("data_freshness_sec") - slow_body.pop("data_freshness_sec")), 1
            )
        self.assertEqual(fast_body, slow_body)
        return {"fast": fast, "slow": slow}

    def test_it_answers_a_cache_hit_like_the_drf_view(self) -> None:
        put_cached(self.redis, "NVDA")
        answers = self.assert_same_answer("/api/prediction/NVDA")
        self.assertEqual(answers["fast"].status_code, 200)
        self.assertEqual(answers["fast"].headers["x-prediction-source"], "redis")
        self.assertEqual(answers["fast"].headers["x-content-type-options"], "nosniff")

    def test_it_answers_features_like_the_drf_view(self) -> None:
        put_cached(self.redis, "NVDA")
        self.redis.hset("features:NVDA", mapping={"rsi_14": "40.5", "eps_surprise": "nan"})
        answers = self.assert_same_answer("/api/prediction/NVDA", {"include_features": "true"})
        self.assertEqual(answers["fast"].json()["features"], {"rsi_14": 40.5, "eps_surprise": None})

    def test_it_answers_snapshot_features_like_the_drf_view(self) -> None:
        put_cached(self.redis, "NVDA")
        store_prediction(self.nvda)  # no features:NVDA hash: the row's snapshot
        answers = self.assert_same_answer("/api/prediction/NVDA", {"include_features": "1"})
        self.assertEqual(answers["fast"].json()["features"], {"return_1d": 0.01, "rsi_14": 55.0})

    def test_it_answers_the_snapshot_while_the_hash_is_of_another_day_like_the_drf_view(
        self,
    ) -> None:
        put_cached(self.redis, "NVDA")  # made from the features of 2024-03-05
        store_prediction(self.nvda, data_timestamp=dt.datetime(2024, 3, 5, tzinfo=dt.UTC))
        newer = {"rsi_14": "40.5", "data_timestamp": "2024-03-06T00:00:00Z"}
        self.redis.hset("features:NVDA", mapping=newer)
        answers = self.assert_same_answer("/api/prediction/NVDA", {"include_features": "1"})
        self.assertEqual(answers["fast"].json()["features"], {"return_1d": 0.01, "rsi_14": 55.0})
        self.redis.hset("features:NVDA", "data_timestamp", "2024-03-05T00:00:00Z")
        answers = self.assert_same_answer("/api/prediction/NVDA", {"include_features": "1"})
        self.assertEqual(answers["fast"].json()["features"]["rsi_14"], 40.5)

    def test_it_leaves_a_disallowed_host_to_django(self) -> None:
        put_cached(self.redis, "NVDA")
        response = asgi_get("/api/prediction/NVDA", token=self.token, host="evil.example")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"]["code"], "bad_request")

    def test_it_falls_back_to_postgresql_on_a_miss(self) -> None:
        store_prediction(self.nvda)
        answers = self.assert_same_answer("/api/prediction/NVDA")
        self.assertEqual(answers["fast"].headers["x-prediction-source"], "postgres")
        self.assertEqual(answers["fast"].json()["model_version"], "v-db-1")

    def test_it_falls_back_to_postgresql_when_redis_is_down(self) -> None:
        store_prediction(self.nvda)
        with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
            r = asgi_get("/api/prediction/NVDA", token=self.token)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.headers["x-prediction-source"], "postgres")

    def test_it_answers_errors_like_the_drf_view(self) -> None:
        make_symbol("AAPL")
        store_prediction(
            make_symbol("MSFT"), predicted_at=timezone.now() - dt.timedelta(seconds=3600)
        )
        for path in ("/api/prediction/N@VDA", "/api/prediction/ZZZZ", "/api/prediction/AAPL"):
            self.assert_same_answer(path)
        stale = self.assert_same_answer("/api/prediction/MSFT")["fast"]
        self.assertEqual(stale.status_code, 503)
        self.assertEqual(stale.json()["error"]["code"], "prediction_stale")
        self.assertIn("retry-after", stale.headers)
        bad = self.assert_same_answer("/api/prediction/NVDA", {"include_features": "perhaps"})
        self.assertEqual(bad["fast"].status_code, 400)

    def test_it_refuses_bad_and_revoked_tokens_like_the_drf_view(self) -> None:
        put_cached(self.redis, "NVDA")
        r = asgi_get("/api/prediction/NVDA", token="not.a.token")
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()["error"]["code"], "token_not_valid")
        self.assertEqual(asgi_get("/api/prediction/NVDA", token=self.token).status_code, 200)
        self.charlie.set_password("yet-another-password-77")
        self.charlie.save()
        answers = self.assert_same_answer("/api/prediction/NVDA")
        self.assertEqual(answers["fast"].status_code, 401)
        self.assertEqual(answers["fast"].json()["error"]["code"], "password_changed")

    def test_it_refuses_a_deactivated_user(self) -> None:
        put_cached(self.redis, "NVDA")
        self.assertEqual(asgi_get("/api/prediction/NVDA", token=self.token).status_code, 200)
        self.charlie.is_active = False
        self.charlie.save()
        r = asgi_get("/api/prediction/NVDA", token=self.token)
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()["error"]["code"], "user_inactive")

    @override_settings(API_RATE_LIMITS=SMALL)
    def test_it_shares_the_tier_limit_with_the_drf_path(self) -> None:
        put_cached(self.redis, "NVDA")
        token = access_token(self.alice)  # pro: 3 per window here
        drf = APIClient()
        drf.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        self.assertEqual(drf.get("/api/prediction/NVDA").status_code, 200)
        first = asgi_get("/api/prediction/NVDA", token=token)
        self.assertEqual(first.headers["x-ratelimit-remaining"], "1")
        self.assertEqual(asgi_get("/api/prediction/NVDA", token=token).status_code, 200)
        refused = asgi_get("/api/prediction/NVDA", token=token)
        self.assertEqual(refused.status_code, 429)
        self.assertEqual(refused.json()["error"]["code"], "throttled")
        self.assertEqual(refused.headers["x-ratelimit-limit"], "3")
        self.assertGreaterEqual(int(refused.headers["retry-after"]), 1)
        self.assertEqual(drf.get("/api/prediction/NVDA").status_code, 429)

    @override_settings(API_RATE_LIMITS=SMALL)
    def test_it_applies_a_tier_change_at_once(self) -> None:
        put_cached(self.redis, "NVDA")
        token = access_token(self.bob)  # free: 2 per window here
        codes = [asgi_get("/api/prediction/NVDA", token=token).status_code for _ in range(3)]
        self.assertEqual(codes, [200, 200, 429])
        self.bob.tier = "enterprise"  # what an operator does in the admin
        self.bob.save()
        r = asgi_get("/api/prediction/NVDA", token=token)
        self.assertEqual(r.status_code, 200)
        self.assertNotIn("x-ratelimit-limit", r.headers)

    def test_it_leaves_requests_without_a_bearer_token_to_django(self) -> None:
        put_cached(self.redis, "NVDA")
        r = asgi_get("/api/prediction/NVDA")
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()["error"]["code"], "not_authenticated")
        r = asgi_get("/api/no-such-endpoint", token=self.token)
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json()["error"]["code"], "not_found")
