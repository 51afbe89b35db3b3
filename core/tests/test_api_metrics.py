"""API request metrics: the ASGI fast path and the DRF views feed one histogram, labelled by
route, status and data source, that ``/metrics`` exports (cache hit ratio = source redis share)."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from core.tests.live_cycle import samples, value
from predictions import cache
from predictions.tests.api_support import (
    access_token,
    asgi_get,
    make_symbol,
    put_cached,
    store_prediction,
)
from testkit import BaseTransactionTestCase

COUNT = "stockpred_api_request_duration_seconds_count"


def _count(**labels: str) -> float:
    found = samples(Client().get("/metrics").content.decode())
    return value(found, COUNT, **labels)


def _labels(
    status: str, source: str, method: str = "GET", route: str = "prediction"
) -> dict[str, str]:
    return {"route": route, "method": method, "status": status, "source": source}


class ApiMetricsTestCase(BaseTransactionTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.nvda = make_symbol("NVDA", "NVIDIA Corp")
        self.token = access_token(self.charlie)
        self.drf = APIClient()
        self.drf.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def test_it_counts_fast_path_hits_and_fallbacks_by_source(self) -> None:
        hit, miss = _labels("200", "redis"), _labels("200", "postgres")
        before_hit, before_miss = _count(**hit), _count(**miss)
        put_cached(self.redis, "NVDA")
        for _ in range(3):
            self.assertEqual(asgi_get("/api/prediction/NVDA", token=self.token).status_code, 200)
        self.redis.delete(cache.pred_key("NVDA"))
        store_prediction(self.nvda)
        self.assertEqual(asgi_get("/api/prediction/NVDA", token=self.token).status_code, 200)
        self.assertEqual(_count(**hit) - before_hit, 3)
        self.assertEqual(_count(**miss) - before_miss, 1)

    def test_it_counts_fast_path_errors_with_their_status(self) -> None:
        unknown = _labels("404", "none")
        unauthorized = _labels("401", "none")
        before = _count(**unknown), _count(**unauthorized)
        self.assertEqual(asgi_get("/api/prediction/NOPE", token=self.token).status_code, 404)
        self.assertEqual(asgi_get("/api/prediction/NVDA", token="bad").status_code, 401)
        self.assertEqual(_count(**unknown) - before[0], 1)
        self.assertEqual(_count(**unauthorized) - before[1], 1)

    def test_it_counts_drf_views_by_route_name(self) -> None:
        put_cached(self.redis, "NVDA")
        detail, accuracy = _labels("200", "redis"), _labels("200", "none", route="accuracy")
        before = _count(**detail), _count(**accuracy)
        self.assertEqual(self.drf.get("/api/prediction/NVDA").status_code, 200)
        self.assertEqual(self.drf.get("/api/accuracy").status_code, 200)
        self.assertEqual(_count(**detail) - before[0], 1)
        self.assertEqual(_count(**accuracy) - before[1], 1)

    def test_it_labels_unknown_api_paths_without_the_raw_path(self) -> None:
        unmatched = _labels("404", "none", route="unmatched")
        before = _count(**unmatched)
        self.assertEqual(self.drf.get("/api/no-such-thing/12345").status_code, 404)
        self.assertEqual(_count(**unmatched) - before, 1)
