"""Real price data from the shared CSVs, loaded once per test session."""

from __future__ import annotations

import pytest
from django.conf import settings

from features.panel import Panel

SYMBOLS = ["AAPL", "JPM", "KO", "MSFT", "XOM"]
PRICES = "prices/sp500_members_daily_2005_2025.csv.gz"


@pytest.fixture(scope="session")
def real_panel() -> Panel:
    """Five large S&P 500 members, 2014-01-02 .. 2019-12-31 (real bars, real gaps if any)."""
    return Panel.from_csv(
        settings.SHARED_DATA_DIR / PRICES, symbols=SYMBOLS, start="2014-01-01", end="2019-12-31"
    )
