"""End-to-end: a real headless Chromium against a real ASGI server (daphne, with WebSockets),
real PostgreSQL and Redis, and predictions made by the real pipeline cycle (toy ONNX models that
follow the model contract, routing, dual write, Channels publish)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.urls import Resolver404, resolve

import testkit as testing
from ingestion.models import EarningsEvent
from predictions.benchmarks.universe import cycle_input, install_models
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle
from testkit import PASSWORD, make_users
from web.tests.browser import BrowserSession, SpawnedDaphneProcess, missing_requirements
from web.tests.factories import make_bars, make_record, make_symbol, trading_days

pytestmark = pytest.mark.browser

DAY_1 = dt.date(2024, 5, 1)
DAY_2 = dt.date(2024, 5, 2)
TICKERS = ["AAPL", "MSFT", "NVDA", "AMZN", "JPM", "XOM"]
NAMES = {
    "AAPL": "Apple Inc.",
    "MSFT": "Microsoft Corporation",
    "NVDA": "NVIDIA Corporation",
    "AMZN": "Amazon.com, Inc.",
    "JPM": "JPMorgan Chase & Co.",
    "XOM": "Exxon Mobil Corporation",
}

# Counts canvas pixels that differ from the white background: a drawn chart has thousands.
PAINTED_PIXELS_JS = """(selector) => {
  let painted = 0;
  for (const canvas of document.querySelectorAll(selector + ' canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) painted++;
    }
  }
  return painted;
}"""


class SiteInBrowserTests(ChannelsLiveServerTestCase):  # type: ignore[misc]  # Channels is untyped
    ProtocolServerProcess = SpawnedDaphneProcess
    serialized_rollback = False

    @classmethod
    def setUpClass(cls) -> None:
        reason = missing_requirements()
        if reason:
            raise AssertionError(f"browser tests cannot run: {reason}")
        super().setUpClass()

    def setUp(self) -> None:
        super().setUp()
        self.redis = testing.test_redis()
        self.alice, self.bob, self.charlie = make_users()
        self.models_dir = Path(tempfile.mkdtemp(prefix="web-browser-models-"))
        runtime.clear_cache()
        install_models(self.models_dir, horizons=True)  # the 5- and 20-day forecasts too
        self.symbols = {t: make_symbol(t, NAMES[t]) for t in TICKERS}
        for i, ticker in enumerate(TICKERS):
            make_bars(self.symbols[ticker], DAY_1, n=250, base=80.0 + 40 * i)
        # NVDA reports: its next session (DAY_2) reacts, so the earnings-day model predicts it.
        EarningsEvent.objects.create(
            symbol=self.symbols["NVDA"],
            date=DAY_1,
            reaction_date=DAY_2,
            timing="amc",
            eps_estimate=5.59,
            eps_actual=6.12,
            source="test",
        )
        self.cycle(DAY_1, seed=1)
        self.browser = BrowserSession(self.live_server_url)

    def tearDown(self) -> None:
        self.browser.close()
        shutil.rmtree(self.models_dir, ignore_errors=True)
        runtime.clear_cache()
        super().tearDown()

    def cycle(self, day: dt.date, seed: int):
        """One real prediction cycle for every symbol (routing, ONNX, dual write, publish)."""
        latest = {t: self.symbols[t].bars.order_by("-timestamp").first() for t in TICKERS}
        closes = {t: bar.close for t, bar in latest.items() if bar is not None}  # all have bars
        inp = cycle_input(day, TICKERS, seed=seed)
        inp.close[:] = [closes[t] for t in TICKERS]
        result, _ = run_cycle(inp, redis_client=self.redis, realise=False)
        self.assertTrue(result.ok, result.errors)
        self.assertEqual(result.n_predicted, len(TICKERS))
        return result

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        def step(page):
            page.goto("/accounts/login")
            page.locator("#id_username").fill(username)
            page.locator("#id_password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/dashboard")

        self.browser.run(step)

    def test_it_signs_up_fills_the_watchlist_and_updates_a_card_live(self):
        def sign_up(page):
            page.goto("/")
            assert "not financial advice" in page.inner_text("footer")
            page.get_by_role("link", name="Sign up free").click()
            page.get_by_label("Username").fill("dana")
            page.get_by_label("Email").fill("dana@example.org")
            page.locator("#id_password1").fill("a-long-unusual-passphrase-42")
            page.locator("#id_password2").fill("a-long-unusual-passphrase-42")
            page.get_by_label("I agree that StockPred stores").check()
            page.get_by_role("button", name="Sign up").click()
            page.wait_for_url("**/dashboard")
            page.get_by_role("button", name="Log out").click()
            page.wait_for_url(lambda url: url.rstrip("/") == self.live_server_url)

        self.browser.run(sign_up)
        self.log_in("dana", "a-long-unusual-passphrase-42")

        def autocomplete(page):
            page.get_by_label("Search symbols").press_sequentially("micro", delay=30)
            page.wait_for_function(  # a function, not an expression: CSP forbids eval()
                "() => document.querySelector('#symbol-suggestions option[value=\"MSFT\"]')"
            )
            return page.eval_on_selector_all(
                "#symbol-suggestions option", "options => options.map(o => o.label)"
            )

        self.assertEqual(self.browser.run(autocomplete), ["Microsoft Corporation · NASDAQ"])

        def add_symbols(page):
            for ticker in ("AAPL", "NVDA", "MSFT"):
                page.get_by_label("Add a symbol").fill(ticker.lower())
                page.get_by_role("button", name="Add to watchlist").click()
                page.wait_for_selector(f'article[data-symbol="{ticker}"]')
            page.wait_for_function(
                "() => document.querySelector('[data-live-feed]').dataset.subscribed"
                " === 'AAPL,MSFT,NVDA'"
            )
            # A marker that a page reload would erase.
            page.evaluate("() => { window.__notReloaded = true; }")
            return page.inner_text('article[data-symbol="AAPL"] [data-field="predicted_return_1d"]')

        before = self.browser.run(add_symbols)
        self.assertRegex(before, r"^[+-]?\d+\.\d{2}%$")
        self.assertEqual(
            self.browser.run(lambda page: page.inner_text("[data-live-status]")), "Live"
        )

        # The next pipeline cycle (a new trading day) publishes new predictions.
        make_bars(self.symbols["AAPL"], DAY_2, n=1, base=150.0)
        result = self.cycle(DAY_2, seed=2)
        self.assertGreaterEqual(result.published, 3)

        def see_update(page):
            page.wait_for_function(
                "() => document.querySelector('article[data-symbol=\"AAPL\"]').dataset.updatedAt"
            )
            assert page.evaluate("() => window.__notReloaded === true")
            return {
                "return": page.inner_text(
                    'article[data-symbol="AAPL"] [data-field="predicted_return_1d"]'
                ),
                "data_date": page.inner_text(
                    'article[data-symbol="AAPL"] [data-field="data_date"]'
                ),
                "price": page.inner_text(
                    'article[data-symbol="AAPL"] [data-field="current_price"]'
                ),
                "nvda_badge": page.inner_text(
                    'article[data-symbol="NVDA"] [data-field="model_type"]'
                ),
                "announced": page.inner_text("[data-live-announcer]"),
            }

        after = self.browser.run(see_update)
        self.assertEqual(after["data_date"], DAY_2.isoformat())
        self.assertEqual(after["price"], "150.00")
        self.assertRegex(after["return"], r"^[+-]?\d+\.\d{2}%$")
        self.assertEqual(after["nvda_badge"], "Normal day")  # NVDA's earnings day has passed
        self.assertIn("predicted", after["announced"])
        self.browser.run(lambda page: page.wait_for_timeout(1700))  # let the highlight fade
        self.browser.screenshot("dashboard.png")

        def on_a_phone(page):
            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_timeout(300)
            return page.evaluate("() => document.documentElement.scrollWidth")

        self.assertLessEqual(self.browser.run(on_a_phone), 390)  # no sideways scrolling
        self.browser.screenshot("dashboard-mobile.png")
        self.assertEqual(self.browser.page_errors, [])
        self.assertEqual(self.browser.csp_violations, [])

    def test_it_loads_the_other_pages_within_the_content_security_policy(self):
        def visit(page):
            for path in ["/", "/about", "/accounts/login", "/accounts/signup", "/admin/login/"]:
                page.goto(path)
                page.wait_for_load_state("load")
            page.goto("/api/docs")  # Swagger UI from drf-spectacular-sidecar, split init script
            page.wait_for_selector(".swagger-ui .info .title")
            return page.locator(".opblock").count()

        self.assertGreater(self.browser.run(visit), 5)  # the operations were rendered
        self.assertEqual(self.browser.page_errors, [])
        self.assertEqual(self.browser.csp_violations, [])

    def test_it_draws_the_symbol_charts(self):
        # Scored history for the accuracy chart: 30 target days before DAY_1.
        for i, day in enumerate(trading_days(DAY_1, 31)[:-1]):
            make_record(self.symbols["NVDA"], day, 0.002 * ((i % 5) - 2), 0.003 * ((i % 7) - 3))
        self.log_in("alice")

        def open_symbol(page):
            page.goto("/symbol/NVDA")
            page.wait_for_selector('#price-chart[data-drawn="true"] canvas')
            page.wait_for_selector('#history-chart[data-drawn="true"] canvas')
            page.wait_for_timeout(300)  # one animation frame for the paint
            return {
                "price_pixels": page.evaluate(PAINTED_PIXELS_JS, "#price-chart"),
                "history_pixels": page.evaluate(PAINTED_PIXELS_JS, "#history-chart"),
                "badge": page.inner_text('.prediction-panel [data-field="model_type"]'),
                "horizons": page.get_attribute("#price-chart", "data-horizons"),
                "horizon_rows": page.locator('[data-testid="horizons"] tr[data-horizon]').count(),
                "earnings": page.inner_text("#earnings-title"),
            }

        drawn = self.browser.run(open_symbol)
        self.assertGreater(drawn["price_pixels"], 5000)
        self.assertGreater(drawn["history_pixels"], 1000)
        self.assertEqual(drawn["badge"], "Earnings day")
        self.assertEqual(drawn["horizons"], "2")  # the 5- and 20-day ranges on the chart
        self.assertEqual(drawn["horizon_rows"], 2)
        self.assertEqual(drawn["earnings"], "Earnings day")
        self.browser.screenshot("symbol.png")

        def open_accuracy(page):
            page.goto("/accuracy")
            page.wait_for_selector('#chart-mae-normal[data-drawn="true"] canvas')
            page.wait_for_timeout(300)
            return page.evaluate(PAINTED_PIXELS_JS, "#chart-mae-normal")

        self.assertGreater(self.browser.run(open_accuracy), 1000)
        self.browser.screenshot("accuracy.png")
        self.assertEqual(self.browser.page_errors, [])
        self.assertEqual(self.browser.csp_violations, [])

    def test_it_explains_with_the_embedded_llm_on_a_real_explain_worker(self):
        """No stand-in: a Celery worker consuming only ``explain`` runs the whole pipeline for
        the click (drivers on the cycle's ONNX model, retrieval, the embedded llama.cpp model,
        the grounding check, the template if the text fails it) and the page shows its result."""
        from celery.contrib.testing.worker import start_worker

        from config.celery_app import app
        from explanations import cache
        from explanations.indexing import store_batch
        from explanations.llm import llamacpp
        from explanations.models import Explanation
        from explanations.sources import iter_source

        store_batch(list(iter_source("playbooks")))  # a knowledge base to retrieve from
        cache.client().delete(cache.key("NVDA"))
        self.log_in("alice")

        def explain(page):
            page.goto("/symbol/NVDA")
            page.get_by_role("button", name="Explain this prediction").click()
            page.wait_for_selector('[data-testid="explanation"]', timeout=120_000)
            return page.inner_text('[data-testid="explanation"]')

        worker = start_worker(
            app,
            pool="threads",
            concurrency=1,
            perform_ping_check=False,
            shutdown_timeout=60,
            queues=["explain"],
        )
        with worker:
            shown = self.browser.run(explain)
        job = Explanation.objects.get(symbol="NVDA")
        result = job.result
        self.assertEqual(job.status, "completed")
        self.assertIsNotNone(llamacpp._llama)  # the embedded model was loaded and asked
        self.assertGreaterEqual(result["llm_attempts"], 1)
        self.assertIn(result["generator"], ("llm", "template"))
        self.assertTrue(result["grounding"]["passed"], result["grounding"]["problems"])
        first_sentence = result["text"].split(". ")[0]
        self.assertIn(first_sentence, shown)
        self.assertIn(f"Confidence: {round(result['confidence'] * 100)}%", shown)
        self.browser.screenshot("explanation-llm.png")
        self.assertEqual(self.browser.page_errors, [])
        self.assertEqual(self.browser.csp_violations, [])

    def test_it_shows_the_progress_of_an_explanation_job(self):
        try:
            resolve("/api/explanation/NVDA")
        except Resolver404:
            self.skipTest("the explanation API (/api/explanation/{symbol}) is not routed yet")
        self.log_in("alice")

        def explain(page):
            page.goto("/symbol/NVDA")
            page.get_by_role("button", name="Explain this prediction").click()
            # No explain worker runs here, so the job stays in progress and is polled.
            page.wait_for_selector('[data-testid="explain-progress"]')
            page.wait_for_timeout(2500)  # two polls of GET /api/explanation/NVDA
            return {
                "text": page.inner_text("[data-explain-output]"),
                "busy": page.get_attribute("[data-explain-output]", "aria-busy"),
                "button_disabled": page.get_by_role(
                    "button", name="Explain this prediction"
                ).is_disabled(),
            }

        shown = self.browser.run(explain)
        self.assertRegex(shown["text"], r"Working|queued")
        self.assertEqual(shown["busy"], "true")
        self.assertTrue(shown["button_disabled"])

        # The job completes: the explain worker stores its result where GET reads it (the
        # explanations app's cache, keyed to the prediction it explains). No LLM runs here.
        from explanations import cache
        from explanations.models import Explanation

        prediction = self.symbols["NVDA"].prediction
        cache.put(
            "NVDA",
            {
                "job_id": Explanation.objects.get(symbol="NVDA").job_id,
                "data_timestamp": prediction.data_timestamp.isoformat(),
                "model_version": prediction.model_version,
                "explanation": {
                    "text": "NVDA is predicted to move <img src=x onerror=alert(1)> little.",
                    "confidence": 0.72,
                    "key_drivers": ["Strong 20-day momentum (+8.20%)"],
                    "uncertainties": ["Earnings reaction day: wider range"],
                    "sources": [
                        {
                            "title": "NVDA Q1 call",
                            "excerpt": "Demand was strong.",
                            "relevance": 0.78,
                        }
                    ],
                    "generated_at": "2024-05-01T21:00:00Z",
                },
            },
        )

        def see_explanation(page):
            page.wait_for_selector('[data-testid="explanation"]')
            return {
                "text": page.inner_text('[data-testid="explanation"]'),
                "images": page.locator("[data-explain-output] img").count(),
                "busy": page.get_attribute("[data-explain-output]", "aria-busy"),
            }

        done = self.browser.run(see_explanation)
        self.assertIn("<img src=x onerror=alert(1)>", done["text"])  # shown as text, not HTML
        self.assertEqual(done["images"], 0)
        self.assertIn("Strong 20-day momentum (+8.20%)", done["text"])
        self.assertIn("NVDA Q1 call", done["text"])
        self.assertIn("Confidence: 72%", done["text"])
        self.assertEqual(done["busy"], "false")
        self.browser.screenshot("explanation.png")
        self.assertEqual(self.browser.page_errors, [])
        self.assertEqual(self.browser.csp_violations, [])
