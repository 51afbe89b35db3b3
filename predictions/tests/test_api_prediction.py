from __future__ import annotations

import datetime as dt

from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from ingestion.models import AssetType
from predictions.tests.api_support import access_token, make_symbol, put_cached, store_prediction
from testkit import BaseTestCase

REDIS_DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


class PredictionViewTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.nvda = make_symbol("NVDA", "NVIDIA Corp")
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(self.charlie)}")

    def test_it_serves_the_cached_prediction_in_the_architecture_shape(self) -> None:
        record = put_cached(self.redis, "NVDA", predicted_return_1d=0.0321)
        r = self.client.get("/api/prediction/nvda")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r["X-Prediction-Source"], "redis")
        body = r.json()
        self.assertEqual(body["symbol"], "NVDA")
        self.assertEqual(body["predicted_return_1d"], 0.0321)
        self.assertEqual(
            body["uncertainty"],
            {
                "sigma": 0.018,
                "p10": -0.010,
                "p50": 0.012,
                "p90": 0.035,
                "method": "quantile_conformal",
            },
        )
        self.assertEqual(body["predicted_at"], record["predicted_at"])
        self.assertIn(body["data_freshness_sec"], range(4, 10))
        self.assertIsNone(body["features"])
        for key in ("current_price", "predicted_price", "model_type", "model_version"):
            self.assertEqual(body[key], record[key])

    def test_it_includes_features_from_the_feature_store(self) -> None:
        put_cached(self.redis, "NVDA")
        self.redis.hset(
            "features:NVDA",
            mapping={"return_1d": "0.0026", "rsi_14": "62.5", "eps_surprise": "nan"},
        )
        r = self.client.get("/api/prediction/NVDA", {"include_features": "true"})
        self.assertEqual(r.status_code, 200)
        self.assertEqual(
            r.json()["features"], {"return_1d": 0.0026, "rsi_14": 62.5, "eps_surprise": None}
        )

    def test_it_falls_back_to_the_features_snapshot(self) -> None:
        put_cached(self.redis, "NVDA")
        store_prediction(self.nvda)
        r = self.client.get("/api/prediction/NVDA?include_features=1")
        self.assertEqual(r.json()["features"], {"return_1d": 0.01, "rsi_14": 55.0})

    def test_it_answers_the_prediction_own_features_while_the_hash_is_of_another_day(self) -> None:
        put_cached(self.redis, "NVDA")  # made from the features of 2024-03-05
        store_prediction(self.nvda, data_timestamp=dt.datetime(2024, 3, 5, tzinfo=dt.UTC))
        later = {"rsi_14": "40.5", "data_timestamp": "2024-03-06T00:00:00Z"}
        self.redis.hset("features:NVDA", mapping=later)
        r = self.client.get("/api/prediction/NVDA?include_features=1")
        self.assertEqual(r.json()["features"], {"return_1d": 0.01, "rsi_14": 55.0})
        self.redis.hset("features:NVDA", "data_timestamp", "2024-03-05T00:00:00Z")
        r = self.client.get("/api/prediction/NVDA?include_features=1")
        self.assertEqual(
            r.json()["features"], {"rsi_14": 40.5, "data_timestamp": "2024-03-05T00:00:00Z"}
        )

    def test_it_reads_postgresql_on_a_cache_miss(self) -> None:
        store_prediction(self.nvda)
        r = self.client.get("/api/prediction/NVDA")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r["X-Prediction-Source"], "postgres")
        body = r.json()
        self.assertEqual(body["model_version"], "v-db-1")
        self.assertEqual(body["predicted_return_1d"], -0.004)
        self.assertEqual(body["uncertainty"]["p90"], 0.021)
        self.assertEqual(body["data_timestamp"], "2024-03-04T00:00:00Z")

    def test_it_reads_postgresql_when_redis_is_down(self) -> None:
        put_cached(self.redis, "NVDA", model_version="from-redis")
        store_prediction(self.nvda)
        with override_settings(REDIS_URL=REDIS_DOWN):
            r = self.client.get("/api/prediction/NVDA")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r["X-Prediction-Source"], "postgres")
        self.assertEqual(r.json()["model_version"], "v-db-1")

    def test_it_answers_400_for_a_malformed_symbol(self) -> None:
        for bad in ("N@VDA", "ABCDEFGHIJK", "nv da"):
            r = self.client.get(f"/api/prediction/{bad}")
            self.assertEqual(r.status_code, 400, bad)
            self.assertEqual(r.json()["error"]["code"], "invalid_symbol")

    def test_it_answers_400_for_a_bad_include_features(self) -> None:
        r = self.client.get("/api/prediction/NVDA", {"include_features": "maybe"})
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["error"]["code"], "invalid_parameter")

    def test_it_answers_404_for_an_unknown_symbol(self) -> None:
        r = self.client.get("/api/prediction/ZZZZ")
        self.assertEqual(r.status_code, 404)
        self.assertEqual(
            r.json(),
            {
                "error": {
                    "code": "not_found",
                    "message": "Unknown symbol 'ZZZZ'",
                    "details": {"symbol": "ZZZZ"},
                }
            },
        )

    def test_it_answers_404_for_an_index_it_never_predicts(self) -> None:
        make_symbol("^GSPC", asset_type=AssetType.INDEX)
        r = self.client.get("/api/prediction/^GSPC")
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json()["error"]["code"], "not_predicted")

    def test_it_answers_503_when_the_prediction_is_stale(self) -> None:
        store_prediction(self.nvda, predicted_at=timezone.now() - dt.timedelta(seconds=700))
        r = self.client.get("/api/prediction/NVDA")
        self.assertEqual(r.status_code, 503)
        error = r.json()["error"]
        self.assertEqual(error["code"], "prediction_stale")
        self.assertGreaterEqual(error["details"]["age_sec"], 700)
        self.assertIn("Retry-After", r)

    @override_settings(PREDICTION_STALE_SECONDS=60)
    def test_it_follows_the_stale_threshold_setting(self) -> None:
        put_cached(self.redis, "NVDA", predicted_at="2024-01-01T00:00:00Z")
        r = self.client.get("/api/prediction/NVDA")
        self.assertEqual(r.status_code, 503)

    def test_it_answers_503_for_a_known_symbol_without_a_prediction(self) -> None:
        r = self.client.get("/api/prediction/NVDA")
        self.assertEqual(r.status_code, 503)
        self.assertEqual(r.json()["error"]["code"], "prediction_unavailable")

    def test_it_requires_authentication(self) -> None:
        r = APIClient().get("/api/prediction/NVDA")
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()["error"]["code"], "not_authenticated")

    def test_it_refuses_a_token_issued_before_a_password_change(self) -> None:
        put_cached(self.redis, "NVDA")
        self.assertEqual(self.client.get("/api/prediction/NVDA").status_code, 200)
        self.charlie.set_password("another-long-password-9")
        self.charlie.save()
        r = self.client.get("/api/prediction/NVDA")
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()["error"]["code"], "password_changed")

    def test_it_serves_the_website_session(self) -> None:
        put_cached(self.redis, "NVDA")
        client = APIClient()
        client.force_login(self.alice)
        self.assertEqual(client.get("/api/prediction/NVDA").status_code, 200)
