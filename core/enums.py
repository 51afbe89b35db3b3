"""Names the whole platform shares: model kinds and types, and the size of the feature set.

``ModelKind`` names a trained model ("normal", "earnings": registry, commands, metrics);
``ModelType`` is what a prediction says it came from ("normal_day", "earnings_day": records,
API). The two mappings below are the only place that pairs them. ``HORIZONS`` names the forecast
horizons and which model kind serves each.
"""

from __future__ import annotations

from django.db import models


class ModelKind(models.TextChoices):
    NORMAL = "normal", "Normal day"
    EARNINGS = "earnings", "Earnings day"
    # Multi-horizon models (issue 19): the h-trading-day return close(t) -> close(t+h) of every
    # symbol (earnings days included), served beside the one-day prediction.
    HORIZON_5D = "horizon_5d", "5 trading days"
    HORIZON_20D = "horizon_20d", "20 trading days"


class ModelType(models.TextChoices):
    NORMAL_DAY = "normal_day", "Normal day"
    EARNINGS_DAY = "earnings_day", "Earnings day"
    # The type of a stored h-day forecast (a ``PredictionRecord`` row of its own, realised h
    # trading days later); the latest ``Prediction`` keeps its one-day type.
    HORIZON_5D = "horizon_5d", "5 trading days"
    HORIZON_20D = "horizon_20d", "20 trading days"


# Types of the one-day predictions (what the API's default payload and history serve).
ONE_DAY_TYPES: tuple[str, ...] = (ModelType.NORMAL_DAY, ModelType.EARNINGS_DAY)

TYPE_OF_KIND: dict[str, str] = {
    ModelKind.NORMAL: ModelType.NORMAL_DAY,
    ModelKind.EARNINGS: ModelType.EARNINGS_DAY,
    ModelKind.HORIZON_5D: ModelType.HORIZON_5D,
    ModelKind.HORIZON_20D: ModelType.HORIZON_20D,
}
KIND_OF_TYPE: dict[str, str] = {v: k for k, v in TYPE_OF_KIND.items()}

# Forecast horizons in trading days (issue 19). The one-day forecast comes from the routed
# normal/earnings model; each longer horizon has its own model kind, and a prediction of day t
# for horizon h targets the h-th NYSE trading day after t.
HORIZONS: tuple[int, ...] = (1, 5, 20)
BASE_HORIZON = 1
KIND_OF_HORIZON: dict[int, str] = {5: ModelKind.HORIZON_5D, 20: ModelKind.HORIZON_20D}
HORIZON_OF_KIND: dict[str, int] = {
    ModelKind.NORMAL: 1,
    ModelKind.EARNINGS: 1,
    **{kind: h for h, kind in KIND_OF_HORIZON.items()},
}

# The feature set of architecture §3 (20 technical, 17 earnings) plus 12 price-action features
# derived from the same OHLCV bars (issue 13). The models' inputs are listed in their metadata;
# ``features.definitions`` lists the names and checks the counts.
N_TECHNICAL_FEATURES = 20
N_EARNINGS_FEATURES = 17
N_PRICE_FEATURES = 12
N_FEATURES = N_TECHNICAL_FEATURES + N_EARNINGS_FEATURES + N_PRICE_FEATURES

# The 11 GICS sectors (since 2018), the one sector taxonomy stored for a symbol: the sector
# inputs of the models group a day's symbols by it (issue 13). Older GICS names and the NASDAQ
# listing file's own sector names map onto it; any other label (a sub-industry in a sector
# column, "Miscellaneous") is not a sector.
GICS_SECTORS: tuple[str, ...] = (
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
)
SECTOR_ALIASES: dict[str, str] = {
    "Telecommunications Services": "Communication Services",  # GICS before 2018
    "Telecommunication Services": "Communication Services",
    "Telecommunications": "Communication Services",  # NASDAQ listing file
    "Finance": "Financials",
    "Technology": "Information Technology",
    "Basic Materials": "Materials",
}


def gics_sector(label: str) -> str:
    """The GICS sector a label names, or "" when it names none."""
    label = " ".join(label.split())
    if label in GICS_SECTORS:
        return label
    return SECTOR_ALIASES.get(label, "")
