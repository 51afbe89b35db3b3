"""Bulk idempotent storage through the ingestion pipeline, on real subsets of the shared data."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ingestion.models import IngestionRun, PriceBar, QuarantinedBar, Symbol
from ingestion.pipeline import ingest_frame
from ingestion.tests.conftest import SP500, real_bars

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def subset() -> pd.DataFrame:
    # AVB and FITB 2008-2012 hold real dirty bars (FITB 2008-03-28, AVB 2011-06-14,
    # 2012-11-19, 2012-12-21); AAPL is clean.
    return real_bars(SP500, ["AAPL", "AVB", "FITB"], "2008-01-01", "2012-12-31")


def test_it_stores_accepted_bars_and_counts_every_row(subset) -> None:
    s = ingest_frame(subset, provider="replay", mode="backfill")
    assert s["received"] == len(subset)
    assert s["quarantined"] == 4 and s["quarantine_new"] == 4
    assert s["inserted"] == s["accepted"] == len(subset) - 4
    assert s["received"] == s["accepted"] + s["quarantined"] + s["duplicates"]
    assert PriceBar.objects.count() == len(subset) - 4
    bar = PriceBar.objects.get(
        symbol__ticker="AAPL", timestamp=dt.datetime(2012, 12, 31, tzinfo=dt.UTC)
    )
    src = subset[(subset["symbol"] == "AAPL") & (subset["date"] == "2012-12-31")].iloc[0]
    assert (bar.open, bar.close, bar.volume) == (src["open"], src["close"], src["volume"])
    assert bar.interval == "1d" and bar.source == "replay"
    run = IngestionRun.objects.get(pk=s["run_id"])
    assert (run.status, run.inserted, run.quarantined) == ("ok", s["inserted"], 4)
    assert Symbol.objects.get(ticker="AVB").exchange == "NYSE"


def test_it_changes_nothing_on_a_second_run(subset) -> None:
    ingest_frame(subset, provider="replay", mode="backfill")
    bars_before = PriceBar.objects.count()
    ids_before = set(PriceBar.objects.values_list("id", flat=True))
    again = ingest_frame(subset, provider="replay", mode="backfill")
    assert again["inserted"] == 0 and again["updated"] == 0
    assert again["unchanged"] == len(subset) - 4
    assert again["quarantined"] == 4 and again["quarantine_new"] == 0  # not written twice
    assert PriceBar.objects.count() == bars_before
    assert set(PriceBar.objects.values_list("id", flat=True)) == ids_before
    assert QuarantinedBar.objects.count() == 4


def test_it_counts_a_revised_bar_as_updated(subset) -> None:
    ingest_frame(subset, provider="replay", mode="backfill")
    revised = subset[(subset["symbol"] == "AAPL") & (subset["date"] >= "2012-12-24")].copy()
    revised.loc[revised["date"] == "2012-12-27", "volume"] += 100  # a late print
    s = ingest_frame(revised, provider="yfinance", mode="backfill")
    assert (s["inserted"], s["updated"], s["unchanged"]) == (0, 1, len(revised) - 1)
    bar = PriceBar.objects.get(
        symbol__ticker="AAPL", timestamp=dt.datetime(2012, 12, 27, tzinfo=dt.UTC)
    )
    assert bar.source == "yfinance"
    untouched = PriceBar.objects.get(
        symbol__ticker="AAPL", timestamp=dt.datetime(2012, 12, 28, tzinfo=dt.UTC)
    )
    assert untouched.source == "replay"  # equal values are not rewritten


def test_it_stores_a_bulk_batch_through_the_fast_path(subset, settings) -> None:
    from ingestion import storage

    big = real_bars(SP500, ["AAPL", "MSFT", "IBM", "KO", "XOM"], "2005-01-01", "2025-12-31")
    assert len(big) >= storage.BULK_ROWS / 4
    old = storage.BULK_ROWS
    storage.BULK_ROWS = 1000  # exercise the replica-role path on a test-sized batch
    try:
        s = ingest_frame(big, provider="replay", mode="backfill")
    finally:
        storage.BULK_ROWS = old
    assert s["inserted"] + s["quarantined"] == len(big)
    assert PriceBar.objects.count() == s["inserted"]
    # every stored bar points at an existing symbol (the skipped FK checks could not fail)
    assert not PriceBar.objects.exclude(symbol__in=Symbol.objects.all()).exists()


def test_it_finds_each_ticker_latest_close_before_a_live_batch(subset) -> None:
    from ingestion.storage import previous_closes

    days = sorted(subset["date"].unique())
    history = subset[subset["date"] <= days[-3]]
    # FITB has no bar on the last stored day (halted): its close is the day before's.
    halted = (subset["symbol"] == "FITB") & (subset["date"] == days[-2])
    ingest_frame(pd.concat([history, subset[(subset["date"] == days[-2]) & ~halted]]),
                 provider="replay", mode="backfill")  # fmt: skip
    batch = subset[subset["date"] == days[-1]]
    found = previous_closes(batch)

    def close_on(ticker: str, day: str) -> float:
        rows = subset[(subset["symbol"] == ticker) & (subset["date"] == day)]
        return float(rows["close"].iloc[0])

    assert found["AAPL"].close == close_on("AAPL", days[-2])
    assert found["AVB"].close == close_on("AVB", days[-2])
    assert found["FITB"].close == close_on("FITB", days[-3])
    # A ticker never stored has no previous close.
    unknown = batch.iloc[:1].assign(symbol="ZZZZ")
    assert "ZZZZ" not in previous_closes(unknown)
