"""The yfinance provider, unmodified yfinance + curl_cffi, against a local server speaking
Yahoo's chart API with real shared-data values (see ``ingestion/tests/yahoo.py``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ingestion.models import PriceBar
from ingestion.pipeline import ingest_frame
from ingestion.providers import BarQuery
from ingestion.providers.yahoo import YFinanceProvider
from ingestion.tests.conftest import SP500, real_bars
from ingestion.tests.yahoo import LocalYahooSession, YahooServer

TICKERS = ["AAPL", "MSFT", "NVDA"]
D = dt.date


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return real_bars(SP500, TICKERS, "2025-05-01", "2025-07-09")


@pytest.fixture
def yahoo(history):
    # Not dict(groupby): a GroupBy has a ``keys`` attribute, which dict() would misread.
    with YahooServer({t: g for t, g in history.groupby("symbol")}) as server:  # noqa: C416
        yield server


def provider(yahoo, tmp_path, sleeps: list[float] | None = None, **kw) -> YFinanceProvider:
    return YFinanceProvider(
        LocalYahooSession(yahoo.url),
        cache_dir=tmp_path,
        sleep=(sleeps if sleeps is not None else []).append,
        **kw,
    )


def test_it_downloads_real_bars_in_batches(yahoo, tmp_path, history) -> None:
    p = provider(yahoo, tmp_path, batch_size=2)
    bars = p.fetch(BarQuery(symbols=tuple(TICKERS), start=D(2025, 6, 1), end=D(2025, 7, 9)))
    assert p.report()["downloads"] == 2  # 3 tickers, batches of 2
    assert sorted({t for t, _, s in yahoo.history_requests(200)}) == TICKERS
    expected = history[history["date"] >= "2025-06-01"].reset_index(drop=True)
    got = bars.sort_values(["symbol", "date"]).reset_index(drop=True)
    assert len(got) == len(expected) == 3 * 26  # 26 sessions 2025-06-02..07-09
    cols = ["open", "high", "low", "close", "volume"]
    assert (got[cols].to_numpy() == expected[cols].to_numpy()).all()
    assert (got["date"] == expected["date"]).all()


def test_it_backs_off_and_retries_after_http_429(yahoo, tmp_path) -> None:
    yahoo.fail_next["MSFT"] = 2  # yfinance retries once itself; the second 429 reaches us
    sleeps: list[float] = []
    p = provider(yahoo, tmp_path, sleeps, backoff_seconds=1.5)
    bars = p.fetch(BarQuery(symbols=("AAPL", "MSFT"), start=D(2025, 7, 1), end=D(2025, 7, 9)))
    assert sleeps == [1.5]
    assert [s for t, _, s in yahoo.history_requests() if t == "MSFT"] == [429, 429, 200]
    assert set(bars["symbol"]) == {"AAPL", "MSFT"} and p.report()["failed"] == {}


def test_it_gives_up_after_max_retries_and_reports_it(yahoo, tmp_path) -> None:
    yahoo.fail_next["NVDA"] = 100
    sleeps: list[float] = []
    p = provider(yahoo, tmp_path, sleeps, backoff_seconds=1.0, max_retries=3)
    bars = p.fetch(BarQuery(symbols=("AAPL", "NVDA"), start=D(2025, 7, 1), end=D(2025, 7, 9)))
    assert sleeps == [1.0, 2.0, 4.0]  # exponential
    assert set(bars["symbol"]) == {"AAPL"}
    assert "NVDA" in p.report()["failed"]


def test_it_does_not_retry_unknown_tickers(yahoo, tmp_path) -> None:
    sleeps: list[float] = []
    p = provider(yahoo, tmp_path, sleeps)
    p.fetch(BarQuery(symbols=("AAPL", "ZZZZQ"), start=D(2025, 7, 1), end=D(2025, 7, 9)))
    assert sleeps == [] and "ZZZZQ" in p.report()["failed"]


def test_it_serves_unchanged_history_from_its_cache(yahoo, tmp_path) -> None:
    p = provider(yahoo, tmp_path, refresh_days=5)
    query = BarQuery(symbols=tuple(TICKERS), start=D(2025, 5, 1), end=D(2025, 6, 30))
    first = p.fetch(query)
    n = len(yahoo.history_requests())
    # Same range again: everything older than 5 days before the newest cached bar is final,
    # but the tail (after 2025-06-25) is asked again, in one request per ticker.
    again = p.fetch(query)
    tail = yahoo.history_requests()[n:]
    assert len(tail) == 3
    since = {pd.Timestamp(int(params["period1"]), unit="s").date() for _, params, _ in tail}
    assert since == {D(2025, 6, 25)}
    assert (
        again.sort_values(["symbol", "date"])
        .reset_index(drop=True)
        .equals(first.sort_values(["symbol", "date"]).reset_index(drop=True))
    )
    # A range wholly inside the final part makes no request at all.
    n = len(yahoo.history_requests())
    old = p.fetch(BarQuery(symbols=tuple(TICKERS), start=D(2025, 5, 1), end=D(2025, 5, 30)))
    assert len(yahoo.history_requests()) == n and p.report()["cache_hits"] == 3
    assert len(old) == 3 * 21  # 21 sessions in May 2025


@pytest.mark.django_db
def test_it_feeds_the_same_pipeline_as_replay(yahoo, tmp_path) -> None:
    p = provider(yahoo, tmp_path)
    bars = p.fetch(BarQuery(symbols=("AAPL",), start=D(2025, 7, 1), end=D(2025, 7, 9)))
    s = ingest_frame(bars, provider="yfinance", mode="backfill")
    assert s["inserted"] == 6 and s["quarantined"] == 0
    bar = PriceBar.objects.get(timestamp=dt.datetime(2025, 7, 9, tzinfo=dt.UTC))
    assert bar.source == "yfinance" and bar.close == 211.14


@pytest.mark.django_db
def test_it_runs_a_live_cycle_from_yfinance_quotes(yahoo, tmp_path) -> None:
    from ingestion.live import yfinance_cycle
    from ingestion.models import Symbol

    for t in TICKERS:
        Symbol.objects.create(ticker=t)
    s = yfinance_cycle(provider(yahoo, tmp_path), today=D(2025, 7, 9))
    # the last 7 calendar days: 07-02, 07-03, 07-07, 07-08, 07-09 for 3 tickers
    assert s["trading_date"] == "2025-07-09" and s["inserted"] == 15 and s["mode"] == "live"
    assert s["provider_report"]["downloads"] == 1
