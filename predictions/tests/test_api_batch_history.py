from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from predictions.models import PredictionRecord
from predictions.tests.api_support import access_token, make_symbol, put_cached, store_prediction
from testkit import BaseTestCase


class ApiTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(self.charlie)}")


class BatchTestCase(ApiTestCase):
    def test_it_mixes_cache_hits_database_reads_and_errors(self) -> None:
        make_symbol("NVDA")
        store_prediction(make_symbol("AAPL"))
        make_symbol("MSFT")  # known, never predicted
        put_cached(self.redis, "NVDA", predicted_return_1d=0.05)
        r = self.client.get("/api/predictions", {"symbols": "nvda, AAPL,MSFT,ZZZZ,NVDA"})
        self.assertEqual(r.status_code, 200)
        body = r.json()
        self.assertEqual([p["symbol"] for p in body["results"]], ["NVDA", "AAPL"])
        self.assertEqual(body["results"][0]["predicted_return_1d"], 0.05)
        self.assertEqual(body["results"][1]["model_version"], "v-db-1")
        self.assertEqual(
            [(e["symbol"], e["code"]) for e in body["errors"]],
            [("MSFT", "prediction_unavailable"), ("ZZZZ", "not_found")],
        )

    def test_it_lists_stale_predictions_as_errors(self) -> None:
        store_prediction(make_symbol("AAPL"), predicted_at=timezone.now() - dt.timedelta(days=1))
        body = self.client.get("/api/predictions?symbols=AAPL").json()
        self.assertEqual(body["results"], [])
        self.assertEqual(body["errors"][0]["code"], "prediction_stale")

    def test_it_serves_the_batch_from_postgresql_when_redis_is_down(self) -> None:
        store_prediction(make_symbol("AAPL"))
        with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
            r = self.client.get("/api/predictions?symbols=AAPL")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["results"][0]["symbol"], "AAPL")

    @override_settings(API_BATCH_MAX_SYMBOLS=3)
    def test_it_bounds_the_number_of_symbols(self) -> None:
        r = self.client.get("/api/predictions?symbols=A,B,C,D")
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["error"]["code"], "too_many_symbols")
        self.assertEqual(r.json()["error"]["details"], {"max": 3, "given": 4})
        self.assertEqual(self.client.get("/api/predictions?symbols=A,B,C").status_code, 200)

    def test_it_refuses_a_malformed_or_empty_list(self) -> None:
        r = self.client.get("/api/predictions?symbols=AAPL,B@D")
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["error"]["code"], "invalid_symbol")
        r = self.client.get("/api/predictions")
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["error"]["code"], "invalid_parameter")


class HistoryTestCase(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.nvda = make_symbol("NVDA")
        start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        PredictionRecord.objects.bulk_create(
            PredictionRecord(
                symbol=self.nvda,
                data_timestamp=start + dt.timedelta(days=i),
                target_date=(start + dt.timedelta(days=i + 1)).date(),
                model_type="normal_day",
                model_version="v1",
                current_price=100 + i,
                predicted_return_1d=0.001 * i,
                predicted_price=(100 + i) * (1 + 0.001 * i),
                p10=-0.02,
                p50=0.0,
                p90=0.02,
                predicted_at=start + dt.timedelta(days=i, hours=1),
                realised_return=0.01 if i < 5 else None,
                abs_error=abs(0.001 * i - 0.01) if i < 5 else None,
                inside_interval=True if i < 5 else None,
            )
            for i in range(7)
        )

    def test_it_pages_records_newest_first_with_realised_returns(self) -> None:
        r = self.client.get("/api/prediction/nvda/history", {"page_size": 3})
        self.assertEqual(r.status_code, 200)
        body = r.json()
        self.assertEqual(body["count"], 7)
        self.assertEqual(
            [row["data_timestamp"][:10] for row in body["results"]],
            ["2024-01-07", "2024-01-06", "2024-01-05"],
        )
        self.assertIsNone(body["results"][0]["realised_return"])
        self.assertEqual(body["results"][2]["realised_return"], 0.01)
        self.assertEqual(body["results"][2]["inside_interval"], True)
        self.assertEqual(body["results"][2]["uncertainty"]["p90"], 0.02)
        last = self.client.get(body["next"].replace("http://testserver", "")).json()
        self.assertEqual(len(last["results"]), 3)
        third = self.client.get("/api/prediction/NVDA/history?page_size=3&page=3").json()
        self.assertEqual([row["target_date"] for row in third["results"]], ["2024-01-02"])

    def test_it_answers_404_and_400_in_the_error_shape(self) -> None:
        r = self.client.get("/api/prediction/ZZZZ/history")
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json()["error"]["code"], "not_found")
        r = self.client.get("/api/prediction/N!/history")
        self.assertEqual(r.status_code, 400)
        r = self.client.get("/api/prediction/NVDA/history?page=99")
        self.assertEqual(r.status_code, 404)
        self.assertIn("error", r.json())

    def test_it_refuses_malformed_pagination_with_400_in_the_error_shape(self) -> None:
        bad = [
            {"page": "abc"},
            {"page": "0"},
            {"page": "-1"},
            {"page": "1.5"},
            {"page": " 2"},
            {"page_size": "0"},
            {"page_size": "501"},
            {"page_size": "x"},
            {"page_size": "1e2"},
            {"page_size": "5_0"},
            {"page_size": "٣"},  # a digit to Python's int(), not to the schema
            {"page_size": ""},
        ]
        for params in bad:
            with self.subTest(params):
                r = self.client.get("/api/prediction/NVDA/history", params)
                self.assertEqual(r.status_code, 400)
                error = r.json()["error"]
                self.assertEqual(error["code"], "invalid_parameter")
                self.assertEqual(error["details"]["parameter"], next(iter(params)))
        ok = self.client.get("/api/prediction/NVDA/history", {"page": "3", "page_size": "3"})
        self.assertEqual(ok.status_code, 200)
        self.assertEqual(len(ok.json()["results"]), 1)
        r = self.client.get("/api/prediction/NVDA/history", {"page_size": "500"})
        self.assertEqual(len(r.json()["results"]), 7)


class ParameterGrammarTestCase(ApiTestCase):
    """What the schema declares (predictions.api.params) is exactly what the server accepts."""

    def setUp(self) -> None:
        super().setUp()
        make_symbol("NVDA")
        put_cached(self.redis, "NVDA")

    def test_it_accepts_symbols_with_spaces_and_either_case_only(self) -> None:
        for symbol in ("nvda", " NVDA", "NVDA  "):
            with self.subTest(symbol):
                self.assertEqual(self.client.get(f"/api/prediction/{symbol}").status_code, 200)
        for symbol in ("ß", "NVDA\t", "\uff2e\uff36\uff24\uff21", "NVDA\n"):
            with self.subTest(symbol):
                # Percent-encoded: urllib would silently drop a raw tab or newline.
                r = self.client.get(f"/api/prediction/{quote(symbol)}")
                self.assertEqual(r.status_code, 400)

    def test_it_accepts_only_the_declared_booleans(self) -> None:
        for value in ("true", "1", "false", "0"):
            r = self.client.get("/api/prediction/NVDA", {"include_features": value})
            self.assertEqual(r.status_code, 200, value)
        for value in ("yes", "TRUE", "", " true"):
            r = self.client.get("/api/prediction/NVDA", {"include_features": value})
            self.assertEqual(r.status_code, 400, value)

    def test_it_refuses_limits_outside_1_to_100(self) -> None:
        for value in ("0", "101", "-5", "ten", "5_0", ""):
            r = self.client.get("/api/symbols", {"limit": value})
            self.assertEqual(r.status_code, 400, value)
        self.assertEqual(self.client.get("/api/symbols", {"limit": "100"}).status_code, 200)

    def test_it_takes_a_nul_in_search_without_crashing(self) -> None:
        r = self.client.get("/api/symbols", {"search": "NV\x00DA"})
        self.assertEqual(r.status_code, 200)

    def test_it_refuses_an_empty_or_space_only_symbol_list(self) -> None:
        for value in ("", " , ,", ","):
            r = self.client.get("/api/predictions", {"symbols": value})
            self.assertEqual(r.status_code, 400, value)
        r = self.client.get("/api/predictions", {"symbols": " nvda , ,NVDA "})
        self.assertEqual(r.status_code, 200)
