"""``load_reference_data`` on a real subset of the shared reference files."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from ingestion.models import EarningsEvent, Fundamentals, Symbol

pytestmark = pytest.mark.django_db

SUBSET = "AAPL,AAL,BRK-B,FITB,ZVZZT,^GSPC"


def load() -> dict[str, Any]:
    out = StringIO()
    call_command("load_reference_data", symbols=SUBSET, stdout=out)
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def test_it_loads_symbols_with_names_sectors_and_ciks() -> None:
    result = load()
    assert result["symbols"]["created"] == 6
    aapl = Symbol.objects.get(ticker="AAPL")
    assert (aapl.name, aapl.sector, aapl.cik, aapl.exchange) == (
        "Apple Inc.",
        "Information Technology",
        "0000320193",
        "NASDAQ",
    )
    assert aapl.industry == "Technology Hardware, Storage & Peripherals"
    brk = Symbol.objects.get(ticker="BRK-B")  # "BRK.B" in the S&P list
    assert brk.name == "Berkshire Hathaway" and brk.cik == "0001067983"
    index = Symbol.objects.get(ticker="^GSPC")
    assert (index.asset_type, index.name) == ("index", "S&P 500")
    zv = Symbol.objects.get(ticker="ZVZZT")  # only in the us_stocks universe and listing file
    assert zv.exchange == "NASDAQ" and zv.asset_type == "equity"


def test_it_stores_one_of_the_gics_sectors_or_none() -> None:
    from core.enums import GICS_SECTORS

    out = StringIO()
    # LUMN's latest snapshot names a sub-industry ("Alternative Carriers") in the sector column,
    # then the listing file says "Telecommunications"; GOOGL is in a sector created in 2018.
    call_command("load_reference_data", symbols="LUMN,GOOGL,AAPL", stdout=out)
    sectors = dict(Symbol.objects.values_list("ticker", "sector"))
    assert set(sectors.values()) <= {*GICS_SECTORS, ""}
    assert sectors["LUMN"] == "Communication Services"
    assert sectors["GOOGL"] == "Communication Services"
    assert sectors["AAPL"] == "Information Technology"


def test_it_loads_earnings_events_with_reaction_days() -> None:
    load()
    aapl = Symbol.objects.get(ticker="AAPL")
    ev = EarningsEvent.objects.get(symbol=aapl, date=dt.date(2023, 8, 3))
    # EPS row (1.19 est / 1.26 actual) and an 8-K the same day: released after the close,
    # first reflected by the close of Friday 2023-08-04.
    assert (ev.source, ev.eps_estimate, ev.eps_actual) == ("eps+edgar8k", 1.19, 1.26)
    assert ev.reaction_date == dt.date(2023, 8, 4) and ev.timing == "unknown"
    only_8k = EarningsEvent.objects.get(symbol=aapl, date=dt.date(2025, 7, 31))
    assert (only_8k.source, only_8k.reaction_date) == ("edgar8k", dt.date(2025, 7, 31))
    scheduled = EarningsEvent.objects.get(symbol=aapl, date=dt.date(2023, 10, 25))
    assert scheduled.eps_estimate == 1.3 and scheduled.eps_actual is None  # has_actual False
    sunday = EarningsEvent.objects.get(symbol__ticker="AAL", date=dt.date(2020, 10, 18))
    assert sunday.reaction_date == dt.date(2020, 10, 19)


def test_it_maps_fundamentals_point_in_time() -> None:
    load()
    f = Fundamentals.objects.get(symbol__ticker="AAL", period_end=dt.date(2012, 12, 31))
    assert f.operating_cash_flow == 1_285_000_000 and f.capital_expenditures == -1_888_000_000
    assert f.free_cash_flow == 1_285_000_000 - 1_888_000_000  # capex is negative in the source
    assert f.total_debt == 7_116_000_000 + 1_419_000_000
    assert f.total_debt is not None and f.total_equity is not None
    assert f.invested_capital == f.total_debt + f.total_equity
    assert (f.revenue, f.net_income, f.eps, f.fiscal_year) == (
        24_855_000_000,
        -1_876_000_000,
        -5.6,
        2012,
    )
    # period end + 90 days = Sunday 2013-03-31 -> first trading day 2013-04-01
    assert f.available_on == dt.date(2013, 4, 1)
    assert len(f.raw) == 79 and f.raw["Total Revenue"] == 24_855_000_000


def test_it_changes_nothing_on_a_second_run() -> None:
    first = load()
    counts = (Symbol.objects.count(), EarningsEvent.objects.count(), Fundamentals.objects.count())
    second = load()
    assert second["changed"] == 0 and second["message"] == "nothing changed"
    for table in ("symbols", "earnings_events", "fundamentals"):
        total = sum(first[table][k] for k in ("created", "updated", "unchanged"))
        assert second[table]["unchanged"] == total
    assert counts == (
        Symbol.objects.count(),
        EarningsEvent.objects.count(),
        Fundamentals.objects.count(),
    )
