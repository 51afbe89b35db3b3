"""``manage.py ingest`` prints its JSON summary; the index loads as ^GSPC."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from ingestion.models import PriceBar, QuarantinedBar, Symbol
from ingestion.tests.conftest import SP500, real_bars

pytestmark = pytest.mark.django_db


def ingest(**options: Any) -> dict[str, Any]:
    out = StringIO()
    call_command("ingest", stdout=out, **options)
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def test_it_backfills_a_file_and_prints_the_summary(tmp_path) -> None:
    bars = real_bars(SP500, ["FITB", "KO"], "2008-03-01", "2008-04-30")
    path = tmp_path / "prices.csv.gz"
    bars.assign(date=bars["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    s = ingest(provider="replay", file=str(path), symbols="FITB,KO", start=dt.date(2008, 3, 3))
    assert s["received"] == len(bars[bars["date"] >= "2008-03-03"])
    assert s["quarantined"] == 1 and s["quarantine_reasons"] == {"high_below_low": 1}
    assert QuarantinedBar.objects.get().ticker == "FITB"  # 2008-03-28, high 1.41004
    assert s["inserted"] == PriceBar.objects.count() == s["received"] - 1
    again = ingest(provider="replay", file=str(path), symbols="FITB,KO", start=dt.date(2008, 3, 3))
    assert again["inserted"] == 0 and again["unchanged"] == s["inserted"]


def test_it_loads_the_sp500_index_as_gspc() -> None:
    s = ingest(provider="replay", index=True, start=dt.date(2023, 12, 1))
    # OHLCV file to 2023-12-28, then the close-only file to 2026-08-21
    assert s["quarantined"] == 0 and s["inserted"] == s["received"] > 600
    gspc = Symbol.objects.get(ticker="^GSPC")
    assert gspc.asset_type == "index"
    last_ohlc = PriceBar.objects.get(
        symbol=gspc, timestamp=dt.datetime(2023, 12, 28, tzinfo=dt.UTC)
    )
    assert last_ohlc.close == pytest.approx(4783.350098) and last_ohlc.open != last_ohlc.close
    close_only = PriceBar.objects.get(
        symbol=gspc, timestamp=dt.datetime(2026, 8, 21, tzinfo=dt.UTC)
    )
    assert close_only.close == pytest.approx(7674.370117) == close_only.open


def test_it_refuses_a_file_for_yfinance() -> None:
    with pytest.raises(CommandError):
        ingest(provider="yfinance", file="/tmp/x.csv")


def test_it_skips_a_recorded_backfill_with_once(tmp_path) -> None:
    bars = real_bars(SP500, ["KO"], "2008-03-01", "2008-03-31")
    path = tmp_path / "ko.csv"
    bars.assign(date=bars["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    first = ingest(provider="replay", file=str(path), once=True)
    assert first["inserted"] == len(bars)
    second = ingest(provider="replay", file=str(path), once=True)
    assert second["skipped"] is True and second["previous_run"] == first["run_id"]
