"""The out-of-distribution flag on the site: the card says so; the accuracy page splits on it
and draws the trailing 20-day coverage with its 75-85% band."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from testkit import PASSWORD, BaseTestCase
from web.models import WatchlistItem
from web.tests.factories import (
    make_record,
    make_symbol,
    prediction_payload,
    save_prediction,
    trading_days,
)


class OodCardTests(BaseTestCase):
    def setUp(self):
        super().setUp()
        for ticker, flagged in (("AAPL", True), ("MSFT", False)):
            symbol = make_symbol(ticker)
            save_prediction(
                symbol, prediction_payload(ticker), ood={"score": 9.5, "flagged": flagged}
            )
            WatchlistItem.objects.create(user=self.alice, symbol=symbol)
        self.client.login(username="alice", password=PASSWORD)

    def test_it_says_on_a_flagged_card_that_its_inputs_are_unusual(self):
        html = self.client.get(reverse("dashboard")).content.decode()
        aapl = html[html.index('id="card-aapl"') :]
        aapl = aapl[: aapl.index("</article>")]
        msft = html[html.index('id="card-msft"') :]
        msft = msft[: msft.index("</article>")]
        self.assertIn("Unusual inputs", aapl)
        flag = aapl[aapl.index('data-testid="ood-flag"') :]
        self.assertNotIn("hidden", flag[: flag.index(">")])
        flag = msft[msft.index('data-testid="ood-flag"') :]
        self.assertIn("hidden", flag[: flag.index(">")])


class OodAccuracyTests(BaseTestCase):
    def test_it_shows_flagged_against_unflagged_error_and_the_trailing_coverage(self):
        symbols = [make_symbol(f"S{i}") for i in range(4)]
        days = trading_days(dt.date(2024, 5, 31), 20)
        for day in days:
            for i, symbol in enumerate(symbols):
                record = make_record(symbol, day, 0.0, 0.05 if i == 0 else 0.001)
                record.ood_score, record.ood_flagged = (9.0, True) if i == 0 else (1.0, False)
                record.save()
        page = self.client.get("/accuracy")
        normal = {k["kind"]: k for k in page.context["kinds"]}["normal"]
        # The window: the last 30 days of target dates, all 20 trading days here.
        self.assertEqual(normal["ood"]["flagged"]["n"], 20)
        self.assertEqual(normal["ood"]["unflagged"]["n"], 60)
        self.assertAlmostEqual(normal["ood"]["flagged"]["mae"], 0.05)
        self.assertAlmostEqual(normal["ood"]["unflagged"]["mae"], 0.001)
        self.assertEqual(normal["ood"]["mae_ratio"], 50.0)
        self.assertContains(page, 'data-testid="ood-normal"')
        # 3 of 4 outcomes inside every day: the trailing 20-day coverage is 75% throughout.
        last = normal["series"][-1]
        self.assertAlmostEqual(last["coverage_20d"], 0.75)
        self.assertEqual(page.context["coverage_band"], (0.75, 0.85))
        self.assertContains(page, "75\u201385% band")
