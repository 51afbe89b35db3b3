from __future__ import annotations

import datetime as dt

import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from ingestion.models import Symbol
from predictions.models import PredictionRecord
from predictions.tests.api_support import access_token, make_symbol
from testkit import BaseTestCase


class ApiTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(self.alice)}")


class SymbolsTestCase(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        make_symbol("AMD", "Advanced Micro Devices")
        make_symbol("AMZN", "Amazon.com Inc")
        make_symbol("GOOGL", "Alphabet Inc (Amazing)")
        make_symbol("AM", "Antero Midstream")
        Symbol.objects.create(ticker="AMX", name="Delisted", active=False)

    def test_it_ranks_exact_then_prefix_then_name_matches(self) -> None:
        r = self.client.get("/api/symbols", {"search": "am"})
        self.assertEqual(r.status_code, 200)
        results = r.json()["results"]
        self.assertEqual([s["symbol"] for s in results], ["AM", "AMD", "AMZN", "GOOGL"])
        self.assertEqual(
            results[1],
            {
                "symbol": "AMD",
                "name": "Advanced Micro Devices",
                "exchange": "NASDAQ",
                "sector": "Tech",
            },
        )

    def test_it_limits_results(self) -> None:
        r = self.client.get("/api/symbols", {"limit": 2})
        self.assertEqual([s["symbol"] for s in r.json()["results"]], ["AM", "AMD"])
        self.assertEqual(self.client.get("/api/symbols", {"limit": 0}).status_code, 400)


class AccuracyTestCase(ApiTestCase):
    def test_it_reports_rolling_accuracy_per_model_kind(self) -> None:
        nvda = make_symbol("NVDA")
        day = dt.datetime(2024, 3, 4, tzinfo=dt.UTC)
        PredictionRecord.objects.create(
            symbol=nvda,
            data_timestamp=day,
            target_date=dt.date(2024, 3, 5),
            model_type="normal_day",
            model_version="v1",
            current_price=100,
            predicted_return_1d=0.01,
            predicted_price=101,
            p10=-0.02,
            p90=0.02,
            predicted_at=day,
            realised_return=0.03,
            abs_error=0.02,
            inside_interval=False,
        )
        r = self.client.get("/api/accuracy")
        self.assertEqual(r.status_code, 200)
        body = r.json()
        self.assertEqual(set(body), {"normal", "earnings", "horizon_5d", "horizon_20d"})
        self.assertEqual(body["normal"]["30d"]["n"], 1)
        self.assertAlmostEqual(body["normal"]["30d"]["mae"], 0.02)
        self.assertEqual(body["normal"]["30d"]["coverage_p10_p90"], 0.0)
        self.assertEqual(body["earnings"]["24h"]["n"], 0)


class SchemaTestCase(BaseTestCase):
    def test_it_publishes_a_valid_schema_covering_every_endpoint(self) -> None:
        # --validate checks it against the OpenAPI 3 JSON schema; --fail-on-warn makes any
        # undocumented view or unresolvable serializer fail the test.
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
        r = APIClient().get("/api/schema")
        self.assertEqual(r.status_code, 200)
        schema = yaml.safe_load(r.content)
        paths = schema["paths"]
        for path in (
            "/api/auth/token",
            "/api/auth/token/refresh",
            "/api/prediction/{symbol}",
            "/api/prediction/{symbol}/history",
            "/api/predictions",
            "/api/symbols",
            "/api/accuracy",
        ):
            self.assertIn(path, paths)
        detail = paths["/api/prediction/{symbol}"]["get"]["responses"]
        self.assertEqual(set(detail), {"200", "400", "401", "404", "429", "503"})
        error = detail["404"]["content"]["application/json"]["schema"]["$ref"]
        self.assertEqual(error, "#/components/schemas/Error")
        self.assertIn("jwtAuth", schema["components"]["securitySchemes"])

    def test_it_serves_the_interactive_docs(self) -> None:
        r = APIClient().get("/api/docs")
        self.assertEqual(r.status_code, 200)
        self.assertIn(b"swagger", r.content.lower())
        # Self-hosted assets: the page must work without reaching any CDN.
        self.assertNotIn(b"cdn.jsdelivr.net", r.content)
        self.assertIn(b"/static/drf_spectacular_sidecar/swagger-ui-dist/", r.content)
