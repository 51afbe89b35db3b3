"""Market regime on the REAL S&P 500 closes: point-in-time labels, storage, the API, the
dashboard and the accuracy page's breakdown."""

from __future__ import annotations

import datetime as dt
import io
import json
from functools import lru_cache

import numpy as np
import pandas as pd
from django.core.management import call_command

from decisions import regime
from decisions.models import MarketRegime
from predictions.tests.api_support import access_token
from testkit import BaseTestCase
from web.tests.factories import make_record, make_symbol, prediction_payload, save_prediction


@lru_cache(maxsize=1)
def returns_to_april_2020() -> pd.Series:
    return regime.market_returns(dt.date(2020, 4, 30))


def label(series: pd.Series, year: int) -> regime.Labels:
    found = regime.label_year(series, year)
    assert found is not None
    return found


def labels_by_day(labels: regime.Labels) -> pd.Series:
    return pd.Series(labels.regime, index=pd.DatetimeIndex(labels.dates))


class RegimeLabelTests(BaseTestCase):
    def test_it_labels_each_day_only_from_the_returns_before_it(self):
        series = returns_to_april_2020()
        honest = label(series, 2020)
        changed = series.copy()
        crash_day = pd.Timestamp("2020-03-16")
        changed.loc[crash_day] = 0.0  # pretend the -12% day was flat
        altered = label(changed, 2020)
        p_honest = pd.DataFrame(honest.probabilities, index=pd.DatetimeIndex(honest.dates))
        p_altered = pd.DataFrame(altered.probabilities, index=pd.DatetimeIndex(altered.dates))
        # Every label up to and including the crash day itself is untouched by its return...
        before = p_honest.index <= crash_day
        np.testing.assert_array_equal(p_honest[before].to_numpy(), p_altered[before].to_numpy())
        # ...and the next day's label moves (the return is used, only later).
        nxt = pd.Timestamp("2020-03-17")
        self.assertGreater(abs(p_honest.loc[nxt] - p_altered.loc[nxt]).max(), 0.01)
        self.assertEqual(set(honest.model_version), {"hmm3-fit-to-2019-12-31"})

    def test_it_calls_the_2020_crash_turbulent_and_late_2019_calm(self):
        labels = labels_by_day(label(returns_to_april_2020(), 2020))
        self.assertEqual(labels.loc["2020-03-17"], "turbulent")
        self.assertEqual(labels.loc["2020-01-10"], "calm")
        # The last known close (2020-04-30) also labels the next session.
        self.assertEqual(labels.index[-1], pd.Timestamp("2020-05-01"))


class RegimeApiTests(BaseTestCase):
    def store(self):
        labels = label(returns_to_april_2020(), 2020)
        from decisions.regime_store import save

        return save([labels])

    def test_it_serves_todays_regime_with_its_probability_and_history(self):
        self.assertGreater(self.store(), 70)
        token = access_token(self.alice)
        response = self.client.get(
            "/api/market/regime?days=5", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["date"], "2020-05-01")
        self.assertIn(body["regime"], regime.STATE_NAMES)
        self.assertAlmostEqual(body["probability"], max(body["probabilities"].values()))
        self.assertEqual([d["date"] for d in body["history"]][-1], "2020-04-30")
        self.assertEqual(len(body["history"]), 5)
        self.assertIn("hmm", body["method"])

    def test_it_serves_the_regime_of_the_session_the_predictions_are_for(self):
        # In replay the index runs ahead of the replay clock: "today" follows the predictions.
        self.store()
        payload = prediction_payload("AAA", data_date=dt.date(2020, 3, 13))  # a Friday
        save_prediction(make_symbol("AAA"), payload)
        self.client.force_login(self.alice)
        body = self.client.get("/api/market/regime?days=1").json()
        self.assertEqual(body["date"], "2020-03-16")
        self.assertEqual(body["history"][0]["date"], "2020-03-13")
        page = self.client.get("/dashboard")
        self.assertContains(page, "2020-03-16")

    def test_it_answers_errors_in_the_single_error_shape(self):
        anonymous = self.client.get("/api/market/regime")
        self.assertEqual(anonymous.status_code, 401)
        self.assertIn("error", anonymous.json())
        self.client.force_login(self.bob)
        missing = self.client.get("/api/market/regime")
        self.assertEqual(missing.status_code, 404)
        self.assertEqual(missing.json()["error"]["code"], "not_found")
        bad = self.client.get("/api/market/regime?days=x")
        self.assertEqual(bad.json()["error"]["code"], "invalid_parameter")

    def test_it_is_in_the_openapi_schema(self):
        schema = self.client.get("/api/schema?format=json").json()
        self.assertIn("/api/market/regime", schema["paths"])

    def test_it_shows_the_regime_on_the_dashboard(self):
        self.store()
        self.client.force_login(self.alice)
        page = self.client.get("/dashboard")
        self.assertContains(page, 'data-testid="market-regime"')
        stored = MarketRegime.objects.order_by("-date")[0]
        self.assertContains(page, stored.regime.capitalize())

    def test_it_breaks_accuracy_down_by_regime(self):
        self.store()
        symbols = [make_symbol(t) for t in ("AAA", "BBB", "CCC")]
        turbulent = MarketRegime.objects.filter(regime="turbulent")[0].date
        calm = MarketRegime.objects.filter(regime="calm")[0].date
        for i, s in enumerate(symbols):
            make_record(s, turbulent, 0.01 * i, 0.05 * (i - 1))
            make_record(s, calm, 0.001 * i, 0.002 * i)
        page = self.client.get("/accuracy")
        rows = {r["regime"]: r for r in page.context["kinds"][0]["by_regime"]}
        self.assertEqual(set(rows), {"turbulent", "calm"})
        self.assertAlmostEqual(rows["calm"]["rank_ic"] or 0.0, 0.0)  # < MIN_IC_SYMBOLS: no IC
        # |0 - -0.05|, |0.01 - 0|, |0.02 - 0.05|; naive: the mean |realised| = 0.1 / 3.
        self.assertAlmostEqual(rows["turbulent"]["mae"], (0.05 + 0.01 + 0.03) / 3)
        self.assertAlmostEqual(rows["turbulent"]["mae_ratio"], 0.03 / (0.1 / 3))
        self.assertContains(page, 'data-regime="turbulent"')


class RegimeCommandTests(BaseTestCase):
    def test_it_labels_and_stores_every_day_from_a_year(self):
        out = io.StringIO()
        call_command("regimes", "--from-year", "2026", "--json", stdout=out)
        data = json.loads(out.getvalue())
        first = MarketRegime.objects.order_by("date")[0]
        self.assertEqual(first.date, dt.date(2026, 1, 2))
        self.assertEqual(data["days"], MarketRegime.objects.count())
        self.assertEqual(data["today"]["date"], "2026-08-24")
