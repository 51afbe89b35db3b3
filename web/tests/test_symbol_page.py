from __future__ import annotations

import datetime as dt

from ingestion.models import EarningsEvent
from testkit import PASSWORD, BaseTestCase
from web.tests.factories import (
    make_bars,
    make_record,
    make_symbol,
    prediction_payload,
    save_prediction,
    trading_days,
)

DAY = dt.date(2024, 5, 1)


class SymbolPageTests(BaseTestCase):
    def setUp(self):
        super().setUp()
        self.nvda = make_symbol("NVDA", "NVIDIA Corporation")
        make_bars(self.nvda, DAY, n=300)
        save_prediction(
            self.nvda,
            prediction_payload("NVDA", ret=0.0123, current=100.0, data_date=DAY),
            features_snapshot={"return_1d": 0.0123, "rsi_14": 54.3219, "dollar_volume": 2.5e9},
        )

    def test_it_renders_the_prediction_without_javascript(self):
        page = self.client.get("/symbol/NVDA")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, 'data-testid="predicted-return">+1.23%<')
        self.assertContains(page, 'data-testid="predicted-price">101.23<')
        self.assertContains(page, "Normal day")
        self.assertContains(page, "Predicted close (2024-05-02)")  # the next trading day
        self.assertContains(page, '98.73</span> \N{EN DASH} <span data-field="p90_price">103.73')
        self.assertContains(page, "quantile_conformal")

    def test_it_shows_the_longer_horizons_with_their_intervals(self):
        horizons = {
            str(h): {
                "target_date": target,
                "model_version": f"v1-{h}d",
                "uncertainty_method": "quantile_conformal",
                "predicted_return": ret,
                "predicted_price": round(100 * (1 + ret), 4),
                "uncertainty_sigma": 0.05,
                "p10": ret - 0.06,
                "p50": ret,
                "p90": ret + 0.07,
            }
            for h, target, ret in ((5, "2024-05-08", 0.021), (20, "2024-05-29", -0.034))
        }
        save_prediction(
            self.nvda,
            prediction_payload("NVDA", ret=0.0123, current=100.0, data_date=DAY),
            horizons=horizons,
        )
        page = self.client.get("/symbol/NVDA")
        bands = page.context["horizon_bands"]
        self.assertEqual([b["horizon"] for b in bands], [5, 20])
        self.assertEqual(bands[0]["time"], "2024-05-08")
        self.assertAlmostEqual(bands[0]["p10"], 100 * (1 + 0.021 - 0.06))
        self.assertAlmostEqual(bands[1]["p90"], 100 * (1 - 0.034 + 0.07))
        self.assertContains(page, 'id="horizon-bands-data"')
        self.assertContains(page, '<tr data-horizon="20">')
        self.assertContains(page, "90.60 \N{EN DASH} 103.60")  # the 20-day 80% interval, prices
        self.assertContains(page, "20 trading days (2024-05-29)")

    def test_it_shows_no_horizons_when_the_prediction_has_none(self):
        page = self.client.get("/symbol/NVDA")
        self.assertEqual(page.context["horizon_bands"], [])
        self.assertNotContains(page, 'data-testid="horizons"')

    def test_it_embeds_250_bars_and_the_predicted_band(self):
        page = self.client.get("/symbol/NVDA")
        bars = page.context["bars"]
        self.assertEqual(len(bars), 250)
        self.assertEqual(bars[-1]["time"], "2024-05-01")
        self.assertLess(bars[0]["time"], bars[-1]["time"])
        band = page.context["band"]
        self.assertEqual(band["time"], "2024-05-02")
        self.assertAlmostEqual(band["p10"], 100 * (1 + 0.0123 - 0.025))
        self.assertAlmostEqual(band["p90"], 100 * (1 + 0.0123 + 0.025))
        self.assertContains(page, 'id="bars-data"')

    def test_it_lists_features_in_contract_order(self):
        page = self.client.get("/symbol/NVDA")
        rows = page.context["features"]
        self.assertEqual(len(rows), 32)  # technical and price action on a normal day
        self.assertEqual(rows[20].name, "gap_1d")
        self.assertEqual(rows[0].name, "return_1d")
        self.assertContains(page, "54.32")
        self.assertContains(page, "$2.50B")

    def test_it_prefers_live_features(self):
        self.redis.hset("features:NVDA", mapping={"rsi_14": "71.5", "data_timestamp": "x"})
        page = self.client.get("/symbol/NVDA")
        self.assertEqual(page.context["features_source"], "live")
        self.assertContains(page, "71.50")

    def test_it_shows_earnings_context_on_earnings_days(self):
        self.assertNotContains(self.client.get("/symbol/NVDA"), 'id="earnings-title"')
        EarningsEvent.objects.create(
            symbol=self.nvda,
            date=DAY,
            reaction_date=dt.date(2024, 5, 2),
            timing="amc",
            eps_estimate=5.0,
            eps_actual=5.5,
            source="test",
        )
        save_prediction(
            self.nvda, prediction_payload("NVDA", data_date=DAY, model_type="earnings_day")
        )
        page = self.client.get("/symbol/NVDA")
        self.assertContains(page, 'id="earnings-title"')
        self.assertContains(page, "+10.00%")  # EPS surprise (5.5 - 5.0) / 5.0
        self.assertEqual(len(page.context["features"]), 49)

    def test_it_hides_figures_not_yet_released(self):
        EarningsEvent.objects.create(
            symbol=self.nvda,
            date=dt.date(2024, 5, 2),  # before the open of the reaction day: not known at t
            reaction_date=dt.date(2024, 5, 2),
            timing="bmo",
            eps_estimate=5.0,
            eps_actual=5.5,
            source="test",
        )
        save_prediction(
            self.nvda, prediction_payload("NVDA", data_date=DAY, model_type="earnings_day")
        )
        page = self.client.get("/symbol/NVDA")
        self.assertIsNone(page.context["earnings"].event.eps_actual)
        self.assertIsNone(page.context["earnings"].surprise)

    def test_it_summarises_the_symbols_prediction_history(self):
        days = trading_days(DAY, 5)
        for day, (pred, real) in zip(
            days,
            [(0.01, 0.02), (0.0, -0.01), (0.01, 0.01), (-0.01, 0.05), (0.02, None)],
            strict=True,
        ):
            make_record(self.nvda, day, pred, real)
        history = self.client.get("/symbol/NVDA").context["history"]
        self.assertEqual(history.n, 4)
        self.assertAlmostEqual(history.mae, (0.01 + 0.01 + 0.0 + 0.06) / 4)
        self.assertAlmostEqual(history.mae_naive, (0.02 + 0.01 + 0.01 + 0.05) / 4)
        self.assertAlmostEqual(history.coverage, 3 / 4)  # 0.05 is outside [-0.03, 0.01]
        self.assertAlmostEqual(history.points[-1]["rolling_mae"], history.mae)

    def test_it_redirects_to_the_upper_case_ticker(self):
        response = self.client.get("/symbol/nvda")
        self.assertRedirects(response, "/symbol/NVDA")

    def test_it_answers_an_unknown_symbol_with_a_friendly_404(self):
        response = self.client.get("/symbol/ZZZZ")
        self.assertEqual(response.status_code, 404)
        self.assertContains(response, "We don't track", status_code=404)
        self.assertContains(response, 'value="ZZZZ"', status_code=404)

    def test_it_offers_explanations_and_watchlist_only_when_logged_in(self):
        page = self.client.get("/symbol/NVDA")
        self.assertNotContains(page, "data-explain-button")
        self.assertContains(page, "to ask for an explanation")
        self.client.login(username="bob", password=PASSWORD)
        page = self.client.get("/symbol/NVDA")
        self.assertContains(page, "data-explain-button")
        self.assertContains(page, "Add to watchlist")
        self.client.post("/watchlist/add", {"symbol": "NVDA", "next": "/symbol/NVDA"})
        self.assertContains(self.client.get("/symbol/NVDA"), "Remove from watchlist")

    def test_it_renders_a_symbol_without_data(self):
        make_symbol("NEW", "Newly Listed")
        page = self.client.get("/symbol/NEW")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "No prediction for NEW yet")
        self.assertContains(page, "No price history stored")
