"""The /backtest page renders the stored results of ``manage.py backtest`` (computed here from
forecasts built on the real shared prices)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.test import TestCase

from decisions import store
from decisions.backtest import Options, backtest
from decisions.baseline import write_file
from decisions.tests.test_backtest import forecasts


def store_walkforward_result(directory: Path) -> dict:
    """A real backtest of reversal forecasts on real prices, stored like the command does."""
    file = write_file(directory / "wf.csv.gz", forecasts().drop(columns=["trade_date"]))
    result = backtest("walkforward", Options(cost_bps=5), path=file)
    store.save("walkforward", result)
    return result


class BacktestPageTests(TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="bt-page-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def test_it_shows_each_strategy_after_and_before_costs_next_to_buy_and_hold(self):
        with self.settings(BACKTEST_DIR=self.tmp):
            result = store_walkforward_result(self.tmp)
            page = self.client.get("/backtest")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, 'data-testid="backtest-walkforward"')
        for key in ("long_short_decile", "long_only_top_decile", "long_short_inverse_width",
                    "sp500_buy_and_hold"):  # fmt: skip
            self.assertContains(page, f'data-strategy="{key}"')
        sharpe = result["strategies"]["long_short_decile"]["sharpe"]
        self.assertContains(page, f"{sharpe:.2f}")
        curves = page.context["curves"]["walkforward"]["series"]
        self.assertEqual(len(curves["sp500_buy_and_hold"]), result["days"])
        # Nothing stored for the platform's own records yet: the page says how to make it.
        self.assertContains(page, "python manage.py backtest --source records --json")
