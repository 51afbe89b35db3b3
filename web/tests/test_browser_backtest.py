"""The /backtest page in a real headless Chromium against a real ASGI server: the stored
backtest (forecasts built on the real shared prices) is drawn as equity curves with its table."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from channels.testing import ChannelsLiveServerTestCase

from web.tests.browser import BrowserSession, SpawnedDaphneProcess, missing_requirements
from web.tests.test_backtest_page import store_walkforward_result
from web.tests.test_browser_site import PAINTED_PIXELS_JS

pytestmark = pytest.mark.browser


class BacktestInBrowserTests(ChannelsLiveServerTestCase):  # type: ignore[misc]  # Channels is untyped
    ProtocolServerProcess = SpawnedDaphneProcess
    serialized_rollback = False

    @classmethod
    def setUpClass(cls) -> None:
        reason = missing_requirements()
        if reason:
            raise AssertionError(f"browser tests cannot run: {reason}")
        # The server is a spawned interpreter: it finds the stored result through the env.
        cls.results_dir = Path(tempfile.mkdtemp(prefix="bt-browser-"))
        cls.previous_dir = os.environ.get("BACKTEST_DIR")
        os.environ["BACKTEST_DIR"] = str(cls.results_dir)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        if cls.previous_dir is None:
            os.environ.pop("BACKTEST_DIR", None)
        else:
            os.environ["BACKTEST_DIR"] = cls.previous_dir
        shutil.rmtree(cls.results_dir, ignore_errors=True)

    def setUp(self) -> None:
        super().setUp()
        with self.settings(BACKTEST_DIR=self.results_dir):
            self.result = store_walkforward_result(self.results_dir)
        self.browser = BrowserSession(self.live_server_url)
        self.addCleanup(self.browser.close)

    def test_it_draws_the_equity_curves_and_the_table(self):
        def visit(page):
            page.goto("/backtest")
            page.get_by_role("link", name="Backtest").wait_for()
            page.wait_for_selector('[data-backtest-chart="walkforward"][data-drawn="true"]')
            rows = page.locator('[data-testid="backtest-walkforward"] tbody tr').count()
            bench = page.inner_text('tr[data-strategy="sp500_buy_and_hold"]')
            painted = page.evaluate(PAINTED_PIXELS_JS, '[data-backtest-chart="walkforward"]')
            return rows, bench, painted

        rows, bench, painted = self.browser.run(visit)
        self.assertEqual(rows, 4)
        self.assertIn("S&P 500 buy-and-hold", bench)
        self.assertGreater(painted, 2000)
        self.assertEqual(self.browser.page_errors, [])
        self.assertEqual(self.browser.console_errors, [])
