"""The symbol page's feature table: names in contract order, a readable label, a display kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from features.definitions import EARNINGS_FEATURES, TECHNICAL_FEATURES
from web.templatetags.market_format import as_float

# Fractions shown as percentages; everything else as a plain number ("usd" as a dollar amount).
_PERCENT = {
    "return_1d",
    "return_5d",
    "return_20d",
    "return_60d",
    "return_120d",
    "return_252d",
    "volatility_5d",
    "volatility_20d",
    "volatility_60d",
    "market_return",
    "market_volatility",
    "eps_surprise_pct",
    "revenue_surprise_pct",
    "gross_margin",
    "operating_margin",
    "net_margin",
    "revenue_growth_yoy",
    "roic",
    "fcf_margin",
    "return_12m_avg",
    "return_30d_avg",
}
_USD = {"dollar_volume"}

LABELS: dict[str, str] = {
    "return_1d": "Return, 1 day",
    "return_5d": "Return, 5 days",
    "return_20d": "Return, 20 days",
    "return_60d": "Return, 60 days",
    "return_120d": "Return, 120 days",
    "return_252d": "Return, 1 year",
    "volatility_5d": "Volatility, 5 days (annualised)",
    "volatility_20d": "Volatility, 20 days (annualised)",
    "volatility_60d": "Volatility, 60 days (annualised)",
    "volume_ratio_5d": "Volume / 5-day average",
    "volume_ratio_20d": "Volume / 20-day average",
    "dollar_volume": "Dollar volume",
    "market_beta": "Beta to the S&P 500",
    "market_return": "S&P 500 return, 1 day",
    "market_volatility": "S&P 500 volatility (annualised)",
    "rsi_14": "RSI (14 days)",
    "macd": "MACD (EMA 12 - EMA 26)",
    "sma_50_200_cross": "SMA 50 above SMA 200 (1 = yes)",
    "bollinger_position": "Position in Bollinger bands (0-1)",
    "atr": "Average true range (14 days)",
    "eps_surprise_pct": "EPS surprise",
    "revenue_surprise_pct": "Revenue surprise",
    "guidance_surprise": "Guidance (-1 lowered, +1 raised)",
    "transcript_sentiment": "Call sentiment (-1 to +1)",
    "mgmt_confidence": "Management confidence (0-1)",
    "gross_margin": "Gross margin",
    "operating_margin": "Operating margin",
    "net_margin": "Net margin",
    "revenue_growth_yoy": "Revenue growth, year on year",
    "roic": "Return on invested capital",
    "fcf_margin": "Free cash flow margin",
    "fundamental_score": "Fundamental score (0-100)",
    "return_12m_avg": "Avg 12-month return after past releases",
    "return_30d_avg": "Avg 30-day return after past releases",
    "beat_rate_4q": "Beat rate, last 4 quarters",
    "pattern_score": "Pattern score (0-100)",
    "combined_score": "Combined score (0-100)",
}


@dataclass(frozen=True)
class FeatureRow:
    name: str
    label: str
    value: float | None
    kind: str  # "pct", "usd" or "number"


def feature_rows(values: dict[str, Any], *, earnings: bool) -> list[FeatureRow]:
    """Rows for the technical features (always) and the earnings features (on earnings days),
    in contract order; a feature without a value is listed with None (shown as a dash)."""
    names = list(TECHNICAL_FEATURES) + (list(EARNINGS_FEATURES) if earnings else [])
    rows = []
    for name in names:
        kind = "pct" if name in _PERCENT else "usd" if name in _USD else "number"
        label = LABELS.get(name, name.replace("_", " ").capitalize())
        rows.append(FeatureRow(name, label, as_float(values.get(name)), kind))
    return rows
