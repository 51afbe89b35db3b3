"""Earnings features are point in time: a fact is used only from the day it was known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.definitions import EARNINGS_FEATURES
from features.earnings import EarningsData, earnings_features_rows

COL = {n: i for i, n in enumerate(EARNINGS_FEATURES)}


def _rows(panel, sym: str, day: str):
    s = np.array([panel.row(sym)])
    t = np.array([int(np.searchsorted(panel.dates, np.datetime64(day)))])
    assert panel.dates[t[0]] == np.datetime64(day)
    return s, t


def _events(rows) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["ticker", "date", "reaction_date", "eps_estimate", "eps_actual"]
    )
    frame["revenue_estimate"] = np.nan
    frame["revenue_actual"] = np.nan
    return frame


def test_it_uses_an_eps_surprise_only_from_its_release_date(real_panel):
    # AAPL released FY2019 Q4 results on 2019-10-30 after the close (EPS 3.03 vs 2.84 est.).
    data = EarningsData(
        _events([("AAPL", "2019-10-30", "2019-10-31", 2.84, 3.03)]), pd.DataFrame(), pd.DataFrame()
    )
    f = lambda day: earnings_features_rows(  # noqa: E731
        data,
        real_panel.tickers,
        real_panel.dates,
        real_panel.close,
        *_rows(real_panel, "AAPL", day),
    )[0]
    assert np.isnan(f("2019-10-29")[COL["eps_surprise_pct"]])
    assert f("2019-10-30")[COL["eps_surprise_pct"]] == pytest.approx((3.03 - 2.84) / 2.84)
    # Still there a month later, gone once stale (> 70 sessions).
    assert np.isfinite(f("2019-11-29")[COL["eps_surprise_pct"]])
    assert np.isnan(earnings_features_rows(
        data, real_panel.tickers, real_panel.dates, real_panel.close,
        *_rows(real_panel, "AAPL", "2019-10-29"))[0]).all()  # fmt: skip


def test_it_uses_post_earnings_returns_only_after_their_window_ends(real_panel):
    events = _events(
        [
            ("KO", "2018-04-24", "2018-04-24", 0.46, 0.47),
            ("KO", "2018-07-25", "2018-07-25", 0.60, 0.61),
        ]
    )
    data = EarningsData(events, pd.DataFrame(), pd.DataFrame())
    i = real_panel.row("KO")
    dates = real_panel.dates
    b2 = int(np.searchsorted(dates, np.datetime64("2018-07-25"))) - 1
    end2 = b2 + 21  # second window ends here

    def at(t: int) -> np.ndarray:
        row: np.ndarray = earnings_features_rows(
            data, real_panel.tickers, dates, real_panel.close, np.array([i]), np.array([t])
        )[0]
        return row

    assert np.isnan(at(end2 - 1)[COL["return_30d_avg"]])  # only one ended window: < 2
    b1 = int(np.searchsorted(dates, np.datetime64("2018-04-24"))) - 1
    c = real_panel.close[i]
    expected = np.mean([c[b1 + 21] / c[b1] - 1, c[end2] / c[b2] - 1])
    assert at(end2)[COL["return_30d_avg"]] == pytest.approx(expected)
    assert at(end2)[COL["beat_rate_4q"]] == 1.0
    assert np.isnan(at(end2)[COL["return_12m_avg"]])  # 12-month windows not ended yet


def test_it_uses_fundamentals_from_available_on_and_scores_them(real_panel):
    fu = pd.DataFrame(
        {
            "ticker": ["MSFT", "MSFT"],
            "period_end": ["2015-06-30", "2016-06-30"],
            "available_on": ["2015-07-31", "2016-07-28"],
            "revenue": [93.58e9, 85.32e9],
            "gross_profit": [60.54e9, 52.54e9],
            "operating_income": [18.16e9, 20.18e9],
            "net_income": [12.19e9, 16.80e9],
            "free_cash_flow": [23.7e9, 25.0e9],
            "total_equity": [80.08e9, 71.99e9],
            "total_debt": [35.3e9, 53.7e9],
        }
    )
    data = EarningsData(pd.DataFrame(), fu, pd.DataFrame())

    def at(day: str) -> np.ndarray:
        rows = _rows(real_panel, "MSFT", day)
        row: np.ndarray = earnings_features_rows(
            data, real_panel.tickers, real_panel.dates, real_panel.close, *rows
        )[0]
        return row

    before, after = at("2016-07-27"), at("2016-07-28")
    assert before[COL["net_margin"]] == pytest.approx(12.19 / 93.58)
    assert np.isnan(before[COL["revenue_growth_yoy"]])
    assert after[COL["net_margin"]] == pytest.approx(16.80 / 85.32)
    assert after[COL["revenue_growth_yoy"]] == pytest.approx(85.32 / 93.58 - 1)
    assert after[COL["roic"]] == pytest.approx(16.80 / (71.99 + 53.7))
    assert 0 <= after[COL["fundamental_score"]] <= 100
    assert np.isnan(after[COL["combined_score"]])  # no pattern score without events
    assert np.isnan(at("2015-07-30")[COL["gross_margin"]])


def test_it_makes_a_transcript_known_on_its_earnings_release_or_90_days_after_quarter_end():
    import datetime as dt

    from ingestion.calendar import trading_days

    dates = np.array(trading_days(dt.date(2021, 6, 1), dt.date(2022, 3, 31)), "datetime64[D]")
    tickers = np.array(["JCI", "KBR"])
    close = np.ones((2, len(dates)))
    transcripts = pd.DataFrame(
        {
            "ticker": ["JCI", "KBR"],
            "quarter": [3, 3],
            "year": [2021, 2021],
            "sentiment": [0.4, -0.2],
            "confidence": [0.7, 0.3],
            "guidance": [1.0, np.nan],
        }
    )
    # JCI's fiscal Q4 release of 2021-11-05 is the first event after the 2021-09-30 quarter end.
    events = _events(
        [
            ("JCI", "2021-07-30", "2021-08-02", 0.85, 0.85),
            ("JCI", "2021-11-05", "2021-11-08", 0.85, 0.85),
        ]
    )
    data = EarningsData(events, pd.DataFrame(), transcripts)

    def at(sym: int, day: str) -> np.ndarray:
        t = np.array([int(np.searchsorted(dates, np.datetime64(day)))])
        row: np.ndarray = earnings_features_rows(data, tickers, dates, close, np.array([sym]), t)[0]
        return row

    assert np.isnan(at(0, "2021-11-04")[COL["transcript_sentiment"]])
    jci = at(0, "2021-11-05")
    assert jci[COL["transcript_sentiment"]] == 0.4
    assert jci[COL["mgmt_confidence"]] == 0.7 and jci[COL["guidance_surprise"]] == 1.0
    # KBR has no event: quarter end + 90 days = 2021-12-29.
    assert np.isnan(at(1, "2021-12-28")[COL["transcript_sentiment"]])
    kbr = at(1, "2021-12-29")
    assert kbr[COL["transcript_sentiment"]] == -0.2
    assert np.isnan(kbr[COL["guidance_surprise"]])  # no guidance phrase: missing, not 0


def test_it_scores_real_transcripts_within_their_ranges():
    from features.transcripts import transcript_scores

    scores = transcript_scores()
    assert len(scores) == 2425  # every ECTSum call, deduplicated across splits
    assert scores["sentiment"].between(-1, 1).all()
    assert scores["confidence"].between(0, 1).all()
    assert set(scores["guidance"].dropna().unique()) <= {-1.0, 0.0, 1.0}
    # A real measurement varies across calls instead of sitting on one value.
    assert scores["sentiment"].std() > 0.1 and scores["confidence"].std() > 0.05
