"""Market-data providers behind one interface (``base.Provider``); ``get_provider(name)``."""

from __future__ import annotations

from typing import Any

from ingestion.providers.base import BarQuery, Provider


def get_provider(name: str, **kwargs: Any) -> Provider:
    if name == "replay":
        from ingestion.providers.replay import ReplayProvider

        return ReplayProvider(**kwargs)
    if name == "yfinance":
        from ingestion.providers.yahoo import YFinanceProvider

        return YFinanceProvider(**kwargs)
    raise ValueError(f"Unknown provider {name!r} (replay, yfinance)")


__all__ = ["BarQuery", "Provider", "get_provider"]
