"""The symbol page's feature table: names in contract order, a readable label, a display kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from features.definitions import (
    EARNINGS_FEATURES,
    FEATURE_LABELS,
    PERCENT_FEATURES,
    PRICE_FEATURES,
    TECHNICAL_FEATURES,
    USD_FEATURES,
)
from web.templatetags.market_format import as_float


@dataclass(frozen=True)
class FeatureRow:
    name: str
    label: str
    value: float | None
    kind: str  # "pct", "usd" or "number"


def feature_rows(values: dict[str, Any], *, earnings: bool) -> list[FeatureRow]:
    """Rows for the technical and price-action features (always) and the earnings features (on
    earnings days); a feature without a value is listed with None (shown as a dash)."""
    names = [*TECHNICAL_FEATURES, *PRICE_FEATURES, *(EARNINGS_FEATURES if earnings else ())]
    rows = []
    for name in names:
        kind = "pct" if name in PERCENT_FEATURES else "usd" if name in USD_FEATURES else "number"
        label = FEATURE_LABELS.get(name, name.replace("_", " ").capitalize())
        rows.append(FeatureRow(name, label, as_float(values.get(name)), kind))
    return rows
