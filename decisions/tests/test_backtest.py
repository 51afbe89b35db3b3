"""The backtest on forecasts built from the REAL shared prices (a one-line reversal rule, see
``decisions.baseline``): alignment (no forecast trades on or before the day it was made), costs on
turnover, the portfolios, the buy-and-hold, and the command."""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase, TransactionTestCase

from decisions import backtest as bt
from decisions import baseline as wf_files
from decisions import sources

SYMBOLS = [
    "AAPL", "MSFT", "JPM", "XOM", "KO", "PG", "JNJ", "WMT", "CVX", "PFE", "INTC", "CSCO",
    "AMZN", "NVDA", "HD", "MRK", "PEP", "ORCL", "IBM", "MCD", "T", "VZ", "BA", "CAT",
    "GS", "MMM", "DIS", "NKE", "UNH", "C",
]  # fmt: skip


@lru_cache(maxsize=1)
def _prices() -> pd.DataFrame:
    return wf_files.price_rows(SYMBOLS, "2019-09-01", "2020-12-31")


def forecasts() -> pd.DataFrame:
    """Walk-forward-shaped rows, with their trading days, for 2019-10..2020-12."""
    frame = wf_files.reversal_predictions(_prices())
    frame = frame[frame["date"] >= "2019-10-01"].copy()
    frame["trade_date"] = sources.next_sessions(frame["date"])
    return frame


def shifted_into_the_future(frame: pd.DataFrame) -> pd.DataFrame:
    """Each forecast replaced by the one made a day LATER (it knows its own target day)."""
    out = frame.sort_values(["symbol", "date"]).copy()
    for col in ("p10", "p50", "p90"):
        out[col] = out.groupby("symbol")[col].shift(-1)
    return out.dropna(subset=["p50"])


class BacktestTests(TestCase):
    def test_it_trades_each_forecast_only_on_the_session_after_it_was_made(self):
        result = bt.run(forecasts(), bt.Options(cost_bps=0))
        used = result.weights
        self.assertTrue((used["date"] < used["trade_date"]).all())
        # The return booked on the trading day is the close-to-close return INTO that day,
        # measured on the real prices: close(trade_date) / close(date) - 1.
        prices = _prices().assign(date=lambda f: pd.to_datetime(f["date"]))
        close = prices.set_index(["symbol", "date"])["close"]
        sample = used.sample(200, random_state=1)
        expected = (
            close.loc[list(zip(sample["symbol"], sample["trade_date"], strict=True))].to_numpy()
            / close.loc[list(zip(sample["symbol"], sample["date"], strict=True))].to_numpy()
            - 1.0
        )
        np.testing.assert_allclose(sample["realised"].to_numpy(), expected, rtol=1e-6)

    def test_it_refuses_forecasts_shifted_one_day_into_the_future(self):
        honest = forecasts()
        self.assertLess(abs(bt.mean_rank_ic(bt.prepare(honest, bt.Options()))), 0.1)
        with self.assertRaises(bt.LookAheadError) as caught:
            bt.run(shifted_into_the_future(honest), bt.Options())
        self.assertIn("made after those returns were known", str(caught.exception))

    def test_it_refuses_a_forecast_dated_on_its_own_trading_day(self):
        frame = forecasts()
        frame.loc[frame.index[5], "trade_date"] = frame.loc[frame.index[5], "date"]
        with self.assertRaises(bt.LookAheadError):
            bt.run(frame, bt.Options())

    def test_it_charges_costs_on_turnover(self):
        free = bt.run(forecasts(), bt.Options(cost_bps=0))
        costly = bt.run(forecasts(), bt.Options(cost_bps=10))
        for name in bt.STRATEGIES:
            a, b = free.daily[name], costly.daily[name]
            np.testing.assert_allclose(a["gross"] - b["net"], b["turnover"] * 10 / 10_000)
            np.testing.assert_allclose(a["net"], a["gross"])
        # Turnover by hand on one day: sum |w(D) - w(D-1)|, the first day its entry (gross 2).
        w = free.weights.pivot(index="trade_date", columns="symbol", values="long_short_decile")
        w = w.fillna(0.0)
        daily = free.daily["long_short_decile"]
        self.assertAlmostEqual(daily["turnover"].iloc[0], 2.0)
        self.assertAlmostEqual(daily["turnover"].iloc[10], (w.iloc[10] - w.iloc[9]).abs().sum())
        self.assertGreater(daily["turnover"].mean(), 0.1)

    def test_it_builds_decile_portfolios(self):
        weights = bt.run(forecasts(), bt.Options(cost_bps=0)).weights
        by_day = weights.groupby("trade_date")
        np.testing.assert_allclose(by_day["long_short_decile"].sum(), 0.0, atol=1e-12)
        np.testing.assert_allclose(by_day["long_short_decile"].apply(lambda w: w.abs().sum()), 2)
        np.testing.assert_allclose(by_day["long_only_top_decile"].sum(), 1.0)
        top = weights[weights["decile"] == 10]
        self.assertTrue((top["long_only_top_decile"] > 0).all())
        # Inverse-width sizing: within a day's long leg, the narrower interval weighs more.
        day = top[top["trade_date"] == top["trade_date"].iloc[0]]
        width = day["p90"] - day["p10"]
        ratio = day["long_short_inverse_width"] * width
        np.testing.assert_allclose(ratio, ratio.iloc[0], rtol=1e-9)

    def test_it_measures_the_buy_and_hold_on_the_same_days(self):
        result = bt.run(forecasts(), bt.Options(cost_bps=5))
        index = pd.read_csv(
            Path(settings.SHARED_DATA_DIR) / "index/sp500_index_close_1927_2026.csv"
        )
        close = index.set_index(pd.to_datetime(index["Date"]))["Close"]
        day = pd.Timestamp("2020-03-16")  # the crash: -12%
        expected = close.loc[day] / close.loc[pd.Timestamp("2020-03-13")] - 1
        self.assertAlmostEqual(result.benchmark.loc[day], expected)
        self.assertLess(expected, -0.10)
        figures = bt.summary(result)
        self.assertEqual(figures["sp500_buy_and_hold"]["days"], figures["days"])


def store_records() -> pd.DataFrame:
    """The forecasts of Nov-Dec 2020 stored as scored ``PredictionRecord`` rows."""
    from ingestion.models import Symbol
    from predictions.models import PredictionRecord

    frame = forecasts()
    frame = frame[frame["trade_date"] >= "2020-11-01"]
    symbols = {s: Symbol.objects.create(ticker=s, name=s) for s in SYMBOLS}
    PredictionRecord.objects.bulk_create(
        PredictionRecord(
            symbol=symbols[r.symbol],
            data_timestamp=dt.datetime.combine(pd.Timestamp(r.date).date(), dt.time(), dt.UTC),
            target_date=r.trade_date.date(),
            model_type="normal_day",
            model_version="v1",
            current_price=100.0,
            predicted_return_1d=r.p50,
            predicted_price=100.0 * (1 + r.p50),
            p10=r.p10,
            p50=r.p50,
            p90=r.p90,
            predicted_at=dt.datetime.combine(pd.Timestamp(r.date).date(), dt.time(21), dt.UTC),
            realised_return=r.realised,
        )
        for r in frame.itertuples()
    )
    return frame


class BacktestCommandTests(TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="bt-test-"))
        frame = forecasts().drop(columns=["trade_date"])
        self.file = wf_files.write_file(self.tmp / "predictions.csv.gz", frame)

    def test_it_prints_the_figures_per_strategy_as_json(self):
        out = io.StringIO()
        call_command(
            "backtest",
            "--source",
            "walkforward",
            "--file",
            str(self.file),
            "--from",
            "2020-01-01",
            "--cost-bps",
            "5",
            "--json",
            "--no-store",
            stdout=out,
        )
        data = json.loads(out.getvalue())
        self.assertEqual(data["from"], "2020-01-02")
        keys = {"annual_return", "annual_vol", "sharpe", "max_drawdown", "hit_rate", "turnover"}
        for name in bt.STRATEGIES:
            figures = data["strategies"][name]
            self.assertLessEqual(keys | {"days"}, set(figures))
            self.assertLess(figures["annual_return"], figures["before_costs"]["annual_return"])
        self.assertEqual(data["sp500_buy_and_hold"]["days"], data["days"])
        self.assertNotIn("curves", data)

    def test_it_says_which_command_makes_missing_walkforward_predictions(self):
        with (
            self.settings(VAR_DIR=self.tmp / "empty"),
            self.assertRaises(CommandError) as caught,
        ):
            call_command("backtest", "--source", "walkforward", "--json")
        self.assertIn("python manage.py walkforward --model normal", str(caught.exception))

    def test_it_backtests_the_stored_prediction_records(self):
        frame = store_records()
        out = io.StringIO()
        call_command("backtest", "--source", "records", "--json", "--no-store", stdout=out)
        data = json.loads(out.getvalue())
        self.assertEqual(data["source"], "records")
        self.assertEqual(data["days"], frame["trade_date"].nunique())
        direct = bt.summary(bt.run(frame, bt.Options(cost_bps=5)))
        self.assertEqual(data["strategies"], direct["strategies"])


class OtherDatabaseTests(TransactionTestCase):
    """``--database NAME``: the records of another database on the server (a kept replay)."""

    def test_it_reads_the_records_of_the_named_database(self):
        frame = store_records()  # committed: the side connection sees them
        name = connection.settings_dict["NAME"]
        out = io.StringIO()
        call_command(
            "backtest", "--source", "records", "--database", name, "--json", "--no-store",
            stdout=out,
        )  # fmt: skip
        data = json.loads(out.getvalue())
        self.assertEqual(data["database"], name)
        self.assertEqual(data["days"], frame["trade_date"].nunique())

    def test_it_names_a_database_it_cannot_read(self):
        with self.assertRaises(CommandError) as caught:
            call_command(
                "backtest", "--source", "records", "--database", "no_such_replay", "--json",
                "--no-store",
            )  # fmt: skip
        self.assertIn("cannot read stored predictions", str(caught.exception))
        self.assertIn("no_such_replay", str(caught.exception))
