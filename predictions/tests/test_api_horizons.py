"""GET /api/prediction/{symbol}?horizons=1,5,20 (issue 19), on the fast path and the DRF view
alike: the default body is unchanged, the horizons come from Redis or PostgreSQL, bad values
are a 400 in the single error shape; and the WebSocket subscription that asks for horizons."""

from __future__ import annotations

import datetime as dt
import json

from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework.test import APIClient

from predictions.consumers import forget_known_symbols
from predictions.tests.api_support import (
    access_token,
    asgi_get,
    cached_record,
    iso,
    make_symbol,
    put_cached,
    store_prediction,
)
from predictions.tests.test_ws_feed import publish
from testkit import BaseTransactionTestCase
from testkit.websockets import receive_json

STORED = {
    "5": {
        "target_date": "2024-03-12",
        "model_version": "v-test-1-5d",
        "uncertainty_method": "quantile_conformal",
        "predicted_return": 0.021,
        "predicted_price": 153.15,
        "uncertainty_sigma": 0.04,
        "p10": -0.03,
        "p50": 0.02,
        "p90": 0.0725,
    },
    "20": {
        "target_date": "2024-04-02",
        "model_version": "v-test-1-20d",
        "uncertainty_method": "quantile_conformal",
        "predicted_return": 0.05,
        "predicted_price": 157.5,
        "uncertainty_sigma": 0.08,
        "p10": -0.06,
        "p50": 0.045,
        "p90": 0.145,
    },
}
DEFAULT_KEYS = {
    "symbol", "current_price", "predicted_return_1d", "predicted_price", "uncertainty",
    "model_type", "model_version", "predicted_at", "data_timestamp", "data_freshness_sec",
    "features", "ood",
}  # fmt: skip


class HorizonsApiTestCase(BaseTransactionTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.nvda = make_symbol("NVDA", "NVIDIA Corp")
        self.token = access_token(self.charlie)
        self.drf = APIClient()
        self.drf.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def both(self, query: dict | None = None) -> dict:
        """The fast path's and the DRF view's answers, checked equal; returns the body."""
        fast = asgi_get("/api/prediction/NVDA", token=self.token, query=query)
        slow = self.drf.get("/api/prediction/NVDA", query or {})
        self.assertEqual(fast.status_code, slow.status_code)
        fast_body, slow_body = fast.json(), slow.json()
        for body in (fast_body, slow_body):
            body.pop("data_freshness_sec", None)
        self.assertEqual(fast_body, slow_body)
        return {"status": fast.status_code, **fast_body}

    def test_it_keeps_the_default_body_and_adds_horizons_on_request(self) -> None:
        at = iso(timezone.now() - dt.timedelta(seconds=5))
        put_cached(self.redis, "NVDA", predicted_at=at)
        plain = self.both()
        put_cached(self.redis, "NVDA", predicted_at=at, horizons=STORED)
        default = self.both()
        self.assertEqual(default, plain)  # a cached record with horizons: the same body
        self.assertEqual(set(default) - {"status"}, DEFAULT_KEYS - {"data_freshness_sec"})
        body = self.both({"horizons": "1,5,20"})
        self.assertEqual([h["horizon"] for h in body["horizons"]], [1, 5, 20])
        one, five, twenty = body["horizons"]
        # The one-day entry repeats the top-level forecast; its target is t's next trading day.
        self.assertEqual(one["predicted_return"], body["predicted_return_1d"])
        self.assertEqual(one["uncertainty"], body["uncertainty"])
        self.assertEqual(one["target_date"], "2024-03-06")
        self.assertEqual(five["target_date"], "2024-03-12")
        self.assertEqual(five["predicted_return"], 0.021)
        self.assertEqual(
            five["uncertainty"],
            {
                "sigma": 0.04,
                "p10": -0.03,
                "p50": 0.02,
                "p90": 0.0725,
                "method": "quantile_conformal",
            },
        )
        self.assertEqual(twenty["model_version"], "v-test-1-20d")
        order = self.both({"horizons": "20,1,20"})
        self.assertEqual([h["horizon"] for h in order["horizons"]], [20, 1])

    def test_it_answers_null_figures_for_a_horizon_never_predicted(self) -> None:
        put_cached(self.redis, "NVDA")
        body = self.both({"horizons": "5"})
        self.assertEqual(
            body["horizons"],
            [
                {
                    "horizon": 5,
                    "target_date": None,
                    "predicted_return": None,
                    "predicted_price": None,
                    "uncertainty": None,
                    "model_version": None,
                }
            ],
        )

    def test_it_serves_horizons_from_postgresql_on_a_miss(self) -> None:
        store_prediction(self.nvda, horizons=STORED)
        body = self.both({"horizons": "20"})
        self.assertEqual(body["horizons"][0]["predicted_price"], 157.5)
        self.assertNotIn("horizons", self.both())

    def test_it_refuses_bad_horizons_with_400(self) -> None:
        put_cached(self.redis, "NVDA")
        for bad in ("", "2", "1,,5", "1,5,", "abc", "1;5", " 5", "05", "1," * 10 + "1"):
            body = self.both({"horizons": bad})
            self.assertEqual(body["status"], 400, bad)
            self.assertEqual(body["error"]["code"], "invalid_parameter")
            self.assertEqual(body["error"]["details"]["allowed"], [1, 5, 20])


class HorizonsFeedTestCase(BaseTransactionTestCase):
    def setUp(self) -> None:
        super().setUp()
        forget_known_symbols()
        for ticker in ("NVDA", "AAPL"):
            make_symbol(ticker)
        self.token = access_token(self.alice)

    def test_it_pushes_horizons_only_to_subscriptions_that_ask(self) -> None:
        from config.asgi import application

        async def scenario() -> None:
            comm = WebsocketCommunicator(application, f"/ws/predictions?token={self.token}")
            ok, _ = await comm.connect()
            self.assertTrue(ok)
            await comm.send_json_to({"action": "subscribe", "symbols": ["NVDA"], "horizons": [5]})
            ack = await receive_json(comm)
            self.assertEqual(ack["horizons"], [5])
            await comm.send_json_to({"action": "subscribe", "symbols": ["AAPL"]})
            self.assertNotIn("horizons", await receive_json(comm))
            for bad in ([2], [], "5", [5.0], [True]):
                await comm.send_json_to(
                    {"action": "subscribe", "symbols": ["AAPL"], "horizons": bad}
                )
                self.assertEqual((await receive_json(comm))["error"]["code"], "invalid_message")
            payloads = [cached_record(t, horizons=STORED) for t in ("NVDA", "AAPL")]
            await publish(payloads)
            frames = {f["symbol"]: f for f in [await receive_json(comm), await receive_json(comm)]}
            plain = {"type": "prediction_update", **payloads[1]}
            plain.pop("horizons")
            self.assertEqual(frames["AAPL"], plain)  # the update as before
            nvda = frames["NVDA"]
            self.assertEqual(len(nvda["horizons"]), 1)
            self.assertEqual(nvda["horizons"][0]["horizon"], 5)
            self.assertEqual(nvda["horizons"][0]["predicted_return"], 0.021)
            self.assertEqual(nvda["horizons"][0]["target_date"], "2024-03-12")
            await comm.disconnect()

        async_to_sync(scenario)()


def test_it_writes_horizon_objects_that_round_trip_as_json():
    from predictions.latest import LatestPrediction, Source

    record = LatestPrediction.from_mapping(
        cached_record("NVDA", horizons=json.dumps(STORED)), Source.REDIS
    )
    assert record.horizon(20) == STORED["20"] and record.horizon(1) is None
    assert record.to_json()["horizons"] == STORED
    assert record.age_seconds(record.predicted_at + dt.timedelta(seconds=3)) == 3
