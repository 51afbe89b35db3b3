from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from django.test import override_settings

from predictions.ml import wf_store
from testkit import BaseTestCase


def year(y: int, rank_ic: float) -> dict:
    return {
        "year": y, "n": 1000, "mae": 0.014, "mae_naive": 0.0141, "mae_ratio": 0.993,
        "ic": 0.02, "rank_ic": rank_ic, "icir": 1.5, "hit_rate": 0.51,
        "coverage_p10_p90": 0.81, "mean_width_p10_p90": 0.035, "pinball": 0.005,
        "baselines": {
            "zero": {"mae": 0.0141, "mae_naive": 0.0141, "mae_ratio": 1.0, "pinball": 0.007},
            "reversal": {"rank_ic": 0.011, "icir": 0.9},
            "lightgbm": {"mae_ratio": 0.998, "rank_ic": 0.017},
            "ewma_vol": {"coverage_p10_p90": 0.78, "mean_width_p10_p90": 0.04, "pinball": 0.0052},
        },
    }  # fmt: skip


class WalkForwardSectionTests(BaseTestCase):
    def test_it_shows_the_stored_walkforward_per_year_against_baselines(self):
        with tempfile.TemporaryDirectory() as tmp, override_settings(VAR_DIR=Path(tmp)):
            page = self.client.get("/accuracy")
            self.assertContains(page, "No walk-forward result stored yet")
            result = {
                "model": "normal",
                "years": [year(2022, 0.012), year(2023, 0.0345)],
                "summary": {"n": 1000, "rank_ic": 0.0345, "coverage": 0.81},
                "config": {"inputs": ["return_1d"]},
            }
            wf_store.save("normal", result, pd.DataFrame())
            page = self.client.get("/accuracy")
        self.assertContains(page, 'data-testid="walkforward-normal"')
        self.assertContains(page, '<td class="num">0.0345</td>')  # 2023 rank IC
        self.assertContains(page, 'data-walkforward-chart="rank_ic"')
        series = page.context["walkforward_series"]["normal"]
        self.assertEqual(
            series["rank_ic"]["model"],
            [{"time": "2022-07-01", "value": 0.012}, {"time": "2023-07-01", "value": 0.0345}],
        )
        self.assertEqual(series["coverage"]["EWMA vol"][0]["value"], 0.78)
