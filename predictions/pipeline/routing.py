"""Routing: which symbols are predicted by the earnings-day model.

Contract: a prediction from day t is an earnings-day prediction iff the symbol has an
``EarningsEvent`` with ``reaction_date == next_trading_day(t)``. The calendar of scheduled dates
is known in advance, so routing on it is point-in-time. One query for the whole universe, then a
vectorised ``np.isin`` over the tickers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingestion.models import EarningsEvent
from predictions.pipeline.days import next_trading_day


@dataclass(frozen=True)
class Routing:
    target_date: dt.date
    is_earnings: np.ndarray  # (S,) bool, aligned with the tickers routed
    events: dict[str, dict[str, Any]]  # ticker -> earnings context of its reaction-day event

    @property
    def earnings_share(self) -> float:
        return float(self.is_earnings.mean()) if self.is_earnings.size else 0.0


def route(tickers: np.ndarray, data_date: dt.date) -> Routing:
    target = next_trading_day(data_date)
    rows = EarningsEvent.objects.filter(reaction_date=target).values_list(
        "symbol__ticker", "date", "timing", "eps_estimate", "eps_actual"
    )
    events: dict[str, dict[str, Any]] = {}
    for ticker, date, timing, eps_estimate, eps_actual in rows:
        events[ticker] = {
            "announcement_date": date.isoformat(),
            "reaction_date": target.isoformat(),
            "timing": timing,
            "eps_estimate": eps_estimate,
            # Actual figures only once released by the close of t (contract, point in time).
            "eps_actual": eps_actual if date <= data_date else None,
        }
    tickers = np.asarray(tickers, dtype=str)
    mask = np.isin(tickers, np.fromiter(events, dtype=object).astype(str)) if events else None
    if mask is None:
        mask = np.zeros(tickers.shape, dtype=bool)
    return Routing(target_date=target, is_earnings=mask, events=events)
