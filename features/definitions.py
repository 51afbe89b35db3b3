"""The feature names: the shared contract between the feature engine, training and serving.

The order is part of the contract: ``Dataset.X`` and ``LiveFeatures.X`` columns follow
``ALL_FEATURES``: the 20 ``TECHNICAL_FEATURES``, the 17 ``EARNINGS_FEATURES``, then the 12
``PRICE_FEATURES`` (appended, so the first 37 columns keep their places). Which of them a model
reads is in its metadata (``predictions.ml.data.feature_columns`` for new models). Formulas are
documented in ``features/technical.py``, ``features/earnings.py``, ``features/price_action.py``
and ``docs/features.md``.
"""

from __future__ import annotations

from core.enums import N_EARNINGS_FEATURES, N_PRICE_FEATURES, N_TECHNICAL_FEATURES

TECHNICAL_FEATURES: tuple[str, ...] = (
    "return_1d",
    "return_5d",
    "return_20d",
    "return_60d",
    "return_120d",
    "return_252d",
    "volatility_5d",
    "volatility_20d",
    "volatility_60d",
    "volume_ratio_5d",
    "volume_ratio_20d",
    "dollar_volume",
    "market_beta",
    "market_return",
    "market_volatility",
    "rsi_14",
    "macd",
    "sma_50_200_cross",
    "bollinger_position",
    "atr",
)

EARNINGS_FEATURES: tuple[str, ...] = (
    "eps_surprise_pct",
    "revenue_surprise_pct",
    "guidance_surprise",
    "transcript_sentiment",
    "mgmt_confidence",
    "gross_margin",
    "operating_margin",
    "net_margin",
    "revenue_growth_yoy",
    "roic",
    "fcf_margin",
    "fundamental_score",
    "return_12m_avg",
    "return_30d_avg",
    "beat_rate_4q",
    "pattern_score",
    "combined_score",
)

# OHLCV shape and very short moves (``features/price_action.py``).
PRICE_FEATURES: tuple[str, ...] = (
    "gap_1d",
    "intraday_return_1d",
    "range_1d",
    "close_location",
    "return_3d",
    "excess_return_1d",
    "excess_return_5d",
    "range_ratio_5_60",
    "distance_high_20d",
    "distance_low_20d",
    "distance_high_252d",
    "max_return_20d",
)

ALL_FEATURES: tuple[str, ...] = TECHNICAL_FEATURES + EARNINGS_FEATURES + PRICE_FEATURES

N_TECHNICAL = len(TECHNICAL_FEATURES)
N_EARNINGS = len(EARNINGS_FEATURES)
N_PRICE = len(PRICE_FEATURES)
N_FEATURES = len(ALL_FEATURES)
# Column slices of ``ALL_FEATURES``.
TECHNICAL_SLICE = slice(0, N_TECHNICAL)
EARNINGS_SLICE = slice(N_TECHNICAL, N_TECHNICAL + N_EARNINGS)
PRICE_SLICE = slice(N_TECHNICAL + N_EARNINGS, N_FEATURES)

assert (N_TECHNICAL, N_EARNINGS, N_PRICE) == (
    N_TECHNICAL_FEATURES,
    N_EARNINGS_FEATURES,
    N_PRICE_FEATURES,
)
assert len(set(ALL_FEATURES)) == N_FEATURES

# Column index of each feature in ALL_FEATURES order.
INDEX: dict[str, int] = {name: i for i, name in enumerate(ALL_FEATURES)}


# How to show a value: fractions shown as percentages, amounts in dollars, the rest as numbers.
PERCENT_FEATURES: frozenset[str] = frozenset(
    {
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
        "beat_rate_4q",
        "gap_1d",
        "intraday_return_1d",
        "range_1d",
        "return_3d",
        "excess_return_1d",
        "excess_return_5d",
        "distance_high_20d",
        "distance_low_20d",
        "distance_high_252d",
        "max_return_20d",
    }
)
USD_FEATURES: frozenset[str] = frozenset({"dollar_volume"})

FEATURE_LABELS: dict[str, str] = {
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
    "gap_1d": "Opening gap (open / previous close)",
    "intraday_return_1d": "Intraday return (close / open)",
    "range_1d": "Day's range (high - low) / close",
    "close_location": "Close within the day's range (-1 low, +1 high)",
    "return_3d": "Return, 3 days",
    "excess_return_1d": "Return over the S&P 500, 1 day",
    "excess_return_5d": "Return over the S&P 500, 5 days",
    "range_ratio_5_60": "Range, 5-day / 60-day average",
    "distance_high_20d": "Below 20-day high",
    "distance_low_20d": "Above 20-day low",
    "distance_high_252d": "Below 52-week high",
    "max_return_20d": "Largest daily return, 20 days",
}
