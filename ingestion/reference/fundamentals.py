"""Annual 10-K figures from ``fundamentals/fundamentals_annual_2012_2016.csv`` (79 columns).

Column mapping (source column -> ``Fundamentals`` field):
- Total Revenue -> revenue; Cost of Revenue -> cost_of_revenue; Gross Profit -> gross_profit;
  Operating Income -> operating_income; Net Income -> net_income;
- Net Cash Flow-Operating -> operating_cash_flow;
- Capital Expenditures -> capital_expenditures, kept with the source's sign: it is NEGATIVE
  (cash out; 1,780 of 1,781 rows are <= 0), so free_cash_flow = operating_cash_flow +
  capital_expenditures;
- Total Assets -> total_assets; Total Equity -> total_equity;
- total_debt = Long-Term Debt + Short-Term Debt / Current Portion of Long-Term Debt (a missing
  part counts as 0, both missing -> unknown);
- invested_capital = total_debt + total_equity (the financing view of invested capital; no cash
  netting, because the source's cash line mixes restricted cash for some issuers);
- Earnings Per Share -> eps; For Year -> fiscal_year; Period Ending -> period_end.
All 79 raw columns are kept in ``raw``.

Point in time: ``available_on`` = the first trading day on or after period_end + 90 days. 10-K
deadlines are 60 days (large accelerated filers), 75 (accelerated) and 90 (others); using the
longest means a figure is never used before it could have been public.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd

from ingestion.calendar import on_or_after
from ingestion.reference.earnings import normalise_ticker

FILE = "fundamentals/fundamentals_annual_2012_2016.csv"
FILING_LAG_DAYS = 90
SOURCE = "fundamentals_annual_2016"

DIRECT = {
    "revenue": "Total Revenue",
    "cost_of_revenue": "Cost of Revenue",
    "gross_profit": "Gross Profit",
    "operating_income": "Operating Income",
    "net_income": "Net Income",
    "operating_cash_flow": "Net Cash Flow-Operating",
    "capital_expenditures": "Capital Expenditures",
    "total_assets": "Total Assets",
    "total_equity": "Total Equity",
    "eps": "Earnings Per Share",
}


def _num(value: Any) -> float | None:  # a CSV cell, as pandas read it
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _add(a: float | None, b: float | None) -> float | None:
    if a is None and b is None:
        return None
    return (a or 0.0) + (b or 0.0)


def fundamentals_rows(data_dir: Path) -> list[dict[str, Any]]:
    df = pd.read_csv(data_dir / FILE)
    rows = []
    for rec in df.to_dict("records"):
        period_end = (
            dt.datetime.strptime(str(rec["Period Ending"]), "%m/%d/%Y")
            .replace(tzinfo=dt.UTC)
            .date()
        )
        row: dict[str, Any] = {k: _num(rec[col]) for k, col in DIRECT.items()}
        ocf, capex = row["operating_cash_flow"], row["capital_expenditures"]
        row["free_cash_flow"] = None if ocf is None or capex is None else ocf + capex
        row["total_debt"] = _add(
            _num(rec["Long-Term Debt"]),
            _num(rec["Short-Term Debt / Current Portion of Long-Term Debt"]),
        )
        debt, equity = row["total_debt"], row["total_equity"]
        row["invested_capital"] = None if debt is None or equity is None else debt + equity
        year = _num(rec["For Year"])
        row.update(
            ticker=normalise_ticker(rec["Ticker Symbol"]),
            period_end=period_end,
            period_type="annual",
            fiscal_year=int(year) if year is not None else None,
            available_on=on_or_after(period_end + dt.timedelta(days=FILING_LAG_DAYS)),
            source=SOURCE,
            raw={
                k: (_num(v) if k != "Ticker Symbol" and k != "Period Ending" else v)
                for k, v in rec.items()
            },
        )
        rows.append(row)
    return rows
