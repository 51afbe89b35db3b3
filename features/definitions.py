"""The feature names: the shared contract between the feature engine, training and serving.

The order is part of the contract: ``Dataset.X`` and ``LiveFeatures.X`` columns follow
``ALL_FEATURES``; the "normal" model reads the first 20 (``TECHNICAL_FEATURES``), the "earnings"
model all 37. Formulas are documented in ``features/technical.py``, ``features/earnings.py`` and
``docs/features.md``.
"""

from __future__ import annotations

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

ALL_FEATURES: tuple[str, ...] = TECHNICAL_FEATURES + EARNINGS_FEATURES

N_TECHNICAL = len(TECHNICAL_FEATURES)
N_EARNINGS = len(EARNINGS_FEATURES)
N_FEATURES = len(ALL_FEATURES)

assert N_TECHNICAL == 20 and N_EARNINGS == 17 and N_FEATURES == 37
assert len(set(ALL_FEATURES)) == N_FEATURES

# Column index of each feature in ALL_FEATURES order.
INDEX: dict[str, int] = {name: i for i, name in enumerate(ALL_FEATURES)}
