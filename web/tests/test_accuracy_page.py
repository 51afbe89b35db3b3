from __future__ import annotations

import datetime as dt

from testkit import BaseTestCase
from web.tests.factories import make_record, make_symbol, trading_days


class AccuracyPageTests(BaseTestCase):
    def test_it_renders_without_scored_predictions(self):
        page = self.client.get("/accuracy")
        self.assertEqual(page.status_code, 200)
        # One section per kind: the one-day kinds and the 5- and 20-day horizons.
        self.assertContains(page, "No scored predictions for this model yet", count=4)

    def test_it_shows_mae_against_naive_coverage_and_rank_ic_per_day(self):
        symbols = [make_symbol(f"S{i}") for i in range(6)]
        days = trading_days(dt.date(2024, 5, 1), 3)
        for day in days:
            for i, symbol in enumerate(symbols):
                # Predictions rank the realised returns perfectly: rank IC = 1 each day.
                make_record(symbol, day, 0.001 * i, 0.01 * i - 0.02)
        page = self.client.get("/accuracy")
        kinds = {k["kind"]: k for k in page.context["kinds"]}
        normal = kinds["normal"]
        self.assertEqual(normal["days"], 3)
        point = normal["series"][-1]
        self.assertEqual(point["n"], 6)
        self.assertAlmostEqual(point["rank_ic"], 1.0)
        expected_mae = sum(abs(0.001 * i - (0.01 * i - 0.02)) for i in range(6)) / 6
        self.assertAlmostEqual(point["mae"], expected_mae)
        self.assertAlmostEqual(point["mae_naive"], sum(abs(0.01 * i - 0.02) for i in range(6)) / 6)
        windows = dict(normal["windows"])
        self.assertEqual(windows["30d"]["n"], 18)
        self.assertTrue(normal["has_rank_ic"])
        self.assertEqual(kinds["earnings"]["days"], 0)
        self.assertContains(page, 'id="accuracy-series"')
        self.assertContains(page, 'data-testid="accuracy-normal"')

    def test_it_says_when_no_day_has_enough_symbols_for_a_rank_ic(self):
        symbol = make_symbol("ONE")
        for day in trading_days(dt.date(2024, 5, 1), 3):
            make_record(symbol, day, 0.01, 0.02)
        page = self.client.get("/accuracy")
        normal = {k["kind"]: k for k in page.context["kinds"]}["normal"]
        self.assertFalse(normal["has_rank_ic"])
        self.assertContains(page, "enough scored symbols (at least 5)")
