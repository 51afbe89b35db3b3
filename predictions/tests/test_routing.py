"""Routing: the earnings calendar sends reaction-day symbols to the earnings model."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from ingestion.models import EarningsEvent, Symbol
from predictions.benchmarks.universe import make_symbols
from predictions.pipeline.routing import route

pytestmark = pytest.mark.django_db

FRIDAY = dt.date(2025, 7, 3)  # Thursday 2025-07-03; Friday 07-04 is a holiday
MONDAY = dt.date(2025, 7, 7)


def _event(ticker: str, reaction: dt.date, date: dt.date, eps_actual: float | None = 1.0):
    EarningsEvent.objects.create(
        symbol=Symbol.objects.get(ticker=ticker),
        date=date,
        reaction_date=reaction,
        eps_estimate=0.9,
        eps_actual=eps_actual,
        source="test",
    )


def test_it_routes_symbols_whose_next_trading_day_is_a_reaction_day():
    make_symbols(["AAA", "BBB", "CCC", "DDD"])
    _event("AAA", MONDAY, dt.date(2025, 7, 7))  # reacts on the next trading day
    _event("BBB", dt.date(2025, 7, 8), dt.date(2025, 7, 8))  # a day too late
    _event("DDD", FRIDAY, FRIDAY)  # already reacted today
    routing = route(np.array(["AAA", "BBB", "CCC", "DDD"]), FRIDAY)
    # 2025-07-04 is Independence Day: the next trading day after Thursday 07-03 is Monday.
    assert routing.target_date == MONDAY
    assert routing.is_earnings.tolist() == [True, False, False, False]
    assert routing.earnings_share == 0.25


def test_it_hides_actual_figures_not_yet_released_at_the_close_of_t():
    make_symbols(["AAA", "BBB"])
    _event("AAA", MONDAY, dt.date(2025, 7, 7), eps_actual=2.5)  # before the open on Monday
    _event("BBB", MONDAY, dt.date(2025, 7, 3), eps_actual=1.5)  # after the close on Thursday
    routing = route(np.array(["AAA", "BBB"]), FRIDAY)
    assert routing.events["AAA"]["eps_actual"] is None
    assert routing.events["BBB"]["eps_actual"] == 1.5
    assert routing.events["AAA"]["eps_estimate"] == 0.9


def test_it_routes_nothing_to_the_earnings_model_without_events():
    make_symbols(["AAA"])
    routing = route(np.array(["AAA", "ZZZ"]), MONDAY)
    assert routing.target_date == dt.date(2025, 7, 8)
    assert not routing.is_earnings.any()
