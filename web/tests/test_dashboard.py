from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from ingestion.models import AssetType
from testkit import PASSWORD, BaseTestCase
from web.models import WatchlistItem
from web.tests.factories import (
    cache_prediction,
    make_symbol,
    prediction_payload,
    save_prediction,
)


class DashboardTests(BaseTestCase):
    def setUp(self):
        super().setUp()
        self.symbols = {t: make_symbol(t) for t in ("AAPL", "MSFT", "NVDA", "XOM", "JPM")}
        returns = {"AAPL": 0.0123, "MSFT": -0.0045, "NVDA": 0.031, "XOM": -0.02, "JPM": 0.0}
        for ticker, ret in returns.items():
            save_prediction(
                self.symbols[ticker],
                prediction_payload(ticker, ret=ret, current=1234.5),
            )
        WatchlistItem.objects.create(user=self.alice, symbol=self.symbols["AAPL"])
        WatchlistItem.objects.create(user=self.alice, symbol=self.symbols["MSFT"])
        self.client.login(username="alice", password=PASSWORD)

    def test_it_renders_cards_readable_without_javascript(self):
        page = self.client.get(reverse("dashboard"))
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        # Server-rendered figures, formatted as traders read them.
        self.assertIn('data-field="predicted_return_1d">+1.23%<', html)
        self.assertIn('data-field="predicted_return_1d">-0.45%<', html)
        self.assertIn('data-field="current_price">1,234.50<', html)
        self.assertIn('data-field="predicted_price">1,249.68<', html)  # 1234.5 * 1.0123
        # 80% interval as prices: p10 = ret - 2.5%.
        self.assertIn('data-field="p10_price">1,218.82<', html)
        self.assertIn('data-field="model_version">v1<', html)

    def test_it_prefers_the_live_redis_prediction(self):
        cache_prediction(self.redis, prediction_payload("AAPL", ret=0.05, current=200.0))
        page = self.client.get(reverse("dashboard"))
        self.assertContains(page, 'data-field="predicted_return_1d">+5.00%<')
        self.assertContains(page, 'data-field="current_price">200.00<')

    def test_it_embeds_a_websocket_token_for_the_user(self):
        from rest_framework_simplejwt.tokens import AccessToken

        page = self.client.get(reverse("dashboard"))
        token = AccessToken(page.context["ws_token"])
        self.assertEqual(str(token["user_id"]), str(self.alice.pk))
        self.assertContains(page, 'id="ws-token"')
        self.assertContains(page, 'data-ws-path="/ws/predictions"')

    def test_it_shows_the_market_overview(self):
        page = self.client.get(reverse("dashboard"))
        overview = page.context["overview"]
        self.assertEqual([p.symbol for p in overview.up], ["NVDA", "AAPL"])
        self.assertEqual([p.symbol for p in overview.down], ["XOM", "MSFT"])
        self.assertEqual(overview.freshness.symbols, 5)
        self.assertEqual(overview.freshness.latest_data_date, dt.date(2024, 5, 1))
        self.assertFalse(overview.freshness.is_stale)

    def test_it_lists_symbols_with_earnings_today(self):
        save_prediction(
            self.symbols["NVDA"], prediction_payload("NVDA", ret=0.031, model_type="earnings_day")
        )
        self.redis.set("earnings_flag:JPM", "1")
        page = self.client.get(reverse("overview"))
        self.assertEqual([p.symbol for p in page.context["overview"].earnings], ["JPM", "NVDA"])
        self.assertContains(page, "Earnings today")

    def test_it_marks_stale_predictions(self):
        old = timezone.now() - dt.timedelta(hours=2)
        for ticker in self.symbols:
            save_prediction(self.symbols[ticker], prediction_payload(ticker, predicted_at=old))
        page = self.client.get(reverse("dashboard"))
        self.assertTrue(page.context["overview"].freshness.is_stale)
        self.assertContains(page, "Predictions are stale")
        self.assertContains(page, "2 h ago")

    def test_it_leaves_indices_out_of_the_movers(self):
        index = make_symbol("^GSPC", "S&P 500", asset_type=AssetType.INDEX)
        save_prediction(index, prediction_payload("^GSPC", ret=0.5))
        page = self.client.get(reverse("overview"))
        self.assertNotIn("^GSPC", [p.symbol for p in page.context["overview"].up])

    def test_it_searches_without_javascript(self):
        response = self.client.get(reverse("search"), {"q": "msft"})
        self.assertRedirects(response, "/symbol/MSFT")
        response = self.client.get(reverse("search"), {"q": "Inc"})
        self.assertContains(response, 'href="/symbol/AAPL"')


class DashboardQueryTests(BaseTestCase):
    def test_it_does_not_query_per_card(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        symbols = [make_symbol(f"Q{i}") for i in range(12)]
        for s in symbols:
            save_prediction(s, prediction_payload(s.ticker))
        self.client.login(username="bob", password=PASSWORD)

        def count(n: int) -> int:
            WatchlistItem.objects.filter(user=self.bob).delete()
            for s in symbols[:n]:
                WatchlistItem.objects.create(user=self.bob, symbol=s)
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(reverse("dashboard")).status_code, 200)
            return len(ctx.captured_queries)

        self.assertEqual(count(2), count(12))


class EmptyDashboardTests(BaseTestCase):
    def test_it_says_when_there_are_no_predictions_yet(self):
        self.client.login(username="charlie", password=PASSWORD)
        page = self.client.get(reverse("dashboard"))
        self.assertContains(page, "No predictions yet")
        self.assertNotContains(page, "Predictions are stale")
        self.assertContains(page, "Your watchlist is empty")
