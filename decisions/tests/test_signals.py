"""Signals API: probability of a rise from the quantiles, decile rank among the day's
predictions, the model's drivers (occlusion on a real ONNX graph), the extremes list."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from statistics import NormalDist

import numpy as np
import onnxruntime as ort

from features.definitions import TECHNICAL_FEATURES
from predictions.benchmarks.universe import install_models
from predictions.pipeline import runtime
from predictions.tests.api_support import access_token, make_symbol, store_prediction
from testkit import BaseTestCase

DAY = dt.datetime(2024, 3, 4, tzinfo=dt.UTC)
N = 25


def features(i: int) -> dict[str, float]:
    return {name: 0.01 * (i + 1) * (k + 1) for k, name in enumerate(TECHNICAL_FEATURES)}


class SignalTests(BaseTestCase):
    def setUp(self):
        super().setUp()
        self.models = Path(tempfile.mkdtemp(prefix="signals-models-"))
        self.addCleanup(shutil.rmtree, self.models, ignore_errors=True)
        runtime.clear_cache()
        self.installed = install_models(self.models)
        # 25 symbols predicted from the same day, p50 rising with i; one from an older day.
        for i in range(N):
            p50 = -0.012 + 0.001 * i
            store_prediction(
                make_symbol(f"S{i:02d}"),
                model_type="normal_day",
                model_version="v1",
                predicted_return_1d=p50,
                p10=p50 - 0.02,
                p50=p50,
                p90=p50 + 0.03,
                data_timestamp=DAY,
                features_snapshot=features(i),
            )
        store_prediction(make_symbol("OLD"), data_timestamp=DAY - dt.timedelta(days=1))
        self.auth = {"Authorization": f"Bearer {access_token(self.alice)}"}

    def test_it_gives_the_probability_of_a_rise_the_decile_and_the_drivers(self):
        response = self.client.get("/api/signals/s24", headers=self.auth)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        p10, p50, p90 = body["p10"], body["p50"], body["p90"]
        sigma = (p90 - p10) / (2 * NormalDist().inv_cdf(0.9))
        self.assertAlmostEqual(
            body["prob_up"],
            NormalDist(p50, sigma).cdf(1e9) - NormalDist(p50, sigma).cdf(0),
            places=3,
        )
        self.assertIn("normal_from_quantiles", body["prob_method"])
        self.assertEqual((body["decile"], body["rank"], body["n_symbols"]), (10, 1, N))
        self.assertEqual(self.client.get("/api/signals/S00", headers=self.auth).json()["decile"], 1)
        drivers = body["drivers"]
        self.assertEqual(len(drivers), 5)
        magnitudes = [abs(d["contribution"]) for d in drivers]
        self.assertEqual(magnitudes, sorted(magnitudes, reverse=True))
        # The first driver's contribution, recomputed on the graph: f(x) - f(x without it).
        top = drivers[0]
        x = np.array([features(24)[n] for n in TECHNICAL_FEATURES], dtype=np.float32)[None, :]
        occluded = x.copy()
        occluded[0, list(TECHNICAL_FEATURES).index(top["feature"])] = np.nan
        session = ort.InferenceSession(
            str(Path(self.installed["normal"].artifact_path) / "model.onnx")
        )
        point = [session.run(["point"], {"features": v})[0].item() for v in (x, occluded)]
        self.assertAlmostEqual(top["contribution"], point[0] - point[1], places=5)

    def test_it_lists_the_extremes_of_the_latest_day(self):
        long = self.client.get("/api/signals?top=3&side=long", headers=self.auth).json()
        self.assertEqual([r["symbol"] for r in long["results"]], ["S24", "S23", "S22"])
        short = self.client.get("/api/signals?top=2&side=short", headers=self.auth).json()
        self.assertEqual([r["symbol"] for r in short["results"]], ["S00", "S01"])
        self.assertEqual(short["n_symbols"], N)  # OLD (an older data day) is not ranked
        default = self.client.get("/api/signals", headers=self.auth).json()
        self.assertEqual(len(default["results"]), 20)

    def test_it_answers_errors_in_the_single_error_shape(self):
        self.assertEqual(self.client.get("/api/signals/S01").status_code, 401)
        cases = {
            "/api/signals?side=sideways": (400, "invalid_parameter"),
            "/api/signals?top=0": (400, "invalid_parameter"),
            "/api/signals/$$$": (400, "invalid_symbol"),
            "/api/signals/OLD": (404, "not_found"),
            "/api/signals/ZZZZ": (404, "not_found"),
        }
        for path, (code, error) in cases.items():
            response = self.client.get(path, headers=self.auth)
            self.assertEqual(
                (response.status_code, response.json()["error"]["code"]), (code, error), path
            )

    def test_it_is_in_the_openapi_schema(self):
        paths = self.client.get("/api/schema?format=json").json()["paths"]
        self.assertIn("/api/signals", paths)
        self.assertIn("/api/signals/{symbol}", paths)
